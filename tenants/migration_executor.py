"""`migrate_schemas` executors that skip shop schemas with nothing to apply.

django-tenants runs Django's `migrate` once per schema even when every migration is already
applied: a graph load, a plan, pre/post_migrate signals and a reconnect, about 40 ms per schema
on a 2-core machine (7.6 s for 200 shops), minutes for thousands of shops on every deploy. These executors first
read every tenant schema's `django_migrations` in one UNION ALL query (per batch of schemas)
and hand only the schemas that miss something to django-tenants' normal path.

"Nothing to apply" means exactly what Django's migrate means by it: every node of the current
migration graph (all apps, not only TENANT_APPS: Django records every app's migrations in each
schema and lets the router turn the operations of shared apps into no-ops there) is recorded in
the schema. A schema that lacks any of them, or lacks the table, goes through `migrate` as
before. The one thing a skipped schema does not get is the post_migrate signal, whose handlers
(content types, permissions) have nothing to add when no migration is new.

Anything other than a plain "migrate everything" (an app label or target, --fake, --fake-initial,
--plan, --prune, --run-syncdb, --check) is passed to the parent executor unchanged.

Selected through `GET_EXECUTOR_FUNCTION = "tenants.migration_executor.get_executor"`:
`--executor=standard` (the default) migrates what is left one schema after another, or with
TENANT_MULTIPROCESSING_MAX_PROCESSES worker processes once at least PARALLEL_FROM schemas are
left; `--executor=multiprocessing` always uses the worker processes.
"""

import functools
import logging

from django.conf import settings
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django_tenants.migration_executors import get_executor as django_tenants_get_executor
from django_tenants.migration_executors.base import run_migrations
from django_tenants.migration_executors.multiproc import MultiprocessingExecutor, get_pool, run_migrations_percent
from django_tenants.migration_executors.standard import StandardExecutor

logger = logging.getLogger(__name__)

# Options of migrate_schemas that change what migrate does; with any of them set, nothing is skipped.
UNSKIPPABLE_OPTIONS = (
    "app_label",
    "migration_name",
    "fake",
    "fake_initial",
    "plan",
    "prune",
    "run_syncdb",
    "check_unapplied",
)
# Schemas per UNION ALL query: keeps a statement to some 100 kB however many shops there are.
SCHEMAS_PER_QUERY = 1000
# Below this many schemas to migrate, forking workers costs more than it saves.
PARALLEL_FROM = 8


