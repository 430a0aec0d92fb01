"""What WhatsApp and the customer tell a broadcast after the send: statuses (found by the callback data each
call carried, so even a call whose worker died is recognised), replies and opt-outs."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from billing import metering, wallet
from crm.models import Contact
from crm.services.contacts import mark_undeliverable, opt_out_of_marketing
from whatsapp.errors import meaning

from .models import Broadcast, Recipient, lock_recipients

RANK = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "read": 4}
HELD_BACK, OPTED_OUT, UNDELIVERABLE = 131049, 131050, 131026


def _callback(status: dict) -> tuple[int, int] | None:
    data = status.get("biz_opaque_callback_data") or ""
    if not data.startswith("b:"):
        return None
    try:
        _b, recipient_id, attempt = data.split(":")
        return int(recipient_id), int(attempt)
    except ValueError:
        return None


def apply_statuses(statuses: list[dict]) -> dict[str, tuple[str, Decimal]]:
    """Moves broadcast recipients forward (never back) from a batch of status dicts, in one statement.

    Returns what each billable message held, {wamid: (reservation reference, amount)}, for the ledger to
    settle against the broadcast's reservation when it prices them.
    """
    merged: dict[tuple[int, int], dict] = {}
    for status in statuses:
        key = _callback(status)
        name = status.get("status")
        if key is None or (name not in RANK and name != "failed"):
            continue
        at = datetime.fromtimestamp(int(status.get("timestamp") or 0), tz=UTC)
        row = merged.setdefault(key, {"wamid": status.get("id"), "best": "sent", "sent": at, "delivered": None,
                                      "read": None, "failed": None})  # fmt: skip
        if name == "failed":
            row["failed"] = status
        else:
            if RANK[name] > RANK[row["best"]]:
                row["best"] = name
            if name in ("delivered", "read"):
                row["delivered"] = min(filter(None, [row["delivered"], at]))
            if name == "read":
                row["read"] = at
            row["sent"] = min(row["sent"], at)
    if not merged:
        return {}
    keys = list(merged)
    rows = [merged[key] for key in keys]
    table = Recipient._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        lock_recipients(cursor, [key[0] for key in keys])
        cursor.execute(
            f"""UPDATE {table} r SET
                  wamid = COALESCE(r.wamid, v.wamid),
                  status = CASE WHEN r.status IN ('failed', 'skipped') THEN r.status
                                WHEN array_position(%s::text[], v.best) > array_position(%s::text[], r.status)
                                THEN v.best ELSE r.status END,
                  sent_at = COALESCE(r.sent_at, v.sent),
                  delivered_at = COALESCE(r.delivered_at, v.delivered),
                  read_at = COALESCE(r.read_at, v.read),
                  lease_until = NULL
                FROM unnest(%s::bigint[], %s::int[], %s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[],
                            %s::timestamptz[]) AS v(id, attempt, wamid, best, sent, delivered, read)
                WHERE r.id = v.id AND r.attempts = v.attempt
                RETURNING r.wamid, r.broadcast_id, r.hold""",
            [list(RANK), list(RANK), [k[0] for k in keys], [k[1] for k in keys], [row["wamid"] for row in rows],
             [row["best"] for row in rows], [row["sent"] for row in rows], [row["delivered"] for row in rows],
             [row["read"] for row in rows]],
        )  # fmt: skip
        holds = {wamid: (f"broadcast:{broadcast_id}", hold) for wamid, broadcast_id, hold in cursor.fetchall()}
    _apply_failures({key: row["failed"] for key, row in merged.items() if row["failed"]})
    return holds


def _apply_failures(failures: dict[tuple[int, int], dict]) -> None:
    """A failed status: the recipient fails with Meta's reason (or, held back for engagement, is sent again
    after 24 hours); its share of the reservation is freed; 131050 opts the contact out, 131026 marks the
    number undeliverable."""
    for (recipient_id, attempt), status in sorted(failures.items()):
        error = (status.get("errors") or [{}])[0]
        code = error.get("code")
        reason = str(meaning(code, message=error.get("message") or error.get("title") or "").reason)[:300]
        moving = Recipient.objects.filter(pk=recipient_id, attempts=attempt).exclude(
            status__in=(Recipient.Status.FAILED, Recipient.Status.SKIPPED, Recipient.Status.READ)
        )
        recipient = moving.select_related("broadcast").first()
        if recipient is None:
            continue
        if code == HELD_BACK:
            moving.update(status=Recipient.Status.QUEUED, wamid=None, error_code=code, error_reason=reason,
                          next_attempt_at=timezone.now() + timedelta(hours=24))  # fmt: skip
            continue
        moving.update(status=Recipient.Status.FAILED, failed_at=timezone.now(), error_code=code, error_reason=reason)
        wallet.free_hold(metering.current_terms().shop_id, recipient.broadcast.hold_reference, recipient.hold)
        if code == OPTED_OUT and recipient.contact_id:
            contact = Contact.objects.filter(pk=recipient.contact_id).first()
            if contact:
                opt_out_of_marketing(contact, "WhatsApp error 131050")
        elif code == UNDELIVERABLE:
            mark_undeliverable(recipient.wa_id)


def _latest_recipient(contact_id: int, at, context_wamid: str = "") -> Recipient | None:
    """The broadcast message a customer's action answers: the one they quoted, else the latest sent to them
    within its broadcast's attribution window."""
    if context_wamid:
        quoted = Recipient.objects.filter(wamid=context_wamid, contact_id=contact_id).first()
        if quoted:
            return quoted
    latest = (
        Recipient.objects.filter(contact_id=contact_id, sent_at__lte=at, sent_at__gte=at - timedelta(days=31))
        .select_related("broadcast")
        .order_by("-sent_at")
        .first()
    )
    if latest and at - latest.sent_at <= timedelta(days=latest.broadcast.attribution_days):
        return latest
    return None


def on_reply(contact_id: int, at, context_wamid: str = "") -> None:
    """A customer wrote: their latest broadcast (within its attribution window) counts a reply."""
    if context_wamid:
        recipient = _latest_recipient(contact_id, at, context_wamid)
        if recipient and recipient.replied_at is None:
            Recipient.objects.filter(pk=recipient.pk, replied_at__isnull=True).update(replied_at=at)
        return
    # Every customer message comes here: `_latest_recipient` and the update as one plain statement.
    recipients, broadcasts = Recipient._meta.db_table, Broadcast._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {recipients} AS recipient SET replied_at = %(at)s FROM ("
            f"SELECT latest.id, latest.sent_at, broadcast.attribution_days FROM {recipients} AS latest "
            f"JOIN {broadcasts} AS broadcast ON broadcast.id = latest.broadcast_id "
            "WHERE latest.contact_id = %(contact)s AND latest.sent_at <= %(at)s AND latest.sent_at >= %(since)s "
            "ORDER BY latest.sent_at DESC LIMIT 1) AS latest "
            "WHERE recipient.id = latest.id AND recipient.replied_at IS NULL "
            "AND %(at)s - latest.sent_at <= make_interval(days => latest.attribution_days)",
            {"at": at, "contact": contact_id, "since": at - timedelta(days=31)},
        )


def on_opt_out(contact_id: int, at, context_wamid: str = "") -> None:
    """A customer opted out: the broadcast that prompted it counts the opt-out."""
    recipient = _latest_recipient(contact_id, at, context_wamid)
    if recipient:
        Recipient.objects.filter(pk=recipient.pk, opted_out_at__isnull=True).update(opted_out_at=at)
