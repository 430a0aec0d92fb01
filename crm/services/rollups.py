"""Daily rollups behind the analytics dashboard, kept in step by the services that write the data.

Days are local days in the shop's time zone (`ShopSettings.rollup_time_zone` says which zone the
rollups were built in; crm.services.analytics rebuilds them when the shop's zone differs).

- `DailyStats`: per day, contacts created (merged ones left out), non-cancelled orders, their
  revenue, and customers whose first non-cancelled order was that day.
- `OrderSequence`: non-cancelled orders per (day, day of the same customer's previous order,
  rank 1 / 2 / 3+). The customers who ordered in days a..b are the orders of those days that are a
  customer's first or follow an order before a; see `customers_between`.
- `ProductDay`: quantity and revenue per product and day.

Writers: crm.services.orders (create, cancel), crm.services.contacts (create, merge) and
crm.services.imports (new contacts) call in here inside their own transaction; a change to a
customer's orders recomputes that customer's share before and after (`customer_orders_change`),
which stays exact for cancellations and merges. Bulk loads that bypass the services (and a change
of the shop's zone) are followed by `rebuild_daily_rollups()` (`manage.py rebuild_daily_rollups`).
"""

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from contextlib import contextmanager

from django.db import connection, transaction

from crm.models import Contact, DailyStats, Order, OrderItem, OrderSequence, ProductDay, ShopSettings
from crm.services.segments import shop_settings, shop_zone

CANCELLED = Order.Status.CANCELLED


def _zone() -> str:
    return shop_zone().key


def local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(shop_zone()).date()


# --- customers' orders


def _order_shares(contact_ids: list[int]) -> Counter:
    """{(day, previous_day, ordinal): (orders, revenue)} of these customers' non-cancelled orders."""
    sql = f"""
        SELECT day, COALESCE(previous_day, day), LEAST(n, 3), COUNT(*), SUM(total)::bigint
        FROM (
            SELECT (created_at AT TIME ZONE %(zone)s)::date AS day, total,
                   LAG((created_at AT TIME ZONE %(zone)s)::date) OVER w AS previous_day,
                   ROW_NUMBER() OVER w AS n
            FROM {Order._meta.db_table}
            WHERE contact_id = ANY(%(ids)s) AND status <> %(cancelled)s
            WINDOW w AS (PARTITION BY contact_id ORDER BY created_at, id)
        ) o
        GROUP BY 1, 2, 3
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"zone": _zone(), "ids": contact_ids, "cancelled": CANCELLED})
        return {(day, previous, ordinal): (count, revenue) for day, previous, ordinal, count, revenue in cursor}


@contextmanager
def customer_orders_change(*contact_ids: int):
    """Wraps a change to these customers' orders: their rollup share is taken before and after.

    The customers' rows are locked first, so two changes to one customer's orders apply in turn.
    """
    ids = sorted({pk for pk in contact_ids if pk is not None})
    with transaction.atomic():
        list(Contact.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
        before = _order_shares(ids)
        yield
        after = _order_shares(ids)
        _apply_order_shares(before, after)


def _apply_order_shares(before: dict, after: dict) -> None:
    sequence: Counter = Counter()
    days: dict[dt.date, Counter] = {}
    for key in before.keys() | after.keys():
        count_after, revenue_after = after.get(key, (0, 0))
        count_before, revenue_before = before.get(key, (0, 0))
        if (count_after, revenue_after) == (count_before, revenue_before):
            continue
        day, _previous, ordinal = key
        sequence[key] += count_after - count_before
        totals = days.setdefault(day, Counter())
        totals["orders"] += count_after - count_before
        totals["revenue"] += revenue_after - revenue_before
        totals["new_customers"] += (count_after - count_before) if ordinal == 1 else 0
    if sequence:
        keys = list(sequence)
        _upsert(
            OrderSequence._meta.db_table,
            {"day": "date", "previous_day": "date", "ordinal": "smallint", "orders": "integer"},
            [[k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys], [sequence[k] for k in keys]],
            conflict="day, previous_day, ordinal",
        )
    if days:
        _add_to_days(days)


def _upsert(table: str, columns: dict[str, str], values: list[list], *, conflict: str) -> None:
    """INSERT … ON CONFLICT DO UPDATE SET x = x + EXCLUDED.x for every column outside the key."""
    keys = {part.strip() for part in conflict.split(",")}
    names = ", ".join(columns)
    arrays = ", ".join(f"%s::{kind}[]" for kind in columns.values())
    sums = ", ".join(f"{name} = {table}.{name} + EXCLUDED.{name}" for name in columns if name not in keys)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) "
            f"ON CONFLICT ({conflict}) DO UPDATE SET {sums}",
            values,
        )


DAY_COUNTERS = ["new_contacts", "orders", "revenue", "new_customers"]


def _add_to_days(days: dict[dt.date, Counter]) -> None:
    """Adds to DailyStats' counters (a new day starts from zero)."""
    ordered = sorted(days)
    values = [ordered] + [[days[day][name] for day in ordered] for name in DAY_COUNTERS]
    kinds = {"new_contacts": "integer", "orders": "integer", "revenue": "bigint", "new_customers": "integer"}
    _upsert(DailyStats._meta.db_table, {"day": "date", **kinds}, values, conflict="day")


