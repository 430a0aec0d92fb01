"""How a broadcast is doing and what it brought: progress while it sends, the funnel down to orders after,
the actual cost from the ledger, and segments for retargeting each step of the funnel."""

from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import metering
from billing.models import LedgerEntry
from crm.models import Order
from crm.services.segments import create_segment
from tenants.services.errors import ServiceError

from .models import Broadcast, Recipient

SENT = Q(sent_at__isnull=False) | Q(status__in=("sent", "delivered", "read"))
DELIVERED = Q(delivered_at__isnull=False) | Q(status__in=("delivered", "read"))
READ = Q(read_at__isnull=False) | Q(status="read")
REPLIED = Q(replied_at__isnull=False)


def _ordered(broadcast: Broadcast) -> Exists:
    """The recipient placed an order within the attribution window after the message went out."""
    return Exists(
        Order.objects.filter(
            contact_id=OuterRef("contact_id"),
            created_at__gte=OuterRef("sent_at"),
            created_at__lte=OuterRef("sent_at") + timedelta(days=broadcast.attribution_days),
        ).exclude(status=Order.Status.CANCELLED)
    )


# Retargeting steps: who stopped at each step of the funnel.
STEPS = {
    "failed": lambda broadcast: Q(status=Recipient.Status.FAILED),
    "not_delivered": lambda broadcast: Q(status__in=("sent", "failed")) & ~DELIVERED,
    "delivered_not_read": lambda broadcast: DELIVERED & ~READ,
    "read_no_reply": lambda broadcast: READ & ~REPLIED,
    "replied_no_order": lambda broadcast: REPLIED & ~_ordered(broadcast),
}


def progress(broadcast_id: int) -> dict:
    """Counts by state, failures by reason, the send rate of the last ten seconds and the time left."""
    broadcast = Broadcast.objects.get(pk=broadcast_id)
    recipients = Recipient.objects.filter(broadcast_id=broadcast_id)
    now = timezone.now()
    counts = recipients.aggregate(
        total=Count("pk"),
        queued=Count("pk", filter=Q(status="queued")),
        sending=Count("pk", filter=Q(status="sending")),
        sent=Count("pk", filter=SENT),
        delivered=Count("pk", filter=DELIVERED),
        read=Count("pk", filter=READ),
        failed=Count("pk", filter=Q(status="failed")),
        skipped=Count("pk", filter=Q(status="skipped")),
        replied=Count("pk", filter=REPLIED),
        opted_out=Count("pk", filter=Q(opted_out_at__isnull=False)),
        recent=Count("pk", filter=Q(sent_at__gte=now - timedelta(seconds=10))),
    )
    rate = counts.pop("recent") / 10
    waiting = counts["queued"] + counts["sending"]
    return {
        "status": broadcast.status,
        "status_reason": broadcast.status_reason,
        **counts,
        "failures": failures(broadcast_id),
        "rate_per_s": round(rate, 1),
        "eta_s": round(waiting / rate) if rate and waiting and broadcast.status == Broadcast.Status.SENDING else None,
    }


def failures(broadcast_id: int) -> list[dict]:
    rows = (
        Recipient.objects.filter(broadcast_id=broadcast_id, status=Recipient.Status.FAILED)
        .values("error_code", "error_reason")
        .annotate(count=Count("pk"))
        .order_by("-count")
    )
    return [{"code": row["error_code"], "reason": row["error_reason"], "count": row["count"]} for row in rows]


def actual_cost(broadcast: Broadcast) -> Decimal:
    """What the ledger charged for this broadcast's messages."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(SUM(l.price), 0) FROM {LedgerEntry._meta.db_table} l "
            f"JOIN {Recipient._meta.db_table} r ON r.wamid = l.wamid "
            "WHERE r.broadcast_id = %s AND l.shop_id = %s",
            [broadcast.pk, metering.current_terms().shop_id],
        )
        return cursor.fetchone()[0]


def summary(broadcast: Broadcast) -> dict:
    """The funnel sent > delivered > read > replied > ordered, with the orders' revenue and the cost."""
    recipients = Recipient.objects.filter(broadcast=broadcast)
    funnel = recipients.aggregate(
        sent=Count("pk", filter=SENT),
        delivered=Count("pk", filter=DELIVERED),
        read=Count("pk", filter=READ),
        replied=Count("pk", filter=REPLIED),
        opted_out=Count("pk", filter=Q(opted_out_at__isnull=False)),
    )
    opted_out = funnel.pop("opted_out")
    buyers = recipients.filter(SENT, contact_id__isnull=False).values("contact_id", "sent_at")
    orders = Order.objects.exclude(status=Order.Status.CANCELLED).filter(
        Exists(
            buyers.filter(
                contact_id=OuterRef("contact_id"),
                sent_at__lte=OuterRef("created_at"),
                sent_at__gte=OuterRef("created_at") - timedelta(days=broadcast.attribution_days),
            )
        )
    )
    totals = orders.aggregate(orders=Count("pk"), buyers=Count("contact_id", distinct=True), revenue=Sum("total"))
    funnel["ordered"] = totals["buyers"]
    return {
        "funnel": funnel,
        "orders": totals["orders"],
        "revenue": totals["revenue"] or 0,
        "currency": broadcast.currency,
        "cost": {"estimated": broadcast.estimated_cost, "actual": actual_cost(broadcast)},
        "opted_out": opted_out,
        "failures": failures(broadcast.pk),
    }


def recipients_at(broadcast: Broadcast, step: str):
    if step not in STEPS:
        raise ServiceError(_("Unknown funnel step."), field="step")
    return (
        Recipient.objects.filter(broadcast=broadcast)
        .filter(STEPS[step](broadcast))
        .annotate(name=F("contact__name"))
        .order_by("pk")
    )


def broadcast_step_contacts(broadcast_id: int, step: str):
    """Contact ids at a funnel step, as a subquery (the segment rule `broadcast`); no broadcast, nobody."""
    broadcast = Broadcast.objects.filter(pk=broadcast_id).first()
    if broadcast is None:
        return Recipient.objects.none().values("contact_id")
    return recipients_at(broadcast, step).filter(contact_id__isnull=False).values("contact_id")


def retarget(broadcast: Broadcast, step: str, name: str):
    """A saved segment of the contacts who stopped at `step`; it stays tied to this broadcast's funnel."""
    if step not in STEPS or step == "failed":
        raise ServiceError(_("Unknown funnel step."), field="step")
    segment = create_segment(
        name=name, rules={"op": "and", "rules": [{"field": "broadcast", "operator": step, "value": broadcast.pk}]}
    )
    return segment, recipients_at(broadcast, step).filter(contact_id__isnull=False).count()
