"""Plain SQL for the hottest writes, where the ORM's per-statement work and savepoints were most of the cost."""

from django.db import connection


def insert(instance) -> None:
    """Inserts a model instance in one statement and sets its id (create() without the ORM's work)."""
    if not insert_once(instance, conflict=None):
        raise AssertionError("an INSERT without ON CONFLICT returns its row")


def insert_once(instance, conflict_column: str | None = None, *, conflict: str | None = "DO NOTHING") -> bool:
    """Inserts a model instance unless a unique key (`conflict_column`'s, or any) is taken; sets its id and says
    whether it was new. One statement, where create() inside a savepoint takes three."""
    meta = instance._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    on_conflict = f"ON CONFLICT {f'({conflict_column})' if conflict_column else ''} {conflict}" if conflict else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {meta.db_table} ({', '.join(connection.ops.quote_name(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))}) {on_conflict} RETURNING {meta.pk.column}",
            [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields],
        )
        row = cursor.fetchone()
    if row is None:
        return False
    instance.pk = row[0]
    instance._state.adding, instance._state.db = False, connection.alias
    return True
