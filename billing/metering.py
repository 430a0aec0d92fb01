"""The usage ledger: one row per message Meta prices, written from status webhooks, set-based.

Meta charges per delivered message, so a row is written from the first `delivered` or `read` status of a
message (the `sent` status also carries pricing but a message may still fail). The WhatsApp message id is
the ledger's unique key: a duplicate or reordered webhook inserts nothing, so it bills nothing. Rollups per
shop, local day and category are updated in the same statement, from exactly the rows inserted, so
they always equal the ledger. A prepaid shop's balance is settled in the same transaction.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from config import metrics
from crm.models import Contact
from tenants.models import Shop

from . import ratecard, wallet
from .models import LedgerEntry, Plan, UsageRollup
from .ratecard import market_of

BILLING_STATUSES = ("delivered", "read")


@dataclass
class ShopTerms:
    shop_id: int
    currency: str
    time_zone: zoneinfo.ZoneInfo
    markup_percent: Decimal
    prepaid: bool


def current_terms() -> ShopTerms:
    """The pricing terms of the shop whose schema is active."""
    return _terms()[0]


def _terms(*, with_rate_card_version: bool = False) -> tuple[ShopTerms, str | None]:
    """The active shop's terms, read fresh in one query (the plan's markup may have just changed), and
    optionally the rate card's version, so the cached rate book is checked in the same round trip."""
    version = ratecard.VERSION_SQL if with_rate_card_version else "NULL"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT shop.id, shop.currency, shop.time_zone, plan.whatsapp_markup_percent, plan.usage_billing, {version}
            FROM {Shop._meta.db_table} AS shop LEFT JOIN {Plan._meta.db_table} AS plan ON plan.id = shop.plan_id
            WHERE shop.schema_name = %s
            """,
            [connection.schema_name],
        )
        shop_id, currency, time_zone, markup_percent, usage_billing, rate_card_version = cursor.fetchone()
    terms = ShopTerms(
        shop_id=shop_id,
        currency=currency or "IDR",
        time_zone=zoneinfo.ZoneInfo(time_zone or settings.SHOP_DEFAULT_TIME_ZONE),
        markup_percent=markup_percent if markup_percent is not None else Decimal(0),
        prepaid=usage_billing in (None, Plan.UsageBilling.PREPAID),
    )
    return terms, rate_card_version


def _occurred_at(status: dict) -> datetime:
    try:
        return datetime.fromtimestamp(int(status.get("timestamp")), tz=UTC)
    except (TypeError, ValueError):
        return timezone.now()


def record_statuses(statuses: list[dict], holds: dict[str, tuple[str, Decimal]] | None = None) -> int:
    """Writes the ledger rows the given status webhooks price; returns how many rows were new.

    `statuses` are the `value.statuses` objects of one or more webhooks of the active shop. Statuses
    without a pricing object are priced from the rate card when they are for one of our templates.
    `holds` names, for messages covered by a group reservation (a broadcast's), the reservation and the
    message's share of it: `{wamid: (reference, amount)}`; when such a message is ledgered, its share is freed
    as its real price is debited (once: a repeated status inserts no row).
    The hot path of status processing: one query for the shop's terms and the rate card's version, the
    rate book cached per process, a few set-based statements for the ledger, rollups and balance.
    """
    candidates = [s for s in statuses if s.get("status") in BILLING_STATUSES and s.get("id")]
    if not candidates:
        return 0
    terms, version = _terms(with_rate_card_version=True)
    rates = ratecard.rate_book(version)
    priced_here = {s["id"] for s in candidates if isinstance(s.get("pricing"), dict)}
    unpriced = {s["id"] for s in candidates} - priced_here
    fallback = _fallback_categories(unpriced) if unpriced else {}
    rows: dict[str, tuple] = {}
    for status in candidates:
        wamid = status["id"]
        if wamid in rows:
            continue
        pricing = status.get("pricing") if isinstance(status.get("pricing"), dict) else None
        if pricing is None and (wamid in priced_here or wamid not in fallback):
            continue  # Meta's own price comes in another status; or a free-form (service) message: not billed
        occurred_at = _occurred_at(status)
        day = occurred_at.astimezone(terms.time_zone).date()
        if pricing is not None:
            category = str(pricing.get("category") or "service")
            pricing_type = str(pricing.get("type") or "regular")
            priced_from = "webhook"
        else:
            category, pricing_type = fallback[wamid]
            priced_from = "rate_card"
        billed = pricing_type == LedgerEntry.PricingType.REGULAR and category not in ("service",)
        market = market_of(status.get("recipient_id"))
        price = rates.price(
            market=market,
            category=category,
            on=day,
            currency=terms.currency,
            markup_percent=terms.markup_percent,
            billed=billed,
        )
        rows[wamid] = (
            wamid, occurred_at, day, category, market, pricing_type, billed, priced_from,
            price.rate_currency, price.rate, price.fx_rate, price.currency, price.meta_cost, price.price,
        )  # fmt: skip
    if not rows:
        return 0
    with transaction.atomic():
        # In wamid order: concurrent batches sharing messages wait for each other instead of deadlocking.
        inserted = _insert_and_roll_up(terms.shop_id, terms.currency, [rows[wamid] for wamid in sorted(rows)])
        if inserted and terms.prepaid:
            wallet.settle_usage(terms.shop_id, inserted, holds)
        transaction.on_commit(lambda: metrics.LEDGER_ROWS.inc(len(inserted)))
    return len(inserted)


def _insert_and_roll_up(shop_id: int, currency: str, rows: list[tuple]) -> list[tuple[str, Decimal]]:
    """One statement: the batch's ledger rows, and the rollups of exactly those inserted (a duplicate adds
    nothing to either). Returns (wamid, price) of the new rows."""
    ledger, rollups = LedgerEntry._meta.db_table, UsageRollup._meta.db_table
    columns = list(zip(*rows, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH inserted AS (
                INSERT INTO {ledger}
                    (shop_id, wamid, occurred_at, day, category, market, pricing_type, billable, priced_from,
                     rate_currency, rate, fx_rate, currency, meta_cost, price)
                SELECT %s, * FROM unnest(
                    %s::varchar[], %s::timestamptz[], %s::date[], %s::varchar[], %s::varchar[], %s::varchar[],
                    %s::boolean[], %s::varchar[], %s::varchar[], %s::numeric[], %s::numeric[], %s::varchar[],
                    %s::numeric[], %s::numeric[])
                ON CONFLICT (wamid) DO NOTHING
                RETURNING wamid, day, category, billable, meta_cost, price
            ), rolled_up AS (
                INSERT INTO {rollups} (shop_id, currency, day, category, messages, billable_messages, meta_cost, price)
                SELECT %s, %s, day, category, count(*), count(*) FILTER (WHERE billable), sum(meta_cost), sum(price)
                FROM inserted
                GROUP BY day, category
                ORDER BY day, category  -- a fixed order: concurrent batches lock rollup rows without deadlocking
                ON CONFLICT (shop_id, day, category) DO UPDATE SET
                    messages = {rollups}.messages + EXCLUDED.messages,
                    billable_messages = {rollups}.billable_messages + EXCLUDED.billable_messages,
                    meta_cost = {rollups}.meta_cost + EXCLUDED.meta_cost,
                    price = {rollups}.price + EXCLUDED.price
            )
            SELECT wamid, price FROM inserted
            """,
            [shop_id, *[list(column) for column in columns], shop_id, currency],
        )
        return cursor.fetchall()


