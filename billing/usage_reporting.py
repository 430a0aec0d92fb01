"""Postpaid usage to Stripe Billing Meters, idempotently, and the reconciliation of ledger against Stripe."""

import logging
import zoneinfo
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

import stripe
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from . import stripe_gateway, wallet
from .models import BillingAccount, MeterReport, Plan, UsageRollup

logger = logging.getLogger(__name__)
STRIPE_WINDOW_DAYS = 34  # Stripe takes meter events up to 35 days old
MINOR_UNIT = {"IDR": Decimal(1), "USD": Decimal("0.01")}


def to_minor(amount: Decimal, currency: str) -> int:
    return int((amount / MINOR_UNIT.get(currency, Decimal("0.01"))).quantize(Decimal(1), ROUND_HALF_UP))


def postpaid_accounts():
    return (
        BillingAccount.objects.filter(shop__plan__usage_billing=Plan.UsageBilling.POSTPAID)
        .exclude(stripe_customer_id="")
        .select_related("shop")
    )


def queue_closed_days(account: BillingAccount) -> list[MeterReport]:
    """Outbox rows for every closed local day whose ledger total is not fully reported yet."""
    today = wallet.local_today(account.shop)
    since = today - timedelta(days=STRIPE_WINDOW_DAYS)
    totals = (
        UsageRollup.objects.filter(shop_id=account.shop_id, day__gte=since, day__lt=today)
        .values("day")
        .annotate(price=Sum("price"))
    )
    created = []
    with transaction.atomic():
        BillingAccount.objects.select_for_update().get(pk=account.pk)  # one reporter per shop at a time
        reported = {
            row["day"]: row
            for row in MeterReport.objects.filter(shop_id=account.shop_id, day__gte=since, day__lt=today)
            .values("day")
            .annotate(total=Sum("value"), count=Count("id"))
        }
        for row in totals:
            before = reported.get(row["day"], {"total": 0, "count": 0})
            missing = to_minor(row["price"], account.currency) - int(before["total"])
            if missing > 0:
                created.append(
                    MeterReport.objects.create(
                        shop_id=account.shop_id,
                        day=row["day"],
                        identifier=f"warung-{account.shop_id}-{row['day']:%Y%m%d}-{before['count'] + 1}",
                        value=missing,
                    )
                )
    return created


def send_pending(account: BillingAccount) -> int:
    """Sends unsent reports; a failure keeps the row for the next run, with Stripe's reason."""
    zone = zoneinfo.ZoneInfo(account.shop.time_zone or settings.SHOP_DEFAULT_TIME_ZONE)
    sent = 0
    for report in MeterReport.objects.filter(shop_id=account.shop_id, reported_at__isnull=True).order_by("pk"):
        moment = datetime.combine(report.day, time(12), tzinfo=zone)
        try:
            stripe_gateway.client().v1.billing.meter_events.create(
                params={
                    "event_name": settings.STRIPE_METER_EVENT_NAME,
                    "payload": {"stripe_customer_id": account.stripe_customer_id, "value": str(int(report.value))},
                    "identifier": report.identifier,
                    "timestamp": int(moment.timestamp()),
                }
            )
        except stripe.StripeError as error:
            if "already exists" not in str(error):  # Stripe's answer to a repeated identifier: already counted
                MeterReport.objects.filter(pk=report.pk).update(error=str(error)[:300])
                logger.warning("meter report %s failed: %s", report.identifier, error)
                continue
        MeterReport.objects.filter(pk=report.pk).update(reported_at=timezone.now(), error="")
        sent += 1
    return sent


def report_all() -> int:
    sent = 0
    for account in postpaid_accounts():
        queue_closed_days(account)
        sent += send_pending(account)
    return sent


def reconcile(month_start, month_end) -> list[dict]:
    """Ledger (rollups) against our reports and against Stripe's own sums, per postpaid shop."""
    meter = next(
        (m for m in stripe_gateway.client().v1.billing.meters.list().data
         if m.event_name == settings.STRIPE_METER_EVENT_NAME),
        None,
    )  # fmt: skip
    rows = []
    for account in postpaid_accounts():
        zone = zoneinfo.ZoneInfo(account.shop.time_zone or settings.SHOP_DEFAULT_TIME_ZONE)
        ledger = UsageRollup.objects.filter(shop_id=account.shop_id, day__gte=month_start, day__lte=month_end)
        ledger_minor = sum(
            to_minor(row["price"], account.currency) for row in ledger.values("day").annotate(price=Sum("price"))
        )
        ours = (
            MeterReport.objects.filter(
                shop_id=account.shop_id, day__gte=month_start, day__lte=month_end, reported_at__isnull=False
            ).aggregate(total=Sum("value"))["total"]
            or 0
        )
        stripe_total = None
        if meter is not None:
            start = datetime.combine(month_start, time(0), tzinfo=zone)
            end = datetime.combine(month_end + timedelta(days=1), time(0), tzinfo=zone)
            summaries = stripe_gateway.client().v1.billing.meters.event_summaries.list(
                meter.id,
                params={
                    "customer": account.stripe_customer_id,
                    "start_time": int(start.timestamp()),
                    "end_time": int(end.timestamp()),
                },
            )
            stripe_total = int(sum(Decimal(str(s.aggregated_value)) for s in summaries.data))
        rows.append(
            {
                "shop": account.shop.slug,
                "currency": account.currency,
                "ledger": ledger_minor,
                "reported": int(ours),
                "stripe": stripe_total,
                "difference": None if stripe_total is None else ledger_minor - stripe_total,
            }
        )
    return rows


def ensure_meter() -> None:
    """The Billing Meter our events go to (sum of minor units per customer), created once."""
    meters = stripe_gateway.client().v1.billing.meters.list().data
    if any(m.event_name == settings.STRIPE_METER_EVENT_NAME for m in meters):
        return
    stripe_gateway.client().v1.billing.meters.create(
        params={
            "display_name": "WhatsApp usage",
            "event_name": settings.STRIPE_METER_EVENT_NAME,
            "default_aggregation": {"formula": "sum"},
            "customer_mapping": {"event_payload_key": "stripe_customer_id", "type": "by_id"},
            "value_settings": {"event_payload_key": "value"},
        }
    )
