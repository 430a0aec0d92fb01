"""Many real shops quickly, for benchmarks at scale: pool schemas cloned from a migrated one, then signed up.

Migrating a schema costs about a second on a quiet 2-core machine (several when it is busy), so a
thousand shops by migrations would take the better part of an hour. Instead one pool schema is made
by the real path (`provisioning.create_ready_schema()`, every migration), dumped once with pg_dump
(tables, indexes, constraints, identity sequences and their positions, and its rows: the recorded
migrations and content types), and that dump is replayed under new schema names. A replayed schema
is byte-for-byte the same dump under another name (tests/benchmarks/test_bulk_shops.py checks it), so
`migrate_schemas` finds nothing to apply and signup claims it like any other pool schema.

The shops themselves come from the real signup service (`sign_up()`), one pool schema each.
"""

import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import psycopg
from django.db import connection

from tenants import provisioning
from tenants.models import Shop


def pg_dump_binary() -> str:
    """pgserver's pg_dump (the embedded server's own version), else the one on PATH."""
    try:
        from pgserver._commands import POSTGRES_BIN_PATH

        bundled = Path(POSTGRES_BIN_PATH) / "pg_dump"
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which("pg_dump")
    if found is None:
        raise RuntimeError("pg_dump is needed to clone shop schemas; install the PostgreSQL client tools")
    return found


def libpq_env() -> dict[str, str]:
    """PG* variables for the database Django uses (a socket directory or a host)."""
    db = connection.settings_dict
    host = db.get("HOST") or db.get("OPTIONS", {}).get("host") or ""
    values = {"PGHOST": host, "PGPORT": str(db.get("PORT") or ""), "PGUSER": db.get("USER") or "",
              "PGPASSWORD": db.get("PASSWORD") or "", "PGDATABASE": db["NAME"]}  # fmt: skip
    return {key: value for key, value in values.items() if value}


def dump_schema(schema_name: str) -> str:
    """The schema as SQL: its objects and rows (INSERTs, so any connection can replay it)."""
    command = [pg_dump_binary(), "--schema", schema_name, "--no-owner", "--no-privileges", "--inserts"]
    return subprocess.run(command, env={**os.environ, **libpq_env()}, capture_output=True, text=True, check=True).stdout


class SchemaCloner:
    """Replays one migrated pool schema's dump under new names: a fresh pool schema in some 0.1-0.5 s."""

    def __init__(self, template: str | None = None):
        # The template is a pool schema made now by every migration, so it is what migrate makes today.
        self.template = template or provisioning.create_ready_schema().schema_name
        self.dump = dump_schema(self.template)
        self._local = threading.local()
        self._connections: list[psycopg.Connection] = []

    def _connection(self) -> psycopg.Connection:
        """One libpq connection per thread, apart from Django's (the dump resets its search_path)."""
        if getattr(self._local, "connection", None) is None:
            conninfo = " ".join(f"{key.removeprefix('PG').lower()}={value}" for key, value in libpq_env().items())
            conninfo = conninfo.replace("database=", "dbname=")
            self._local.connection = psycopg.connect(conninfo, autocommit=True)
            self._local.connection.execute("SET synchronous_commit = off")
            self._connections.append(self._local.connection)
        return self._local.connection

    def create_schema(self, schema_name: str) -> None:
        sql = self.dump.replace(self.template, schema_name)
        conn = self._connection()
        with conn.transaction():
            conn.execute(sql)

    def create_ready_schemas(self, count: int, *, threads: int = 2, progress: Callable[[int], None] | None = None):
        """`count` new pool schemas (Shop rows with status pool), cloned `threads` at a time."""
        made = 0
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="clone") as pool:
            names = [provisioning.new_schema_name() for _ in range(count)]
            futures = {pool.submit(self.create_schema, name): name for name in names}
            try:
                for future in as_completed(futures):
                    future.result()
                    # As create_ready_schema does: the row only once its schema is complete.
                    Shop(schema_name=futures[future], status=Shop.Status.POOL).save()
                    made += 1
                    if progress is not None:
                        progress(made)
            finally:
                for future in futures:
                    future.cancel()
        self.close()
        return made

    def close(self) -> None:
        for conn in self._connections:
            conn.close()
        self._connections.clear()
        self._local = threading.local()


def copy_rows(source_schema: str, target_schema: str, tables: Iterable[str]) -> None:
    """Copies `tables`' rows from one shop schema into another (same migrations), identities moved past them."""
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'SELECT * FROM "{source_schema}"."{table}" LIMIT 0')
            columns = ", ".join(f'"{column.name}"' for column in cursor.description)
            cursor.execute(
                f'INSERT INTO "{target_schema}"."{table}" ({columns}) SELECT {columns} FROM "{source_schema}"."{table}"'
            )
            cursor.execute(
                f'SELECT setval(pg_get_serial_sequence(%s, \'id\'), max(id)) FROM "{target_schema}"."{table}"'
                " HAVING max(id) IS NOT NULL",
                [f'"{target_schema}"."{table}"'],
            )
