"""Benchmark `provisioning`: signup-to-usable time against creating a shop by migrations, and no-op migrate.

Run by `make bench NAME=provisioning` (devserver sets DATABASE_URL, REDIS_URL, PYTHONPATH and
DJANGO_SETTINGS_MODULE), or directly with those set. It uses its own database and leaves the
shops it made there; every run uses fresh subdomains and emails, so reruns work.

Measured, all in one run:
- signup-to-usable: from the start of `sign_up()` until the new shop's host answers real requests:
  the signup handoff (`/auth/handoff/<token>/` -> 302 /inbox) and `/api/auth/session/` -> 200 with
  the owner. The pool is topped up between signups, outside the timed section.
- migrate_create_s: creating one shop schema by running every migration (`create_ready_schema()`).
- no-op `migrate_schemas` over at least NOOP_SHOPS tenant schemas with nothing to apply, through
  the configured executor (settings.GET_EXECUTOR_FUNCTION), and django-tenants' plain standard
  executor for comparison (`noop_migrate_unskipped_s`; BENCH_SKIP_BASELINE=1 leaves it out).

Progress goes to stderr; the last stdout line is the JSON result.
"""

import contextlib
import json
import os
import secrets
import statistics
import sys
import time
from unittest import mock

from tests.benchmarks.common import percentile, prepare_database

SIGNUPS = int(os.environ.get("BENCH_SIGNUPS", "30"))
MIGRATE_RUNS = int(os.environ.get("BENCH_MIGRATE_RUNS", "5"))
NOOP_SHOPS = int(os.environ.get("BENCH_NOOP_SHOPS", "200"))
PASSWORD = "Kopi-Susu-2026!"


def log(message: str) -> None:
    print(f"[provisioning] {message}", file=sys.stderr, flush=True)


def signup_to_usable(run_id: str, number: int) -> tuple[float, dict[str, float]]:
    """One signup through the real path; returns total seconds and a breakdown."""
    from django.db import connection
    from django.test import Client

    from tenants.services.access import create_login_handoff
    from tenants.services.signup import SignupForm, sign_up

    form = SignupForm(
        shop_name=f"Toko Bench {run_id} {number}",
        subdomain=f"bench-{run_id}-{number}",
        owner_name="Sari Wulandari",
        email=f"owner-{run_id}-{number}@bench.test",
        password=PASSWORD,
    )
    started = time.perf_counter()
    shop, owner = sign_up(form)
    signed_up = time.perf_counter()
    token = create_login_handoff(owner, shop)
    client = Client(HTTP_HOST=shop.primary_host)
    landed = client.get(f"/auth/handoff/{token}/")
    handed_off = time.perf_counter()
    session = client.get("/api/auth/session/")
    finished = time.perf_counter()

    assert landed.status_code == 302 and landed["Location"] == "/inbox", (landed.status_code, landed.content[:300])
    assert session.status_code == 200, (session.status_code, session.content[:300])
    assert session.json()["user"]["email"] == owner.email, session.json()
    # A request leaves the connection in the shop's schema; the next signup starts from public.
    connection.set_schema_to_public()
    return finished - started, {
        "sign_up": signed_up - started,
        "handoff": handed_off - signed_up,
        "session": finished - handed_off,
    }


def measure_signups(run_id: str) -> dict:
    from tenants import provisioning

    provisioning.refill_pool()
    # Untimed warm-up: the first request of a process imports views, builds URL resolvers, etc.
    warmup, _ = signup_to_usable(run_id, 0)
    log(f"warm-up signup (not counted): {warmup:.3f}s")
    durations: list[float] = []
    parts: dict[str, list[float]] = {"sign_up": [], "handoff": [], "session": []}
    for number in range(1, SIGNUPS + 1):
        provisioning.refill_pool()  # outside the timed section: signup claims a ready schema
        assert provisioning.ready_count() > 0
        seconds, breakdown = signup_to_usable(run_id, number)
        durations.append(seconds)
        for key, value in breakdown.items():
            parts[key].append(value)
        log(f"signup {number}/{SIGNUPS}: {seconds:.3f}s ({', '.join(f'{k} {v:.3f}' for k, v in breakdown.items())})")
    return {
        "signups": len(durations),
        "signup_p50_s": round(statistics.median(durations), 4),
        "signup_p95_s": round(percentile(durations, 0.95), 4),
        "signup_max_s": round(max(durations), 4),
        "signup_first_s": round(warmup, 4),
        **{f"signup_{key}_p50_s": round(statistics.median(values), 4) for key, values in parts.items()},
    }


def measure_migrate_create() -> float:
    from tenants import provisioning

    runs = []
    for run in range(1, MIGRATE_RUNS + 1):
        started = time.perf_counter()
        provisioning.create_ready_schema()
        runs.append(time.perf_counter() - started)
        log(f"create schema by migrations {run}/{MIGRATE_RUNS}: {runs[-1]:.3f}s")
    return statistics.median(runs)


def tenant_schema_count() -> int:
    from tenants.models import Shop

    return Shop.objects.exclude(schema_name="public").count()


def ensure_tenant_schemas(target: int) -> int:
    from tenants import provisioning

    count = tenant_schema_count()
    if count < target:
        log(f"{count} tenant schemas; creating {target - count} more (untimed)")
    started = time.perf_counter()
    while count < target:
        provisioning.create_ready_schema()
        count += 1
        if count % 20 == 0 or count == target:
            log(f"  {count}/{target} tenant schemas ({time.perf_counter() - started:.0f}s)")
    return count


def time_noop_migrate(*, plain: bool = False) -> float:
    from django.core.management import call_command
    from django.db import connection
    from django_tenants.management.commands import migrate_schemas
    from django_tenants.migration_executors import get_executor

    patch = (
        mock.patch.object(migrate_schemas, "GET_EXECUTOR_FUNCTION", get_executor) if plain else contextlib.nullcontext()
    )
    with patch:
        started = time.perf_counter()
        call_command("migrate_schemas", interactive=False, verbosity=0)
        seconds = time.perf_counter() - started
    connection.set_schema_to_public()
    return seconds


def main() -> int:
    prepare_database(log)
    from django.conf import settings

    run_id = secrets.token_hex(3)
    result: dict = {"bench": "provisioning"}
    result.update(measure_signups(run_id))
    migrate_create_s = measure_migrate_create()
    result["migrate_create_s"] = round(migrate_create_s, 4)
    result["speedup"] = round(migrate_create_s / result["signup_p50_s"], 1)
    result["speedup_p95"] = round(migrate_create_s / result["signup_p95_s"], 1)

    shops = ensure_tenant_schemas(NOOP_SHOPS)
    time_noop_migrate()  # settle: a first run would also apply anything pending
    noop_s = time_noop_migrate()
    executor = getattr(settings, "GET_EXECUTOR_FUNCTION", "django-tenants default")
    log(f"no-op migrate_schemas over {shops} tenant schemas ({executor}): {noop_s:.2f}s")
    result["noop_migrate_shops"] = shops
    result["noop_migrate_s"] = round(noop_s, 3)
    result["noop_migrate_executor"] = executor
    if os.environ.get("BENCH_SKIP_BASELINE") != "1":
        log("no-op migrate_schemas with django-tenants' plain standard executor, for comparison ...")
        plain_s = time_noop_migrate(plain=True)
        log(f"  plain standard executor: {plain_s:.2f}s")
        result["noop_migrate_unskipped_s"] = round(plain_s, 3)
        result["noop_migrate_speedup"] = round(plain_s / noop_s, 1)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