# --- contacts and products


def contacts_created(moments: Iterable[dt.datetime], *, sign: int = 1) -> None:
    """New contacts on their local days (sign=-1 takes back a contact merged into another)."""
    days: dict[dt.date, Counter] = {}
    for moment in moments:
        days.setdefault(local_day(moment), Counter())["new_contacts"] += sign
    if days:
        _add_to_days(days)


def new_contact_counted() -> tuple[str, list]:
    """The statement that counts a contact on the local day it was created, for the contact's INSERT to carry
    (config.sql.insert_once's `then`: `new` is the inserted row, none if it was there already)."""
    table = DailyStats._meta.db_table
    return (
        f"INSERT INTO {table} (day, new_contacts, orders, revenue, new_customers) "
        "SELECT (created_at AT TIME ZONE %s)::date, 1, 0, 0, 0 FROM new "
        f"ON CONFLICT (day) DO UPDATE SET new_contacts = {table}.new_contacts + 1",
        [_zone()],
    )


def order_items_counted(order: Order, *, sign: int = 1) -> None:
    """An order's items added to (or, cancelled, taken from) their products' days."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {ProductDay._meta.db_table} (day, product_id, quantity, revenue)
            SELECT %(day)s, product_id, %(sign)s * SUM(quantity), %(sign)s * SUM(line_total)
            FROM {OrderItem._meta.db_table} WHERE order_id = %(order)s AND product_id IS NOT NULL
            GROUP BY product_id
            ON CONFLICT (day, product_id) DO UPDATE SET
                quantity = {ProductDay._meta.db_table}.quantity + EXCLUDED.quantity,
                revenue = {ProductDay._meta.db_table}.revenue + EXCLUDED.revenue
            """,
            {"day": local_day(order.created_at), "sign": sign, "order": order.pk},
        )


# --- rebuild


def rebuild_daily_rollups(zone: str | None = None) -> dict:
    """Recomputes every rollup of the current shop from its contacts and orders, in its time zone.

    Concurrent writers wait for the rebuild (TRUNCATE locks the tables) and add to the new rows.
    """
    zone = zone or _zone()
    with transaction.atomic():
        rebuild_tables(zone)
        if not ShopSettings.objects.filter(pk=shop_settings().pk).update(rollup_time_zone=zone):
            ShopSettings.objects.create(rollup_time_zone=zone)
    return {
        "days": DailyStats.objects.count(),
        "sequences": OrderSequence.objects.count(),
        "product_days": ProductDay.objects.count(),
    }


def rebuild_tables(zone: str) -> None:
    """The rebuild in plain SQL (also run by migration 0008, which cannot use today's models)."""
    params = {"zone": zone, "cancelled": CANCELLED}
    daily, sequence, products = DailyStats._meta.db_table, OrderSequence._meta.db_table, ProductDay._meta.db_table
    orders, items, contacts = Order._meta.db_table, OrderItem._meta.db_table, Contact._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {daily}, {sequence}, {products}")
        cursor.execute(
            f"""
            WITH o AS MATERIALIZED (
                SELECT (created_at AT TIME ZONE %(zone)s)::date AS day, total,
                       LAG((created_at AT TIME ZONE %(zone)s)::date) OVER w AS previous_day,
                       ROW_NUMBER() OVER w AS n
                FROM {orders} WHERE status <> %(cancelled)s
                WINDOW w AS (PARTITION BY contact_id ORDER BY created_at, id)
            ),
            sequence AS (
                INSERT INTO {sequence} (day, previous_day, ordinal, orders)
                SELECT day, COALESCE(previous_day, day), LEAST(n, 3), COUNT(*) FROM o GROUP BY 1, 2, 3
                RETURNING 1
            )
            INSERT INTO {daily} (day, new_contacts, orders, revenue, new_customers)
            SELECT day, 0, COUNT(*), SUM(total), COUNT(*) FILTER (WHERE n = 1) FROM o GROUP BY day
            """,
            params,
        )
        cursor.execute(
            f"""
            INSERT INTO {daily} (day, new_contacts, orders, revenue, new_customers)
            SELECT (created_at AT TIME ZONE %(zone)s)::date, COUNT(*), 0, 0, 0
            FROM {contacts} WHERE merged_into_id IS NULL GROUP BY 1
            ON CONFLICT (day) DO UPDATE SET new_contacts = EXCLUDED.new_contacts
            """,
            params,
        )
        cursor.execute(
            f"""
            INSERT INTO {products} (day, product_id, quantity, revenue)
            SELECT (o.created_at AT TIME ZONE %(zone)s)::date, i.product_id, SUM(i.quantity), SUM(i.line_total)
            FROM {items} i JOIN {orders} o ON o.id = i.order_id
            WHERE o.status <> %(cancelled)s AND i.product_id IS NOT NULL
            GROUP BY 1, 2
            """,
            params,
        )


def ensure_current() -> None:
    """Rebuilds the rollups when they were built in another zone than the shop's (or never)."""
    if shop_settings().rollup_time_zone != _zone():
        rebuild_daily_rollups()
