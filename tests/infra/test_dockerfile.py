"""infra/Dockerfile: read as Docker would, since these machines have no engine to build it."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.infra.conftest import INFRA, ROOT

DOCKERFILE = INFRA / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: comment lines dropped first (as Docker does, even inside a
    continued instruction), then continuation lines joined."""
    lines = [line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")]
    text = re.sub(r"\\\n", " ", "\n".join(lines))
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            keyword, _, rest = line.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def stages() -> dict[str, list[tuple[str, str]]]:
    named: dict[str, list[tuple[str, str]]] = {}
    current = None
    for keyword, rest in instructions():
        if keyword == "FROM":
            base, _, name = rest.partition(" AS ")
            current = name.strip()
            named[current] = [("FROM", base.strip())]
        elif current:
            named[current].append((keyword, rest))
    return named


def test_three_stages_frontend_dependencies_and_a_python_311_slim_runtime():
    built = stages()
    assert list(built) == ["frontend", "python-deps", "runtime"]
    assert built["frontend"][0][1].startswith("node:20")
    assert built["runtime"][0][1] == "python:3.11-slim"
    frontend = " ".join(rest for _, rest in built["frontend"])
    assert "frontend/package-lock.json" in frontend and "npm ci" in frontend
    assert "-r /tmp/requirements.lock" in " ".join(rest for _, rest in built["python-deps"])


def test_runtime_runs_as_a_user_without_privileges_through_the_entrypoint():
    runtime = stages()["runtime"]
    users = [rest for keyword, rest in runtime if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    entrypoint = next(rest for keyword, rest in runtime if keyword == "ENTRYPOINT")
    assert entrypoint == '["/app/infra/entrypoint.sh"]'


def test_platform_stays_a_source_root_on_the_import_path():
    env = " ".join(rest for keyword, rest in stages()["runtime"] if keyword == "ENV")
    assert "PYTHONPATH=/app/platform:/app" in env
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_the_image_holds_every_first_party_app_and_the_built_dashboard():
    copies = [shlex.split(rest) for keyword, rest in stages()["runtime"] if keyword == "COPY"]
    from_context = {source.rstrip("/") for args in copies if not args[0].startswith("--from") for source in args[:-1]}
    first_party = {app.split(".")[0] for app in settings.INSTALLED_APPS if (ROOT / app.split(".")[0]).is_dir()}
    assert first_party and first_party <= from_context
    assert {"platform", "manage.py", "locale", "infra/entrypoint.sh", "infra/gunicorn.conf.py"} <= from_context
    for source in from_context:
        assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    assert ["--from=frontend", "/src/frontend/dist/", "frontend/dist/"] in copies


@pytest.mark.parametrize("excluded", [".git", ".venv", "frontend/node_modules", "infra/.env", "var"])
def test_build_context_leaves_out_local_state_and_secrets(excluded):
    assert excluded in (INFRA / "Dockerfile.dockerignore").read_text().splitlines()


def hadolint(path: Path) -> subprocess.CompletedProcess:
    binary = Path(sys.executable).parent / "hadolint"
    return subprocess.run([str(binary), "--no-color", str(path)], capture_output=True, text=True, check=False)


def test_hadolint_finds_nothing_to_fix():
    result = hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_would_refuse_a_runtime_left_running_as_root(tmp_path):
    as_root = tmp_path / "Dockerfile"
    as_root.write_text(DOCKERFILE.read_text().replace("USER 10001:10001", "USER root"))
    result = hadolint(as_root)
    assert result.returncode == 1
    assert "DL3002" in result.stdout  # last USER should not be root
