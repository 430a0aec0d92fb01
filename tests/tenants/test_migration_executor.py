"""migrate_schemas skips shop schemas with nothing to apply, and still migrates those that miss something."""

import logging

import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.migration_executors.multiproc import MultiprocessingExecutor
from django_tenants.migration_executors.standard import StandardExecutor
from django_tenants.signals import schema_pre_migration

from tenants import migration_executor, provisioning
from tenants.migration_executor import (
    SkipUpToDateExecutor,
    SkipUpToDateMultiprocessingExecutor,
    get_executor,
    required_migrations,
    up_to_date_schemas,
)
from tenants.models import Shop

# Each test runs in a transaction that is rolled back, DDL included (PostgreSQL): the schemas it
# migrates back and forth are as before afterwards, and the executor stays on its serial path.
pytestmark = pytest.mark.django_db


def table_exists(schema: str, table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = %s", [schema, table]
        )
        return cursor.fetchone() is not None


def shop_schemas() -> list[str]:
    return list(Shop.objects.exclude(schema_name="public").values_list("schema_name", flat=True))


@pytest.fixture
def migrated_schemas():
    """Records every schema that goes through django-tenants' per-schema migrate."""
    seen: list[str] = []

    def record(sender, schema_name, **kwargs):
        seen.append(schema_name)

    schema_pre_migration.connect(record, weak=False)
    yield seen
    schema_pre_migration.disconnect(record)


def test_a_schema_missing_a_migration_is_migrated_and_the_others_are_skipped(migrated_schemas, caplog):
    provisioning.refill_pool(2)
    behind = Shop.objects.filter(status=Shop.Status.POOL).order_by("id").first().schema_name
    call_command("migrate_schemas", "activity", "zero", schema_name=behind, interactive=False, verbosity=0)
    connection.set_schema_to_public()
    assert not table_exists(behind, "activity_activityevent")
    assert migrated_schemas == [behind]  # an explicit target is never skipped
    migrated_schemas.clear()

    with caplog.at_level(logging.INFO, logger="tenants.migration_executor"):
        call_command("migrate_schemas", interactive=False, verbosity=0)

    assert table_exists(behind, "activity_activityevent")
    others = [schema for schema in shop_schemas() if schema != behind]
    assert others, "needs more than one shop schema"
    # Only public and the schema that was behind went through migrate; every other shop was skipped.
    assert migrated_schemas == ["public", behind]
    [record] = [r for r in caplog.records if r.name == "tenants.migration_executor"]
    assert record.skipped == len(others)
    assert record.to_migrate == [behind]


def test_nothing_is_skipped_for_options_that_change_what_migrate_does(migrated_schemas):
    for options in ({"fake": True}, {"plan": True}, {"app_label": "activity"}, {"prune": True}):
        assert not SkipUpToDateExecutor((), {"verbosity": 0, **options}).can_skip()
    assert SkipUpToDateExecutor((), {"verbosity": 0, "database": "default"}).can_skip()

    # --fake over everything goes through migrate for every schema, like django-tenants' own executor.
    call_command("migrate_schemas", tenant=True, fake=True, interactive=False, verbosity=0)
    assert sorted(migrated_schemas) == sorted(shop_schemas())


def test_up_to_date_check_reads_every_schema_and_tolerates_one_without_the_table():
    shops = shop_schemas()
    with connection.cursor() as cursor:
        cursor.execute('CREATE SCHEMA IF NOT EXISTS "bare_no_migrations"')
    try:
        required = required_migrations()
        assert ("activity", "0001_initial") in required
        assert ("contenttypes", "0002_remove_content_type_name") in required
        done = up_to_date_schemas(connection, [*shops, "bare_no_migrations"], required)
        assert done == set(shops)
        # A migration the schemas have not recorded (a new one in a deploy) makes none of them up to date.
        assert up_to_date_schemas(connection, shops, required | {("activity", "9999_new")}) == set()
    finally:
        provisioning.drop_schema("bare_no_migrations")


def test_up_to_date_check_batches_its_union_queries(monkeypatch):
    shops = shop_schemas()
    monkeypatch.setattr(migration_executor, "SCHEMAS_PER_QUERY", 1)
    assert up_to_date_schemas(connection, shops, required_migrations()) == set(shops)


def test_executor_function_maps_django_tenants_codenames():
    assert get_executor() is SkipUpToDateExecutor
    assert get_executor("standard") is SkipUpToDateExecutor
    assert get_executor("multiprocessing") is SkipUpToDateMultiprocessingExecutor
    assert issubclass(SkipUpToDateExecutor, StandardExecutor)
    assert issubclass(SkipUpToDateMultiprocessingExecutor, MultiprocessingExecutor)


def test_a_deleted_shop_keeps_its_row_but_its_dropped_schema_is_left_alone(migrated_schemas):
    from datetime import timedelta

    from django.utils import timezone
    from django_tenants.utils import schema_exists

    from tenants.services import deletion

    provisioning.refill_pool(2)
    gone = Shop.objects.filter(status=Shop.Status.POOL).order_by("id").first()
    Shop.objects.filter(pk=gone.pk).update(status=Shop.Status.DELETION_PENDING,
                                           deletion_due_at=timezone.now() - timedelta(seconds=1))  # fmt: skip
    assert deletion.delete_now(gone.pk) == gone.schema_name

    call_command("migrate_schemas", interactive=False, verbosity=0)

    assert gone.schema_name not in migrated_schemas
    assert not schema_exists(gone.schema_name)
