"""Ready-made shop schemas, so that signup never waits for migrations.

A pool schema is a real `Shop` row with status `pool`, so `migrate_schemas` migrates it
together with every live shop: a shop taken from the pool after a new migration has
that migration's tables. Signup claims one row (`SELECT ... FOR UPDATE SKIP LOCKED`)
and turns it into the shop inside its own transaction; nothing is renamed or copied.
"""

import logging
import re
import secrets

from django.conf import settings
from django.db import connection

from .models import Shop

logger = logging.getLogger(__name__)


def new_schema_name() -> str:
    """A random name without a run of 8 digits: logs mask such runs as phone numbers, and a log line must keep
    the shop it belongs to."""
    while True:
        name = f"shop_{secrets.token_hex(6)}"
        if not re.search(r"\d{8}", name):
            return name


def create_ready_schema() -> Shop:
    """Creates and migrates one schema, then offers it to signup (slow: seconds, off the request path)."""
    shop = Shop(schema_name=new_schema_name(), status=Shop.Status.POOL)
    try:
        # Migrated before its row exists, so signup can never claim a half-built schema.
        shop.create_schema(check_if_exists=False, sync_schema=True, verbosity=0)
        shop.save()
    except BaseException:
        drop_schema(shop.schema_name)
        raise
    logger.info("pool schema ready", extra={"schema": shop.schema_name})
    return shop


def drop_schema(schema_name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE')


def claim_ready_schema() -> Shop | None:
    """Takes one ready schema for the current transaction; concurrent signups get different ones."""
    assert connection.in_atomic_block, "claim inside the signup transaction"
    return Shop.objects.select_for_update(skip_locked=True).filter(status=Shop.Status.POOL).order_by("id").first()


def ready_count() -> int:
    return Shop.objects.filter(status=Shop.Status.POOL).count()


def refill_pool(target: int | None = None) -> int:
    """Tops the pool up to `target` (SHOP_POOL_SIZE); returns how many schemas it made."""
    target = settings.SHOP_POOL_SIZE if target is None else target
    made = 0
    while ready_count() < target:
        create_ready_schema()
        made += 1
    return made