def _fallback_categories(wamids: set[str]) -> dict[str, tuple[str, str]]:
    """Category and pricing type of our own template messages not yet ledgered, for statuses without pricing.

    Mostly `read` statuses (Meta never prices them) of messages billed already: a simple query finds there is
    nothing to do, and only a template message not yet billed is joined to its template and customer.
    A utility template sent inside the customer-service window is free, as Meta prices it.
    """
    from whatsapp.models import Conversation, Message, MessageTemplate
    from whatsapp.outbound import SERVICE_WINDOW

    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT message.id FROM {Message._meta.db_table} AS message
            WHERE message.wamid = ANY(%s) AND message.type = 'template'
              AND NOT EXISTS (SELECT 1 FROM {LedgerEntry._meta.db_table} AS ledger WHERE ledger.wamid = message.wamid)
            """,
            [list(wamids)],
        )
        unbilled = [message_id for (message_id,) in cursor.fetchall()]
        if not unbilled:
            return {}
        cursor.execute(
            f"""
            SELECT message.wamid, lower(template.category), message.created_at, contact.last_inbound_at
            FROM {Message._meta.db_table} AS message
            JOIN {Conversation._meta.db_table} AS conversation ON conversation.id = message.conversation_id
            JOIN {Contact._meta.db_table} AS contact ON contact.id = conversation.contact_id
            JOIN {MessageTemplate._meta.db_table} AS template
              ON template.name = message.payload -> 'template' ->> 'name'
             AND template.language = message.payload -> 'template' -> 'language' ->> 'code'
            WHERE message.id = ANY(%s) AND template.category <> ''
            """,
            [unbilled],
        )
        found = {}
        for wamid, category, created_at, last_inbound in cursor.fetchall():
            in_window = last_inbound is not None and created_at - last_inbound < SERVICE_WINDOW
            free = category == "utility" and in_window
            found[wamid] = (category, "free_customer_service" if free else "regular")
    return found


def month_to_date(shop_id: int, today: date) -> dict:
    """This month's usage from the rollups: per category and total. Instant at any ledger size."""
    start = today.replace(day=1)
    rows = (
        UsageRollup.objects.filter(shop_id=shop_id, day__gte=start, day__lte=today)
        .values("category")
        .order_by("category")
        .annotate(
            messages=Sum("messages"),
            billable_messages=Sum("billable_messages"),
            meta_cost=Sum("meta_cost"),
            price=Sum("price"),
        )
    )
    by_category = {row["category"]: row for row in rows}
    total = {
        key: sum((row[key] for row in by_category.values()), Decimal(0) if key in ("meta_cost", "price") else 0)
        for key in ("messages", "billable_messages", "meta_cost", "price")
    }
    return {"from": start, "to": today, "by_category": by_category, "total": total}


def hold_for_send(reference: str, *, recipient: str | None, category: str, inside_window: bool) -> None:
    """Before a template leaves: reserve its estimated price, or refuse it (balance, cap) with the reason.

    A utility template inside the customer-service window is free, as Meta prices it; so is a service one.
    """
    category = category.lower()
    if category in ("service",) or (category == "utility" and inside_window):
        return
    terms = current_terms()
    today = timezone.now().astimezone(terms.time_zone).date()
    estimate = ratecard.rate_book().price(
        market=market_of(recipient),
        category=category,
        on=today,
        currency=terms.currency,
        markup_percent=terms.markup_percent,
        billed=True,
    )
    wallet.reserve(terms.shop_id, reference, estimate.price, prepaid=terms.prepaid)
