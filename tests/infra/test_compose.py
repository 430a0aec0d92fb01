"""infra/compose.yaml: valid against the Compose specification, one command brings up the whole platform."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.infra.conftest import INFRA

COMPOSE = INFRA / "compose.yaml"
PLATFORM_SERVICES = {"migrate", "web", "worker-interactive", "worker", "worker-broadcasts", "beat"}
DEMO_SERVICES = {"simulator", "stripe-fake", "demo-seed"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def check_jsonschema(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_compose_file_is_valid_against_the_compose_specification():
    result = check_jsonschema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_refuses_a_misspelt_key(tmp_path):
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("stop_grace_period: 30s", "stop_grace_periods: 30s"))
    result = check_jsonschema(broken)
    assert result.returncode == 1
    assert "stop_grace_periods" in result.stdout


def test_docker_compose_accepts_it_where_the_compose_plugin_exists():
    docker = shutil.which("docker")
    if not docker or subprocess.run([docker, "compose", "version"], capture_output=True, check=False).returncode:
        pytest.skip("no `docker compose` on this machine; the schema test above stands in")
    command = [docker, "compose", "-f", str(COMPOSE), "config", "--quiet"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_every_platform_process_and_the_demo_stand_ins_are_services(compose, roles):
    services = compose["services"]
    assert set(services) == {"postgres", "redis"} | PLATFORM_SERVICES | DEMO_SERVICES
    for name in PLATFORM_SERVICES | {"simulator", "stripe-fake"}:
        assert services[name]["command"][0] in roles, name
        assert services[name]["image"] == services["web"]["image"], name
    for name in DEMO_SERVICES:
        assert services[name]["profiles"] == ["demo"], name
    assert services["beat"]["deploy"]["replicas"] == 1


def test_platform_processes_share_one_environment_and_start_after_the_migrations(compose):
    services = compose["services"]
    environments = {name: services[name]["environment"] for name in PLATFORM_SERVICES | DEMO_SERVICES}
    assert all(env == environments["web"] for env in environments.values())
    assert services["migrate"]["restart"] == "no"
    assert set(services["migrate"]["depends_on"]) == {"postgres", "redis"}
    for name in PLATFORM_SERVICES - {"migrate"}:
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
        assert services[name]["depends_on"]["postgres"] == {"condition": "service_healthy"}, name


def test_long_running_services_have_healthchecks(compose):
    services = compose["services"]
    for name in {"postgres", "redis", "web", "worker-interactive", "worker", "worker-broadcasts"}:
        assert services[name]["healthcheck"]["test"], name
    assert services["web"]["healthcheck"]["test"] == ["CMD", "/app/infra/entrypoint.sh", "healthcheck"]
    queues = {"worker-interactive": "interactive", "worker": "default", "worker-broadcasts": "broadcasts"}
    for name, queue in queues.items():
        assert f"-d {queue}@$$HOSTNAME" in services[name]["healthcheck"]["test"][1], name


def test_every_variable_compose_reads_is_documented_in_the_env_example_and_none_is_left_over():
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", COMPOSE.read_text()))
    example = {
        line.split("=", 1)[0]
        for line in (INFRA / "env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert example <= used, f"env.example sets variables compose never reads: {example - used}"
    undocumented = used - example
    # Connection strings, image and port have working defaults derived from the services above.
    assert undocumented <= {
        "WARUNG_IMAGE", "WEB_PORT", "DATABASE_URL", "REDIS_URL", "EXTRA_ALLOWED_HOSTS", "WHATSAPP_GRAPH_VERSION",
        "DEFAULT_FROM_EMAIL", "CONN_MAX_AGE", "BROADCAST_SENDERS",
    }, undocumented  # fmt: skip
