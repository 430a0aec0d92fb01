"""What every benchmark script does first: Django up, the database bootstrapped, its whereabouts logged."""

import logging
import sys
import time
from collections.abc import Callable


def prepare_database(log: Callable[[str], None]) -> None:
    """django.setup(), quiet provisioning logs, then `bootstrap_platform` (migrations, platform tenant, pool)."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    logging.getLogger("tenants.provisioning").setLevel(logging.WARNING)
    logging.getLogger("tenants.migration_executor").setLevel(logging.WARNING)
    database = settings.DATABASES["default"]
    host = database.get("HOST") or database.get("OPTIONS", {}).get("host") or "default socket"
    log(f"database {database['NAME']} on {host}; redis {settings.REDIS_URL}")
    started = time.perf_counter()
    call_command("bootstrap_platform", verbosity=0, stdout=sys.stderr)
    log(f"bootstrap_platform: {time.perf_counter() - started:.1f}s")


def percentile(values: list[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), no numpy needed."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
