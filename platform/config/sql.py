"""Plain SQL for the hottest writes, where the ORM's per-statement work and savepoints were most of the cost."""

from django.db import connection


def fetch(model, sql: str, params: list) -> list:
    """Model instances from a plain SELECT of whole rows (`SELECT * FROM ...`), without RawQuerySet's work of
    matching columns to fields for every query (a good part of a customer message's processing)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = tuple(column.name for column in cursor.description)
        rows = cursor.fetchall()
    names, order, converters = _field_order(model, columns)
    instances = []
    for row in rows:
        values = [row[n] for n in order]
        for n, convert in converters:
            values[n] = convert(values[n], None, connection)
        instances.append(model.from_db(connection.alias, names, values))
    return instances


_field_orders: dict[tuple, tuple] = {}


def _field_order(model, columns: tuple[str, ...]) -> tuple:
    """The model's attribute names, each one's position in the row, and the fields' own conversions (JSON is
    decoded by its field, as the ORM does). A table's columns come in the order migrations added them, not the
    model's, which is the order from_db() wants. Remembered per column list."""
    key = (model, columns)
    if key not in _field_orders:
        position = {column: n for n, column in enumerate(columns)}
        fields = [field for field in model._meta.concrete_fields if field.column in position]
        _field_orders[key] = (
            tuple(field.attname for field in fields),
            tuple(position[field.column] for field in fields),
            tuple((n, field.from_db_value) for n, field in enumerate(fields) if hasattr(field, "from_db_value")),
        )
    return _field_orders[key]


def insert(instance, *, then: list[tuple[str, list]] = ()) -> None:
    """Inserts a model instance in one statement and sets its id (create() without the ORM's work)."""
    if not insert_once(instance, conflict=None, then=then):
        raise AssertionError("an INSERT without ON CONFLICT returns its row")


def insert_once(
    instance,
    conflict_column: str | None = None,
    *,
    conflict: str | None = "DO NOTHING",
    then: list[tuple[str, list]] = (),
) -> bool:
    """Inserts a model instance unless a unique key (`conflict_column`'s, or any) is taken; sets its id and says
    whether it was new. One statement, where create() inside a savepoint takes three.

    `then`: data-modifying statements (sql, params) that ride in the same statement as CTEs: one round trip
    instead of one each. They run whether or not the row was new, unless they say `EXISTS (SELECT FROM new)`
    (`new` is the inserted row, if any)."""
    meta = instance._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    on_conflict = f"ON CONFLICT {f'({conflict_column})' if conflict_column else ''} {conflict}" if conflict else ""
    values = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
    sql = (
        f"INSERT INTO {meta.db_table} ({', '.join(connection.ops.quote_name(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) {on_conflict} RETURNING {'*' if then else meta.pk.column}"
    )
    if then:
        steps = ", ".join(f"then{n} AS ({statement})" for n, (statement, _params) in enumerate(then))
        sql = f"WITH new AS ({sql}), {steps} SELECT {meta.pk.column} FROM new"
        values += [value for _statement, params in then for value in params]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    instance.pk = row[0]
    instance._state.adding, instance._state.db = False, connection.alias
    return True
