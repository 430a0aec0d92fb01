"""The analytics dashboard: a period's numbers next to the period of the same length just before.

A period is whole days `from`..`to` in the shop's time zone, both included (`from` 00:00 to the
midnight after `to`). Everything is aggregated in SQL, in a fixed number of queries whatever the
shop's size. Cancelled orders never count; money is integer minor units.

- **new_contacts**: contacts created in the period (merged duplicates left out).
- **active_customers**: customers with an order in the `active_window_days` before the period's
  end; **passive_customers**: customers whose first order was before the period's end, minus the
  active ones (so "as of the end of the period", which makes the previous value comparable).
- **orders**, **revenue**, **average_order_value** (revenue / orders, rounded; null without orders).
- **repeat_purchase_rate**: among customers who ordered in the period, the share with at least two
  orders ever up to the period's end (4 decimal places as a string, null when nobody ordered).
- **closing_rate**: deals won in the period / deals contacted in the period, by the pipeline's
  definitions (crm.services.pipeline's docstring); `closing_rate_counts` computes both periods in
  one query because the pipeline service offers only the full metrics, one period at a time.
- **messages_in** / **messages_out**: customer messages and messages sent to customers (no notes).
- **first_response** (period only): each customer message that starts a wait (the first in the
  conversation, or the first after a message of ours) in the period, timed to our next message;
  grouped by whether that reply was automated (auto-replies) or written by staff.
- **trend**: orders and revenue per day, or per week (weeks start on Monday, a week is labelled by
  its Monday) when the period is longer than 92 days; buckets without orders are listed as zeros.
- **funnel**: the pipeline's funnel over deals created in the period.
"""

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Contact, DailyStats, Deal, Order, OrderItem, OrderSequence, Product, ProductDay, Stage
from crm.services import pipeline, rollups
from crm.services.segments import shop_settings
from tenants.services.errors import ServiceError
from whatsapp.models import Conversation, Message

DEFAULT_DAYS = 30
MAX_DAYS = 731
WEEKLY_AFTER_DAYS = 92
TOP = 10
TOP_CUSTOMERS_FIRST_READ = 500
TOP_CUSTOMERS_MAX_READ = 20_000


@dataclass(frozen=True)
class Period:
    first_day: dt.date
    last_day: dt.date
    zone: zoneinfo.ZoneInfo

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first_day, dt.time.min, tzinfo=self.zone)

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.combine(self.last_day + dt.timedelta(days=1), dt.time.min, tzinfo=self.zone)

    @property
    def previous(self) -> "Period":
        last = self.first_day - dt.timedelta(days=1)
        return Period(last - dt.timedelta(days=self.days - 1), last, self.zone)

    @property
    def bucket(self) -> str:
        return "week" if self.days > WEEKLY_AFTER_DAYS else "day"


def parse_period(first: str | None, last: str | None, time_zone: str) -> Period:
    """`from`/`to` as given by the API (YYYY-MM-DD); the last 30 days up to today by default."""
    zone = zoneinfo.ZoneInfo(time_zone)
    try:
        last_day = dt.date.fromisoformat(last) if last else timezone.now().astimezone(zone).date()
    except ValueError:
        raise ServiceError(_("Give the dates as YYYY-MM-DD."), field="to") from None
    try:
        first_day = dt.date.fromisoformat(first) if first else last_day - dt.timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        raise ServiceError(_("Give the dates as YYYY-MM-DD."), field="from") from None
    if first_day > last_day:
        raise ServiceError(_("The start date is after the end date."), field="from")
    if (last_day - first_day).days + 1 > MAX_DAYS:
        raise ServiceError(_("Choose a period of at most %(days)s days.") % {"days": MAX_DAYS}, field="from")
    return Period(first_day, last_day, zone)


