"""The web server, Celery workers and beat as `make run` starts them; the load test starts the same ones."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def web_command(bind: str) -> list[str]:
    return [PYTHON, "-m", "gunicorn", "-c", str(ROOT / "infra" / "gunicorn.conf.py"), "-b", bind]


def worker_commands(name_suffix: str = "") -> dict[str, list[str]]:
    """One worker per queue; `name_suffix` keeps node names apart when several sets share a broker."""
    celery = [PYTHON, "-m", "celery", "-A", "config", "worker", "-l", "info"]
    return {
        # Customer-facing work (inbound messages, replies) has workers of its own: processes, since
        # processing is CPU-bound Python between short database waits (one process is one GIL).
        "worker-interactive": [*celery, "--pool", "prefork", "--concurrency", "4", "-Q", "interactive",
                               "-n", f"interactive{name_suffix}@%h"],
        "worker": [*celery, "--pool", "threads", "--concurrency", "8", "-Q", "default",
                   "-n", f"default{name_suffix}@%h"],
        # Broadcast senders: each task is an asyncio send loop, so one per process (one GIL each).
        "worker-broadcasts": [*celery, "--pool", "prefork", "--concurrency", "2", "-Q", "broadcasts",
                              "-n", f"broadcasts{name_suffix}@%h"],
    }  # fmt: skip


def beat_command(schedule: Path) -> list[str]:
    return [PYTHON, "-m", "celery", "-A", "config", "beat", "-l", "info", "-s", str(schedule)]
