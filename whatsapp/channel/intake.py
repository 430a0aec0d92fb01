"""Webhook intake: verify, store raw, answer. Processing happens later, in the shop's schema.

Meta signs each POST with the app secret of the app the number belongs to. A batch may mix
numbers; every known number's account must accept the signature, so a secret of one shop
can never vouch for another shop's number.
"""

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from config import metrics
from config.redis import redis_client

from .models import WebhookIntake, WhatsAppAccount

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 3 * 1024 * 1024
ROUTE_CACHE_SECONDS = 30


class WebhookRefused(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Route:
    shop_id: int
    schema_name: str
    app_secret: str


_routes: dict[str, tuple[float, Route]] = {}


def routes_for(phone_number_ids: set[str]) -> dict[str, Route]:
    """The routing table, cached per process for a few seconds (known numbers only)."""
    now = time.monotonic()
    found = {pid: entry[1] for pid in phone_number_ids if (entry := _routes.get(pid)) and entry[0] > now}
    missing = phone_number_ids - found.keys()
    if missing:
        for account in WhatsAppAccount.objects.filter(phone_number_id__in=missing).select_related("shop"):
            route = Route(account.shop_id, account.shop.schema_name, account.app_secret)
            _routes[account.phone_number_id] = (now + ROUTE_CACHE_SECONDS, route)
            found[account.phone_number_id] = route
    return found


def forget_route(phone_number_id: str) -> None:
    _routes.pop(phone_number_id, None)


def phone_number_ids(payload: dict) -> set[str]:
    ids = set()
    for entry in payload.get("entry") or []:
        for change in entry.get("changes") or []:
            metadata = (change.get("value") or {}).get("metadata") or {}
            if metadata.get("phone_number_id"):
                ids.add(str(metadata["phone_number_id"]))
    return ids


def carries_messages(payload: dict) -> bool:
    """Whether a customer wrote (not only statuses). Every change says `"field": "messages"`, so the
    parsed `value.messages` decides, not a search of the raw bytes."""
    return any(
        (change.get("value") or {}).get("messages")
        for entry in payload.get("entry") or []
        for change in entry.get("changes") or []
    )


def signature_valid(raw: bytes, header: str | None, secret: str) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").lower())


COUNTERS = "warung:webhooks"


def count(outcome: str) -> None:
    """Counters for the operator (refused, quarantined, accepted); never fails the request."""
    metrics.WEBHOOKS.labels(outcome=outcome).inc()
    try:
        redis_client().hincrby(COUNTERS, outcome, 1)
    except Exception:
        logger.warning("webhook counter unavailable")


REFUSALS_KEY = "warung:webhook-refusals:"
REFUSALS_HOURS = 24


def count_refusal(shop_ids: set[int]) -> None:
    """Refused webhooks per shop, in hourly buckets kept a day: the console's failing shops."""
    key = REFUSALS_KEY + timezone.now().strftime("%Y%m%d%H")
    try:
        pipe = redis_client().pipeline(transaction=False)
        for shop_id in shop_ids:
            pipe.hincrby(key, str(shop_id), 1)
        pipe.expire(key, (REFUSALS_HOURS + 1) * 3600)
        pipe.execute()
    except Exception:
        logger.warning("webhook refusal counter unavailable")


def refusals_by_shop() -> dict[int, int]:
    """Webhooks refused in the last 24 hours, by the shop whose number they named."""
    now = timezone.now()
    keys = [REFUSALS_KEY + (now - timedelta(hours=n)).strftime("%Y%m%d%H") for n in range(REFUSALS_HOURS)]
    pipe = redis_client().pipeline(transaction=False)
    for key in keys:
        pipe.hgetall(key)
    totals: dict[int, int] = {}
    for bucket in pipe.execute():
        for shop_id, refused in bucket.items():
            totals[int(shop_id)] = totals.get(int(shop_id), 0) + int(refused)
    return totals


def accept(raw: bytes, signature: str | None) -> list[WebhookIntake]:
    """Stores a verified webhook, one intake row per shop it concerns; raises WebhookRefused."""
    if len(raw) > MAX_BODY_BYTES:
        raise WebhookRefused(400, "Body larger than 3 MB.")
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebhookRefused(400, "Malformed JSON.") from exc
    if not isinstance(payload, dict):
        raise WebhookRefused(400, "Malformed payload.")
    ids = phone_number_ids(payload)
    if not ids:
        raise WebhookRefused(400, "No phone_number_id in the payload.")
    routes = routes_for(ids)
    if routes and not all(signature_valid(raw, signature, route.app_secret) for route in routes.values()):
        count("refused")
        count_refusal({route.shop_id for route in routes.values()})
        raise WebhookRefused(401, "Invalid signature.")

    by_shop: dict[int, list[str]] = {}
    for pid, route in routes.items():
        by_shop.setdefault(route.shop_id, []).append(pid)
    has_messages = carries_messages(payload)
    rows = [
        WebhookIntake(shop_id=shop_id, phone_number_ids=sorted(pids), body=raw, carries_messages=has_messages)
        for shop_id, pids in by_shop.items()
    ]
    unknown = sorted(ids - routes.keys())
    if unknown:
        # Answered 200 so Meta stops retrying; kept for the operator to see.
        rows.append(WebhookIntake(phone_number_ids=unknown, body=raw, status=WebhookIntake.Status.QUARANTINED))
    schemas = {route.shop_id: route.schema_name for route in routes.values()}
    if len(rows) == 1:
        rows[0].pk = _insert_one(rows[0])  # the usual case: one statement in autocommit
    else:
        with transaction.atomic():
            WebhookIntake.objects.bulk_create(rows)
    # Queued only once the rows are committed, so a worker always finds them.
    outcome = "quarantined" if unknown and not routes else "accepted"
    shop_rows = [row for row in rows if row.shop_id]
    for n, row in enumerate(shop_rows):
        # The counter rides along with the first row's queueing: one round trip to Redis in the usual case.
        counted = outcome if n == 0 else None
        queue_processing(row.pk, schemas[row.shop_id], customer_waiting=has_messages, counted=counted)
    if shop_rows:
        metrics.WEBHOOKS.labels(outcome=outcome).inc()
    else:
        count(outcome)
    return rows


def _insert_one(row: WebhookIntake) -> int:
    """One INSERT ... RETURNING in autocommit, without the ORM's per-save work (the request path's hot spot)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {WebhookIntake._meta.db_table} "
            "(received_at, shop_id, phone_number_ids, body, status, carries_messages, attempts, last_error) "
            "VALUES (%s, %s, %s, %s, %s, %s, 0, '') RETURNING id",
            [timezone.now(), row.shop_id, json.dumps(row.phone_number_ids), row.body, row.status, row.carries_messages],
        )
        return cursor.fetchone()[0]


def answer(raw: bytes, signature: str | None) -> tuple[int, str, bytes]:
    """The webhook POST's response (status, content type, body): the one place both entry points share."""
    metrics.WEBHOOKS_RECEIVED.inc()
    try:
        accept(raw, signature)
    except WebhookRefused as refused:
        if refused.status == 400:
            count("malformed")
        return render(refused.status, refused.reason)
    return 200, "text/plain", b"OK"


def render(status: int, error: str) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps({"error": error}).encode()


INTERACTIVE_QUEUE = "interactive"
# How long a queued processing task stands for the rows that arrive after it (should it be lost, the sweeper
# takes its rows once this has passed).
QUEUED_MARK_SECONDS = 10
# Statuses (ticks; nobody waits on them) are applied this long after the first of a batch arrives: every sent
# message brings three, and gathered for a second they are one task and a few statements for all, not a task
# each. Customer messages are processed at once.
STATUS_GATHER_SECONDS = 1.0


def queue_processing(intake_id: int, schema_name: str, *, customer_waiting: bool, counted: str | None = None) -> None:
    """Queues processing in the shop's schema, unless a task of the same kind is queued for the shop already
    and has not started: that task takes this row too (see `batch_started`). If Redis is down, the sweeper
    re-queues the row later.

    A customer's message goes to the `interactive` queue (served by its own workers, so an
    auto-reply never waits behind the three status updates every sent message brings back); statuses wait
    STATUS_GATHER_SECONDS for the ones that follow. `counted`: the intake's counter to bump (see `count`) in the
    same round trip to Redis.
    """
    from whatsapp.tasks import process_intake

    queue = INTERACTIVE_QUEUE if customer_waiting else "default"
    try:
        pipe = redis_client().pipeline(transaction=False)
        pipe.set(_queued_mark(schema_name, queue), intake_id, nx=True, ex=QUEUED_MARK_SECONDS)
        if counted:
            pipe.hincrby(COUNTERS, counted, 1)
        if not pipe.execute()[0]:
            return
        # The schema header tenant-schemas-celery reads, given directly: no schema switch on the request path.
        process_intake.apply_async(
            (intake_id,),
            queue=queue,
            headers={"_schema_name": schema_name},
            countdown=None if customer_waiting else STATUS_GATHER_SECONDS,
        )
    except Exception:
        logger.warning("could not queue intake %s; the sweeper will", intake_id)


def batch_started(schema_name: str, *, customer_waiting: bool) -> None:
    """Called by a processing task before it reads the pending rows: a row stored from now on queues a task
    of its own, and every row stored before is among those this task reads."""
    queue = INTERACTIVE_QUEUE if customer_waiting else "default"
    try:
        redis_client().delete(_queued_mark(schema_name, queue))
    except Exception:
        logger.warning("queued mark of %s not cleared; the next rows wait for the sweeper", schema_name)


def _queued_mark(schema_name: str, queue: str) -> str:
    return f"warung:intake-queued:{schema_name}:{queue}"


def verify_subscription(mode: str | None, token: str | None) -> bool:
    """Meta's GET handshake: any account's verify token subscribes the shared callback."""
    return mode == "subscribe" and bool(token) and WhatsAppAccount.objects.filter(verify_token=token).exists()