def required_migrations() -> set[tuple[str, str]]:
    """Every (app_label, name) of the current migration graph: what a fully migrated schema records."""
    return set(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def up_to_date_schemas(connection, schema_names: list[str], required: set[tuple[str, str]]) -> set[str]:
    """The schemas among `schema_names` whose django_migrations records every migration of `required`."""
    if not schema_names or not required:
        return set()
    apps, names = zip(*sorted(required), strict=True)
    done: set[str] = set()
    with connection.cursor() as cursor:
        # Only schemas that have the table can be read; the others need migrate anyway.
        cursor.execute(
            "SELECT n.nspname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relname = 'django_migrations' AND c.relkind IN ('r', 'p') AND n.nspname = ANY(%s)",
            [list(schema_names)],
        )
        readable = sorted(row[0] for row in cursor.fetchall())
        for start in range(0, len(readable), SCHEMAS_PER_QUERY):
            batch = readable[start : start + SCHEMAS_PER_QUERY]
            recorded = " UNION ALL ".join(
                f"SELECT %s AS schema_name, app, name FROM {_quote(schema)}.django_migrations" for schema in batch
            )
            cursor.execute(
                "WITH required AS (SELECT * FROM unnest(%s::text[], %s::text[]) AS r(app, name))"
                f" SELECT m.schema_name FROM ({recorded}) AS m JOIN required USING (app, name)"
                " GROUP BY m.schema_name HAVING count(DISTINCT (m.app, m.name)) = %s",
                [list(apps), list(names), *batch, len(required)],
            )
            done.update(row[0] for row in cursor.fetchall())
    return done


class SkipUpToDateMixin:
    """Drops the tenant schemas that have nothing to apply before the parent executor runs."""

    def can_skip(self) -> bool:
        return not any(self.options.get(option) for option in UNSKIPPABLE_OPTIONS)

    def schemas_to_migrate(self, tenants) -> list[str]:
        tenants = list(tenants or [])
        if any(schema != self.PUBLIC_SCHEMA_NAME for schema in tenants):  # a deleted shop keeps its row, not its schema
            from tenants.models import Shop

            dropped = set(Shop.objects.filter(status=Shop.Status.DELETED).values_list("schema_name", flat=True))
            tenants = [schema for schema in tenants if schema not in dropped]
        shops = [schema for schema in tenants if schema != self.PUBLIC_SCHEMA_NAME]
        if not shops or not self.can_skip():
            return tenants
        connection = connections[self.options.get("database") or self.TENANT_DB_ALIAS]
        connection.set_schema_to_public()
        skipped = up_to_date_schemas(connection, shops, required_migrations())
        remaining = [schema for schema in tenants if schema not in skipped]
        self.skipped_schemas = [schema for schema in shops if schema in skipped]
        to_migrate = [schema for schema in remaining if schema != self.PUBLIC_SCHEMA_NAME]
        logger.info(
            "migrate_schemas: %d of %d shop schemas up to date, skipped; %d to migrate",
            len(self.skipped_schemas),
            len(shops),
            len(to_migrate),
            extra={"skipped": len(self.skipped_schemas), "to_migrate": to_migrate[:50]},
        )
        if int(self.options.get("verbosity", 1)) >= 1:
            print(
                f"[{self.codename}] {len(self.skipped_schemas)} of {len(shops)} shop schemas up to date, skipped;"
                f" {len(to_migrate)} to migrate",
                flush=True,
            )
        return remaining

    def run_in_processes(self, shops: list[str]) -> None:
        """django-tenants' multiprocessing run, with its worker pool shut down afterwards."""
        connection = connections[self.options.get("database") or self.TENANT_DB_ALIAS]
        connection.close()
        connection.connection = None
        run = functools.partial(run_migrations_percent, self.args, self.options, self.codename, len(shops))
        with get_pool() as pool:
            pool.map(run, enumerate(shops), getattr(settings, "TENANT_MULTIPROCESSING_CHUNKS", 2))


class SkipUpToDateMultiprocessingExecutor(SkipUpToDateMixin, MultiprocessingExecutor):
    codename = "multiprocessing"

    def run_migrations(self, tenants=None):
        tenants = self.schemas_to_migrate(tenants)
        if self.PUBLIC_SCHEMA_NAME in tenants:
            run_migrations(self.args, self.options, self.codename, self.PUBLIC_SCHEMA_NAME)
        shops = [schema for schema in tenants if schema != self.PUBLIC_SCHEMA_NAME]
        if shops:
            self.run_in_processes(shops)


class SkipUpToDateExecutor(SkipUpToDateMixin, StandardExecutor):
    """The default: skips up-to-date schemas, then migrates the rest in order or, when many, in parallel."""

    codename = "standard"

    def run_migrations(self, tenants=None):
        tenants = self.schemas_to_migrate(tenants)
        shops = [schema for schema in tenants if schema != self.PUBLIC_SCHEMA_NAME]
        processes = getattr(settings, "TENANT_MULTIPROCESSING_MAX_PROCESSES", 1)
        connection = connections[self.options.get("database") or self.TENANT_DB_ALIAS]
        # Forked workers use connections of their own: never inside a caller's transaction.
        if processes > 1 and len(shops) >= PARALLEL_FROM and not connection.in_atomic_block:
            if self.PUBLIC_SCHEMA_NAME in tenants:
                run_migrations(self.args, self.options, self.codename, self.PUBLIC_SCHEMA_NAME)
            self.run_in_processes(shops)
            return
        super().run_migrations(tenants=tenants)


def get_executor(codename=None):
    """GET_EXECUTOR_FUNCTION for migrate_schemas: `(codename) -> executor class`."""
    klass = django_tenants_get_executor(codename)
    if klass is MultiprocessingExecutor:
        return SkipUpToDateMultiprocessingExecutor
    if klass is StandardExecutor:
        return SkipUpToDateExecutor
    return klass
