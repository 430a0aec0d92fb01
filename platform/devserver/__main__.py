"""`python -m devserver run|test|bench|exec`: the two commands of the README, and benchmarks.

Each starts embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL are set,
passes them to its children through the environment, and stops everything on exit.
"""

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import processes
from .services import embedded_services

ROOT = Path(__file__).resolve().parents[2]
VAR = ROOT / "var"
PYTHON = sys.executable


def child_env(services_env: dict[str, str], **extra: str) -> dict[str, str]:
    env = {**os.environ, **services_env, **extra}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "platform"), str(ROOT), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    return env


def metrics_dir(data_dir: Path) -> str:
    """An empty folder where every process of this run keeps its Prometheus counters (see config/metrics.py)."""
    folder = data_dir / "metrics"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return str(folder)


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, check=True)


def run(args: argparse.Namespace) -> int:
    port = os.environ.get("PORT", "8000")
    sim_port = os.environ.get("SIMULATOR_PORT", "8010")
    stripe_port = os.environ.get("STRIPE_PORT", "12111")
    platform_domain = os.environ.get("PLATFORM_DOMAIN", f"localhost:{port}")
    with embedded_services(VAR / "run", database="warung") as services:
        env = child_env(
            services,
            PLATFORM_DOMAIN=platform_domain,
            WHATSAPP_GRAPH_BASE_URL=os.environ.get("WHATSAPP_GRAPH_BASE_URL", f"http://127.0.0.1:{sim_port}"),
            STRIPE_API_BASE=os.environ.get("STRIPE_API_BASE", f"http://127.0.0.1:{stripe_port}"),
            STRIPE_WEBHOOK_SECRET=os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_warung_local"),
            PROMETHEUS_MULTIPROC_DIR=metrics_dir(VAR / "run"),
        )
        # The simulators of WhatsApp and of Stripe; the Stripe stand-in posts its signed events to our webhook.
        helpers = {
            "simulator": [PYTHON, "-m", "whatsapp.simulator", "--host", "127.0.0.1", "--port", sim_port],
            "stripe": [
                PYTHON, "-m", "billing.stripe_fake", "--host", "127.0.0.1", "--port", stripe_port,
                "--webhook-url", f"http://{platform_domain}/webhooks/stripe/",
                "--webhook-secret", env["STRIPE_WEBHOOK_SECRET"],
            ],
        }  # fmt: skip
        started = {
            name: subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True) for name, cmd in helpers.items()
        }
        try:
            manage(env, "bootstrap_platform")
            manage(env, "seed_demo")
            manage(env, "connect_demo_whatsapp")
            commands = {
                "web": processes.web_command(f"127.0.0.1:{port}"),
                **processes.worker_commands(),
                "beat": processes.beat_command(VAR / "run" / "celerybeat-schedule"),
            }
            children = {
                name: subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True) for name, cmd in commands.items()
            }
            children.update(started)
            print(
                f"\nWarung CRM is running on http://localhost:{port}/ — Ctrl-C stops everything.\n"
                f"WhatsApp simulator: http://127.0.0.1:{sim_port}/   Stripe stand-in: {env['STRIPE_API_BASE']}/\n"
                f"Operators: http://localhost:{port}/console/health/ and /metrics (signed in to the console)\n",
                flush=True,
            )
            return _supervise(children)
        finally:
            for helper in started.values():
                if helper.poll() is None:
                    helper.terminate()
                    helper.wait(timeout=10)


def _supervise(children: dict[str, subprocess.Popen]) -> int:
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                print(f"[run] {name} exited with {child.returncode}; stopping", file=sys.stderr)
                stopping, code = True, child.returncode or 1
        time.sleep(0.5)
    for child in children.values():
        if child.poll() is None:
            _signal_group(child, signal.SIGTERM)
    for child in children.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=15)
        _signal_group(child, signal.SIGKILL)  # with its children: gunicorn's workers, Celery's pool
    return code


def _signal_group(child: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signum)


def test(args: argparse.Namespace) -> int:
    frontend_code = 0
    if not args.backend_only:
        # Frontend unit tests first, so that pytest's summary is the run's closing line.
        frontend_code = subprocess.run(["npm", "test", "--silent"], cwd=ROOT / "frontend", check=False).returncode
    with embedded_services(VAR / "test", database="warung") as services:
        env = child_env(services, SHOP_POOL_SIZE="2", PROMETHEUS_MULTIPROC_DIR=metrics_dir(VAR / "test"))
        pytest_code = subprocess.run([PYTHON, "-m", "pytest", *args.rest], env=env, cwd=ROOT, check=False).returncode
    return pytest_code or frontend_code


def bench(args: argparse.Namespace) -> int:
    names = [args.name] if args.name else sorted(p.stem.removeprefix("bench_") for p in BENCHMARKS.glob("bench_*.py"))
    code = 0
    with embedded_services(VAR / "bench", database="warung_bench") as services:
        env = child_env(services)
        for name in names:
            script = BENCHMARKS / f"bench_{name}.py"
            if not script.exists():
                print(f"no benchmark named {name!r}", file=sys.stderr)
                return 2
            code = subprocess.run([PYTHON, str(script)], env=env, cwd=ROOT, check=False).returncode or code
    return code


def load(args: argparse.Namespace) -> int:
    """The load test (tests/load): shops, servers and workers on their own database; its data stays for the next
    run, which then signs up only the shops still missing."""
    with embedded_services(VAR / "load", database="warung_load") as services:
        harness = [PYTHON, "-m", "tests.load.harness"]
        return subprocess.run(harness, env=child_env(services), cwd=ROOT, check=False).returncode


def exec_(args: argparse.Namespace) -> int:
    with embedded_services(VAR / "run", database="warung") as services:
        return subprocess.run(args.rest, env=child_env(services), cwd=ROOT, check=False).returncode


BENCHMARKS = ROOT / "tests" / "benchmarks"


def main() -> int:
    parser = argparse.ArgumentParser(prog="devserver")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="web, worker, beat and a demo shop").set_defaults(func=run)
    test_parser = commands.add_parser("test", help="the whole test suite")
    test_parser.add_argument("--backend-only", action="store_true")
    test_parser.add_argument("rest", nargs=argparse.REMAINDER)
    test_parser.set_defaults(func=test)
    bench_parser = commands.add_parser("bench", help="benchmarks, one JSON line each")
    bench_parser.add_argument("name", nargs="?")
    bench_parser.set_defaults(func=bench)
    commands.add_parser("load", help="the load test: LOAD_SHOPS shops for LOAD_SECONDS").set_defaults(func=load)
    exec_parser = commands.add_parser("exec", help="a command with the dev services' environment")
    exec_parser.add_argument("rest", nargs=argparse.REMAINDER)
    exec_parser.set_defaults(func=exec_)
    args = parser.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
