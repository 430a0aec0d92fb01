"""Background work of the WhatsApp channel; each runs in the schema of the shop that queued it."""

import json
import logging
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from config.celery import app
from tenants.models import Shop
from whatsapp.channel.intake import INTERACTIVE_QUEUE, batch_started, queue_processing
from whatsapp.channel.models import WebhookIntake

from . import auto_reply, inbound, outbound
from .models import Message

logger = logging.getLogger(__name__)


# Rows per transaction. A customer's row is answered once its batch commits, and the replies go out one after
# another, so those batches stay small; statuses are applied in a few set-based statements whatever their number.
BATCH_ROWS = {True: 4, False: 200}


@app.task(bind=True, acks_late=True, max_retries=8)
def process_intake(self, intake_id: int) -> int:
    """Applies the shop's pending intake rows of this row's kind (customer messages, or statuses only), oldest
    first, a batch per transaction; decides the auto-replies in it and sends them once it commits. Returns the
    number of new customer messages. Idempotent: a row is claimed under lock and processed once.

    Under load the rows of many webhooks share one task and one transaction (see intake.queue_processing),
    which is what lets two cores keep up with a busy shop.
    """
    # Plain statements for the task's own bookkeeping: at 50 customer messages a second, the ORM's work of
    # building each query was a good part of a task's CPU.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT intake.shop_id, intake.carries_messages, shop.schema_name, shop.status FROM {INTAKE} AS intake "
            f"JOIN {Shop._meta.db_table} AS shop ON shop.id = intake.shop_id WHERE intake.id = %s",
            [intake_id],
        )
        found = cursor.fetchone()
    if found is None:
        return 0
    shop_id, customer_waiting, schema_name, shop_status = found
    if schema_name != connection.schema_name:
        raise RuntimeError(f"intake {intake_id} belongs to {schema_name}, not {connection.schema_name}")
    if shop_status == Shop.Status.SUSPENDED:
        return 0  # kept pending; processed after reactivation
    batch_started(schema_name, customer_waiting=customer_waiting)
    handled = 0
    while True:
        rows = _pending(shop_id, customer_waiting)
        if not rows:
            return handled
        try:
            new_messages, claimed = _process_batch(rows)
        except Exception:
            # One row that cannot be applied must not hold back the others: each in a transaction of its own.
            logger.exception("intake batch %s failed; processing its rows one by one", [row.pk for row in rows])
            for row in rows:
                try:
                    handled += _process_batch([row])[0]
                except Exception:
                    logger.exception("intake %s failed; left pending for the sweeper", row.pk)
            return handled
        handled += new_messages
        if claimed == len(rows) < BATCH_ROWS[customer_waiting]:
            return handled  # all there was
        # A full batch (more may wait), or another worker claimed some of these first: look again.


INTAKE = WebhookIntake._meta.db_table


def _pending(shop_id: int, customer_waiting: bool) -> list[WebhookIntake]:
    """The oldest pending rows of the kind that no other worker is processing (workers share a backlog). In
    autocommit: SKIP LOCKED passes over the rows a processing transaction holds, and no lock is kept here."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, body, phone_number_ids FROM {INTAKE} WHERE shop_id = %s AND carries_messages = %s "
            "AND status = %s ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
            [shop_id, customer_waiting, WebhookIntake.Status.PENDING, BATCH_ROWS[customer_waiting]],
        )
        return [
            WebhookIntake(pk=pk, body=body, phone_number_ids=json.loads(ids) if isinstance(ids, str) else ids)
            for pk, body, ids in cursor.fetchall()
        ]


def _process_batch(rows: list[WebhookIntake]) -> tuple[int, int]:
    """The rows not taken by another worker, in one transaction; then their auto-replies are sent.
    Returns (new customer messages, rows claimed)."""
    contacts = inbound.customers(rows)  # committed apart: see there
    replies: list[Message] = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {INTAKE} WHERE id = ANY(%s) AND status = %s FOR UPDATE SKIP LOCKED",
                [[row.pk for row in rows], WebhookIntake.Status.PENDING],
            )
            claimed = {pk for (pk,) in cursor.fetchall()}
        mine = [row for row in rows if row.pk in claimed]
        if not mine:
            return 0, 0  # other workers hold them, or have just done them
        new_messages = inbound.process(mine, contacts)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {INTAKE} SET status = %s, processed_at = %s, attempts = attempts + 1 WHERE id = ANY(%s)",
                [WebhookIntake.Status.PROCESSED, timezone.now(), sorted(claimed)],
            )
        book = auto_reply.RuleBook() if new_messages else None
        for message in new_messages:
            reply = _auto_reply(message, book)
            if reply is not None:
                replies.append(reply)
    account = outbound.shop_account() if replies else None  # read once for the batch's replies
    for reply in replies:
        # Sent right here rather than through another queue hop: the customer is waiting.
        _deliver_now(reply, account)
    return len(new_messages), len(mine)


def _auto_reply(message, book):
    """The reply row, in the processing transaction (a savepoint: a failing rule never loses the message)."""
    try:
        with transaction.atomic():
            return auto_reply.answer(message, dispatch=False, conversation=message.conversation, book=book)
    except Exception:
        logger.exception("auto-reply failed for message %s", message.pk)
        return None


def _deliver_now(reply: Message, account) -> None:
    try:
        outbound.deliver(reply.pk, message=reply, account=account)
    except outbound.RetryLater as later:
        deliver_message.apply_async((reply.pk,), {"attempt": 1}, countdown=later.countdown, queue=INTERACTIVE_QUEUE)


@app.task(bind=True, acks_late=True)
def deliver_message(self, message_id: int, attempt: int = 0) -> str:
    try:
        return outbound.deliver(message_id, attempt=attempt).status
    except outbound.RetryLater as later:
        deliver_message.apply_async(
            (message_id,), {"attempt": attempt + 1}, countdown=later.countdown, queue=INTERACTIVE_QUEUE
        )
        return "retrying"


@app.task(ignore_result=True)
def requeue_stale_intake(older_than_seconds: int = 20) -> int:
    """The sweeper: intake rows that were never processed (broker down, worker died) go again."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    stale = (
        WebhookIntake.objects.filter(status=WebhookIntake.Status.PENDING, received_at__lt=cutoff)
        .exclude(shop__status=Shop.Status.SUSPENDED)
        .values_list("pk", "shop__schema_name", "carries_messages")[:5000]
    )
    count = 0
    for intake_id, schema_name, customer_waiting in stale:
        queue_processing(intake_id, schema_name, customer_waiting=customer_waiting)
        count += 1
    connected = Shop.objects.shops().exclude(status=Shop.Status.SUSPENDED).filter(whatsapp_accounts__isnull=False)
    for shop in connected.distinct().only("schema_name"):
        with schema_context(shop.schema_name):
            for message_id in Message.objects.filter(
                status=Message.Status.PENDING, wamid__isnull=True, created_at__lt=cutoff
            ).values_list("pk", flat=True)[:1000]:
                deliver_message.apply_async((message_id,), queue=INTERACTIVE_QUEUE)
    return count
