"""Broadcast work for Celery: the send loop (on the `broadcasts` queue) and the sweeper that starts scheduled
broadcasts, recovers from dead workers and completes finished sends."""

import logging
import time

from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from config.celery import app
from config.redis import redis_client
from tenants.models import Shop

from . import recurring, sender, services
from .models import Broadcast, Recipient

logger = logging.getLogger(__name__)

SCHEDULED_KEY = "warung:broadcasts:scheduled"


@app.task(ignore_result=True, acks_late=False)
def send_broadcast(broadcast_id: int) -> None:
    """Not acknowledged late: a worker that dies mid-send is replaced by the sweeper, after its leases lapse."""
    sender.send(broadcast_id)


def mark_scheduled(schema: str, at) -> None:
    redis_client().zadd(SCHEDULED_KEY, {schema: at.timestamp()}, lt=True)


@app.task(ignore_result=True)
def sweep_broadcasts() -> None:
    """Every few seconds: start what is due (scheduled broadcasts, occurrences of repeating and triggered ones),
    give in-doubt recipients of dead workers back to the queue once no webhook claimed them, keep enough senders
    on every sending broadcast, complete the finished ones."""
    redis = redis_client()
    for schema in redis.zrangebyscore(SCHEDULED_KEY, "-inf", time.time()):
        schema = schema.decode()
        redis.zrem(SCHEDULED_KEY, schema)
        shop = Shop.objects.shops().filter(schema_name=schema).first()
        if shop is None:
            continue
        with schema_context(schema):
            services.start_due()
        with tenant_context(shop):  # the shop itself: its time zone, and whether it may spend
            try:
                recurring.run_due()
            except Exception:
                logger.exception("could not run the repeating broadcasts of %s", schema)
            _mark_next(schema)
    for member in redis.smembers(sender.ACTIVE_KEY):
        schema, broadcast_id = member.decode().rsplit(":", 1)
        if not Shop.objects.shops().filter(schema_name=schema).exists():
            redis.srem(sender.ACTIVE_KEY, member)  # the shop is gone
            continue
        try:
            with schema_context(schema):
                _tend(schema, int(broadcast_id))
        except Exception:
            logger.exception("could not tend broadcast %s", member)


def _tend(schema: str, broadcast_id: int) -> None:
    broadcast = Broadcast.objects.filter(pk=broadcast_id).first()
    sender.reconcile_in_doubt(broadcast_id)
    if broadcast is None or broadcast.status in (Broadcast.Status.COMPLETED, Broadcast.Status.CANCELLED):
        redis_client().srem(sender.ACTIVE_KEY, f"{schema}:{broadcast_id}")
        return
    if broadcast.status != Broadcast.Status.SENDING:
        return
    due = Recipient.objects.filter(broadcast_id=broadcast_id, status=Recipient.Status.QUEUED).exclude(
        next_attempt_at__gt=timezone.now()
    )
    missing = settings.BROADCAST_SENDERS - sender.live_senders(schema, broadcast_id)
    if due.exists():
        if missing > 0:
            services.dispatch_senders(schema, broadcast_id, count=missing)
    elif services.finish_if_done(broadcast_id):
        redis_client().srem(sender.ACTIVE_KEY, f"{schema}:{broadcast_id}")


@app.task(ignore_result=True)
def rediscover_broadcasts() -> None:
    """Rebuilds the sweeper's lists from the database (after Redis lost them)."""
    for shop in Shop.objects.shops().only("schema_name"):
        with schema_context(shop.schema_name):
            for broadcast_id in Broadcast.objects.filter(status=Broadcast.Status.SENDING).values_list("pk", flat=True):
                sender.mark_active(shop.schema_name, broadcast_id)
            _mark_next(shop.schema_name)


def _mark_next(schema: str) -> None:
    """Wakes the sweeper for this shop at its next scheduled broadcast or repeating run, whichever is first."""
    upcoming = Broadcast.objects.filter(status=Broadcast.Status.SCHEDULED).order_by("scheduled_at").first()
    times = [at for at in (upcoming and upcoming.scheduled_at, recurring.next_wake()) if at]
    if times:
        mark_scheduled(schema, min(times))
