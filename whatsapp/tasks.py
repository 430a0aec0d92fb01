"""Background work of the WhatsApp channel; each runs in the schema of the shop that queued it."""

import logging
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from config.celery import app
from tenants.models import Shop
from whatsapp.channel.intake import INTERACTIVE_QUEUE, queue_processing
from whatsapp.channel.models import WebhookIntake

from . import auto_reply, inbound, outbound
from .models import Message

logger = logging.getLogger(__name__)


@app.task(bind=True, acks_late=True, max_retries=8)
def process_intake(self, intake_id: int) -> int:
    """Applies one stored webhook and decides its auto-replies in one transaction, then sends them. Idempotent."""
    replies: list[int] = []
    intake = WebhookIntake.objects.select_related("shop").filter(pk=intake_id).first()
    if intake is None or intake.status != WebhookIntake.Status.PENDING:
        return 0  # done already
    if intake.shop.schema_name != connection.schema_name:
        raise RuntimeError(f"intake {intake_id} belongs to {intake.shop.schema_name}, not {connection.schema_name}")
    if intake.shop.is_suspended:
        return 0  # kept pending; processed after reactivation
    contacts = inbound.customers(intake)  # committed apart: see there
    with transaction.atomic():
        pending = WebhookIntake.objects.filter(pk=intake_id, status=WebhookIntake.Status.PENDING)
        if not list(pending.select_for_update(skip_locked=True).values_list("pk", flat=True)):
            return 0  # another worker holds it, or has just done it
        new_messages = inbound.process(intake, contacts)
        WebhookIntake.objects.filter(pk=intake.pk).update(
            status=WebhookIntake.Status.PROCESSED, processed_at=timezone.now(), attempts=intake.attempts + 1
        )
        for message in new_messages:
            reply = _auto_reply(message)
            if reply is not None:
                replies.append(reply.pk)
    for reply_id in replies:
        # Sent right here rather than through another queue hop: the customer is waiting.
        _deliver_now(reply_id)
    return len(new_messages)


def _auto_reply(message):
    """The reply row, in the processing transaction (a savepoint: a failing rule never loses the message)."""
    try:
        with transaction.atomic():
            return auto_reply.answer(message, dispatch=False)
    except Exception:
        logger.exception("auto-reply failed for message %s", message.pk)
        return None


def _deliver_now(message_id: int) -> None:
    try:
        outbound.deliver(message_id)
    except outbound.RetryLater as later:
        deliver_message.apply_async((message_id,), {"attempt": 1}, countdown=later.countdown, queue=INTERACTIVE_QUEUE)


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
        .values_list("pk", "shop__schema_name")[:5000]
    )
    count = 0
    for intake_id, schema_name in stale:
        queue_processing(intake_id, schema_name, customer_waiting=True)
        count += 1
    connected = Shop.objects.shops().exclude(status=Shop.Status.SUSPENDED).filter(whatsapp_accounts__isnull=False)
    for shop in connected.distinct().only("schema_name"):
        with schema_context(shop.schema_name):
            for message_id in Message.objects.filter(
                status=Message.Status.PENDING, wamid__isnull=True, created_at__lt=cutoff
            ).values_list("pk", flat=True)[:1000]:
                deliver_message.apply_async((message_id,), queue=INTERACTIVE_QUEUE)
    return count