def _ratio(numerator: int, denominator: int) -> str | None:
    if not denominator:
        return None
    return str((Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def _average(total: int, count: int) -> int | None:
    return int((Decimal(total) / count).quantize(Decimal(1), rounding=ROUND_HALF_UP)) if count else None


def _pair(value, previous) -> dict:
    return {"value": value, "previous": previous}


# --- KPIs


def order_kpis(period: Period, active_window_days: int) -> dict:
    """Orders, revenue, customers, active and repeat customers of both periods, from the rollups.

    Customers who ordered in days a..b are the orders of those days that are a customer's first or
    follow one before a. The ones with a single order up to b are those whose first order is in
    a..b minus those whose second order is too: repeat = customers - (firsts - seconds).
    """
    previous = period.previous
    window = dt.timedelta(days=active_window_days)
    start, end, previous_start = period.first_day, period.last_day + dt.timedelta(days=1), previous.first_day
    ranges = {
        "current": (start, end),
        "previous": (previous_start, start),
        "active_current": (end - window, end),
        "active_previous": (start - window, start),
    }
    columns, params = [], {"low": min(previous_start, start - window), "end": end}
    for name, (low, high) in ranges.items():
        params[f"{name}_low"], params[f"{name}_high"] = low, high
        in_range = f"day >= %({name}_low)s AND day < %({name}_high)s"
        columns.append(f"SUM(orders) FILTER (WHERE {in_range} AND (ordinal = 1 OR previous_day < %({name}_low)s))")
        if not name.startswith("active"):
            columns.append(f"SUM(orders) FILTER (WHERE {in_range} AND ordinal = 1)")
            columns.append(f"SUM(orders) FILTER (WHERE {in_range} AND ordinal = 2 AND previous_day >= %({name}_low)s)")
    sql = f"""
        SELECT {", ".join(f"COALESCE({column}, 0)" for column in columns)}
        FROM {OrderSequence._meta.db_table} WHERE day >= %(low)s AND day < %(end)s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        customers, firsts, seconds, customers_previous, firsts_previous, seconds_previous, active, active_previous = (
            int(value) for value in cursor.fetchone()
        )
    days = DailyStats.objects.filter(day__gte=previous_start, day__lt=end).aggregate(
        n=Coalesce(Sum("orders", filter=Q(day__gte=start)), 0),
        n_previous=Coalesce(Sum("orders", filter=Q(day__lt=start)), 0),
        total=Coalesce(Sum("revenue", filter=Q(day__gte=start)), 0),
        total_previous=Coalesce(Sum("revenue", filter=Q(day__lt=start)), 0),
    )
    return {
        "orders": (days["n"], days["n_previous"]),
        "revenue": (days["total"], days["total_previous"]),
        "customers": (customers, customers_previous),
        "active": (active, active_previous),
        "repeat": (customers - firsts + seconds, customers_previous - firsts_previous + seconds_previous),
    }


def contact_kpis(period: Period) -> dict:
    """New contacts, and customers whose first order was before each period's end, from the rollups."""
    start, end, previous_start = period.first_day, period.last_day + dt.timedelta(days=1), period.previous.first_day
    counts = DailyStats.objects.filter(day__lt=end).aggregate(
        new=Coalesce(Sum("new_contacts", filter=Q(day__gte=start)), 0),
        new_previous=Coalesce(Sum("new_contacts", filter=Q(day__gte=previous_start, day__lt=start)), 0),
        customers=Coalesce(Sum("new_customers"), 0),
        customers_previous=Coalesce(Sum("new_customers", filter=Q(day__lt=start)), 0),
    )
    return {
        "new": (counts["new"], counts["new_previous"]),
        "customers": (counts["customers"], counts["customers_previous"]),
    }


def message_kpis(period: Period) -> dict:
    current = Q(created_at__gte=period.start)
    counts = Message.objects.filter(created_at__gte=period.previous.start, created_at__lt=period.end).aggregate(
        inbound=Count("pk", filter=Q(direction=Message.Direction.INBOUND) & current),
        inbound_previous=Count("pk", filter=Q(direction=Message.Direction.INBOUND) & ~current),
        outbound=Count("pk", filter=Q(direction=Message.Direction.OUTBOUND) & current),
        outbound_previous=Count("pk", filter=Q(direction=Message.Direction.OUTBOUND) & ~current),
    )
    return {
        "in": (counts["inbound"], counts["inbound_previous"]),
        "out": (counts["outbound"], counts["outbound_previous"]),
    }


def closing_rate_counts(period: Period) -> dict:
    """Deals contacted and won in both periods, by crm.services.pipeline's definitions, in one query.

    Only deals that can count are read, through indexes: contacted (`contacted_at`) in the period,
    deals of contacts that staff wrote to in the period, and deals closed in the period.
    """
    previous = period.previous
    deal, stage = Deal._meta.db_table, Stage._meta.db_table
    message, conversation = Message._meta.db_table, Conversation._meta.db_table

    def contacted(low: str, high: str) -> str:
        staff = f"""
            FROM {message} m JOIN {conversation} c ON c.id = m.conversation_id
            WHERE m.direction = %(out)s AND NOT m.automated
              AND m.created_at >= %({low})s AND m.created_at < %({high})s"""
        return f"""
            (SELECT COUNT(*) FROM {deal} WHERE contacted_at >= %({low})s AND contacted_at < %({high})s)
            + (SELECT COUNT(*) FROM {deal} d
               WHERE d.contact_id IN (SELECT c.contact_id {staff})
                 AND (d.contacted_at IS NULL OR d.contacted_at < %({low})s OR d.contacted_at >= %({high})s)
                 AND EXISTS (SELECT 1 {staff} AND c.contact_id = d.contact_id
                             AND m.created_at >= d.created_at AND m.created_at < COALESCE(d.closed_at, %({high})s)))"""

    sql = f"""
        SELECT {contacted("start", "end")}, {contacted("low", "start")},
               COUNT(*) FILTER (WHERE d.closed_at >= %(start)s), COUNT(*) FILTER (WHERE d.closed_at < %(start)s)
        FROM {deal} d JOIN {stage} s ON s.id = d.stage_id
        WHERE s.kind = %(won)s AND d.closed_at >= %(low)s AND d.closed_at < %(end)s
    """
    params = {"low": previous.start, "start": period.start, "end": period.end,
              "out": Message.Direction.OUTBOUND, "won": Stage.Kind.WON}  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        contacted_now, contacted_previous, won, won_previous = cursor.fetchone()
    return {"value": _ratio(won, contacted_now), "previous": _ratio(won_previous, contacted_previous)}


def kpis(period: Period) -> dict:
    settings = shop_settings()
    orders = order_kpis(period, settings.active_window_days)
    contacts = contact_kpis(period)
    messages = message_kpis(period)
    (active, active_previous), (ever, ever_previous) = orders["active"], contacts["customers"]
    (revenue, revenue_previous), (count, count_previous) = orders["revenue"], orders["orders"]
    (customers, customers_previous), (repeat, repeat_previous) = orders["customers"], orders["repeat"]
    return {
        "new_contacts": _pair(*contacts["new"]),
        "active_customers": _pair(active, active_previous),
        "passive_customers": _pair(max(ever - active, 0), max(ever_previous - active_previous, 0)),
        "orders": _pair(count, count_previous),
        "revenue": _pair(revenue, revenue_previous),
        "average_order_value": _pair(_average(revenue, count), _average(revenue_previous, count_previous)),
        "repeat_purchase_rate": _pair(_ratio(repeat, customers), _ratio(repeat_previous, customers_previous)),
        "closing_rate": closing_rate_counts(period),
        "messages_in": _pair(*messages["in"]),
        "messages_out": _pair(*messages["out"]),
    }


# --- First response


def first_response(period: Period) -> dict:
    """p50/p90 seconds from a customer's waiting message to our next message, staff and automated apart."""
    table = Message._meta.db_table
    sql = f"""
        WITH in_period AS (
            SELECT id, conversation_id, direction, created_at,
                   LAG(direction) OVER (PARTITION BY conversation_id ORDER BY created_at, id) AS previous_direction
            FROM {table}
            WHERE direction IN ('in', 'out') AND created_at >= %(start)s AND created_at < %(end)s
        ),
        waits AS (
            SELECT w.id, w.conversation_id, w.created_at
            FROM in_period w
            WHERE w.direction = 'in'
              AND (w.previous_direction = 'out'
                   OR (w.previous_direction IS NULL AND COALESCE((
                        SELECT b.direction FROM {table} b
                        WHERE b.conversation_id = w.conversation_id AND b.direction IN ('in', 'out')
                          AND b.created_at < %(start)s
                        ORDER BY b.created_at DESC, b.id DESC LIMIT 1), 'out') = 'out'))
        ),
        answered AS (
            SELECT EXTRACT(EPOCH FROM reply.created_at - w.created_at) AS seconds, reply.automated
            FROM waits w
            CROSS JOIN LATERAL (
                SELECT r.created_at, r.automated FROM {table} r
                WHERE r.conversation_id = w.conversation_id AND r.direction = 'out'
                  AND (r.created_at, r.id) > (w.created_at, w.id)
                ORDER BY r.created_at, r.id LIMIT 1
            ) reply
        )
        SELECT automated,
               PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY seconds),
               PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY seconds),
               COUNT(*)
        FROM answered GROUP BY automated
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"start": period.start, "end": period.end})
        rows = {automated: (p50, p90, count) for automated, p50, p90, count in cursor.fetchall()}

    def shape(row):
        if row is None:
            return {"p50_seconds": None, "p90_seconds": None, "count": 0}
        p50, p90, count = row
        return {"p50_seconds": round(p50), "p90_seconds": round(p90), "count": count}

    return {"human": shape(rows.get(False)), "automated": shape(rows.get(True))}


# --- Tables


def _orders_in(period: Period):
    return Order.objects.filter(created_at__gte=period.start, created_at__lt=period.end).exclude(
        status=Order.Status.CANCELLED
    )


def top_products(period: Period) -> list[dict]:
    """From the products' daily rollup; a deleted product is named as it was sold."""
    rows = list(
        ProductDay.objects.filter(day__gte=period.first_day, day__lte=period.last_day)
        .values("product_id")
        .annotate(sold=Sum("quantity"), sales=Sum("revenue"))
        .filter(sold__gt=0)
        .order_by("-sales", "-sold", "product_id")[:TOP]
    )
    names = dict(Product.objects.filter(pk__in=[r["product_id"] for r in rows]).values_list("pk", "name"))
    sold_as = {}
    if missing := [r["product_id"] for r in rows if r["product_id"] not in names]:
        sold_as = dict(
            OrderItem.objects.filter(
                product_id__in=missing, order__created_at__gte=period.start, order__created_at__lt=period.end
            )
            .exclude(order__status=Order.Status.CANCELLED)
            .values("product_id")
            .annotate(sold_as=Max("description"))
            .values_list("product_id", "sold_as")
        )
    return [
        {
            "product_id": row["product_id"],
            "name": names.get(row["product_id"], sold_as.get(row["product_id"])),
            "quantity": row["sold"],
            "revenue": row["sales"],
        }
        for row in rows
    ]


def top_customers(period: Period) -> list[dict]:
    """The customers with the most revenue in the period, without adding up every order of it.

    Nobody spends more in a period than in total (`total_spent`), so customers are read by
    `total_spent` downwards, each with their period's orders (index on contact and date), until
    the next one's total is below the tenth's period revenue. When that bound is weak (few or tiny
    orders), the period's orders are added up per customer instead.
    """
    rank = lambda row: (-row[4], -row[3], row[0])  # noqa: E731  (revenue, orders, id) as the API sorts
    sql = f"""
        SELECT c.id, c.name, c.phone, s.orders, s.revenue, c.total_spent
        FROM (SELECT id, name, phone, total_spent FROM {Contact._meta.db_table}
              WHERE total_spent >= %(floor)s ORDER BY total_spent DESC LIMIT %(limit)s) c
        CROSS JOIN LATERAL (
            SELECT COUNT(*) AS orders, COALESCE(SUM(total), 0)::bigint AS revenue FROM {Order._meta.db_table} o
            WHERE o.contact_id = c.id AND o.created_at >= %(start)s AND o.created_at < %(end)s
              AND o.status <> %(cancelled)s
        ) s
    """
    params = {"start": period.start, "end": period.end, "cancelled": Order.Status.CANCELLED}
    rows = None
    with connection.cursor() as cursor:
        cursor.execute(sql, {**params, "floor": 0, "limit": TOP_CUSTOMERS_FIRST_READ})
        scanned = cursor.fetchall()
        found = sorted((row for row in scanned if row[3]), key=rank)[:TOP]
        if len(scanned) < TOP_CUSTOMERS_FIRST_READ or (len(found) == TOP and scanned[-1][5] < found[-1][4]):
            rows = found
        elif len(found) == TOP and found[-1][4] > 0:
            cursor.execute(sql, {**params, "floor": found[-1][4], "limit": TOP_CUSTOMERS_MAX_READ})
            scanned = cursor.fetchall()
            if len(scanned) < TOP_CUSTOMERS_MAX_READ:
                rows = sorted((row for row in scanned if row[3]), key=rank)[:TOP]
    if rows is None:
        rows = [
            (r["contact_id"], r["contact__name"], r["contact__phone"], r["orders"], r["revenue"], None)
            for r in _orders_in(period)
            .values("contact_id", "contact__name", "contact__phone")
            .annotate(orders=Count("pk"), revenue=Sum("total"))
            .order_by("-revenue", "-orders", "contact_id")[:TOP]
        ]
    return [
        {"contact_id": pk, "name": name or phone or "", "orders": orders, "revenue": revenue}
        for pk, name, phone, orders, revenue, _total in rows
    ]


def trend(period: Period) -> list[dict]:
    """Orders and revenue per day (per week beyond 92 days), every bucket listed, from the daily rollup."""
    weekly = period.bucket == "week"
    found: dict[dt.date, dict] = {}
    for day, orders, revenue in DailyStats.objects.filter(
        day__gte=period.first_day, day__lte=period.last_day
    ).values_list("day", "orders", "revenue"):
        start = day - dt.timedelta(days=day.weekday()) if weekly else day
        bucket = found.setdefault(start, {"orders": 0, "revenue": 0})
        bucket["orders"] += orders
        bucket["revenue"] += revenue
    step = dt.timedelta(days=7 if weekly else 1)
    day = period.first_day - dt.timedelta(days=period.first_day.weekday()) if weekly else period.first_day
    buckets = []
    while day <= period.last_day:
        row = found.get(day, {})
        buckets.append({"date": day.isoformat(), "orders": row.get("orders", 0), "revenue": row.get("revenue", 0)})
        day += step
    return buckets


TABLES = {"top_products": top_products, "top_customers": top_customers, "trend": trend}


def dashboard(period: Period) -> dict:
    rollups.ensure_current()
    previous = period.previous
    deals_created = Deal.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    return {
        "from": period.first_day.isoformat(),
        "to": period.last_day.isoformat(),
        "previous_from": previous.first_day.isoformat(),
        "previous_to": previous.last_day.isoformat(),
        "kpis": kpis(period),
        "first_response": first_response(period),
        "top_products": top_products(period),
        "top_customers": top_customers(period),
        "bucket": period.bucket,
        "trend": trend(period),
        "funnel": pipeline._funnel(deals_created),
    }
