"""The send loop a broadcast worker runs.

Recipients are claimed in batches under a lease (`status = sending`, `attempts + 1`, committed before any call
goes out); each call carries `b:<recipient id>:<attempt>` as its callback data. An asyncio loop sends them with
aiohttp through the number's shared Redis limiter, and what WhatsApp answered is written back in bulk a few
times a second. Several workers may run the same broadcast: SKIP LOCKED gives each its own rows and the
limiter keeps them together under the number's throughput.

A worker that dies leaves its claimed rows `sending` with a lapsing lease. Those calls may or may not have gone
out, so they are never resent blindly: the status webhooks of a call that did go out carry its callback data
and mark the row sent (tracking.py); rows still in doubt a grace period after their lease lapsed had no call
reach WhatsApp and go back to the queue (`reconcile_in_doubt`).
"""

import asyncio
import json
import logging
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
import redis.asyncio
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from billing import metering, wallet
from config import metrics
from config.redis import redis_client
from crm.models import Contact
from crm.services.contacts import mark_undeliverable, opt_out_of_marketing
from tenants.models import Shop
from whatsapp import live, rate_limit
from whatsapp.channel.models import WebhookIntake, WhatsAppAccount
from whatsapp.errors import meaning

from . import rendering, services
from .models import Broadcast, Recipient, lock_recipients

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
STOP_CODES = {132000, 132001, 132015, 132016}  # the template itself is refused: nothing more can go
PAUSE_CODES = {131048}  # flagged as spam: the shop decides whether to go on
OPTED_OUT, UNDELIVERABLE, HELD_BACK = 131050, 131026, 131049
ACTIVE_KEY = "warung:broadcasts:active"


def mark_active(schema: str, broadcast_id: int) -> None:
    redis_client().sadd(ACTIVE_KEY, f"{schema}:{broadcast_id}")


def senders_key(schema: str, broadcast_id: int) -> str:
    return f"warung:broadcasts:senders:{schema}:{broadcast_id}"


HEARTBEAT_SECONDS = 2


def live_senders(schema: str, broadcast_id: int) -> int:
    """Senders that reported within three heartbeats."""
    return redis_client().zcount(senders_key(schema, broadcast_id), time.time() - 3 * HEARTBEAT_SECONDS, "+inf")


@dataclass
class Outcome:
    recipient_id: int
    attempt: int
    kind: str  # sent | retry | failed | reschedule | requeue | doubt
    wamid: str | None = None
    code: int | None = None
    reason: str = ""
    at: float = 0.0  # when WhatsApp answered (epoch seconds)


class Sender:
    def __init__(self, broadcast_id: int, *, slice_seconds: float | None = None) -> None:
        self.broadcast_id = broadcast_id
        self.schema = connection.schema_name
        self.broadcast = Broadcast.objects.select_related("template").get(pk=broadcast_id)
        self.account = WhatsAppAccount.objects.filter(shop__schema_name=self.schema).first()
        self.rate = rate_limit.number_rate(self.account) if self.account else 1.0
        # About a quarter second of this sender's share of the number's rate: claimed rows wait briefly.
        self.claim_size = max(5, min(500, int(self.rate / settings.BROADCAST_SENDERS / 4)))
        self.deadline = time.monotonic() + (slice_seconds or settings.BROADCAST_SLICE_SECONDS)
        self.sender_id = uuid.uuid4().hex[:12]
        self.outcomes: list[Outcome] = []
        self.stopping = False
        self.more_work = False
        self.db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="broadcast-db")
        self.shop_id = metering.current_terms().shop_id
        self.language = Shop.objects.filter(pk=self.shop_id).values_list("locale", flat=True).first() or "id"

    # --- the database side, always on the one DB thread

    async def _db(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self.db, self._in_schema, function, *args)

    def _in_schema(self, function, *args):
        if connection.schema_name != self.schema:
            connection.set_schema(self.schema)
        return function(*args)

    def _claim(self, after_id: int) -> list[tuple]:
        """Up to `claim_size` due recipients after `after_id`, marked sending under a lease, with what their
        message needs; none once the broadcast is no longer sending."""
        lease = timezone.now() + timedelta(seconds=settings.BROADCAST_LEASE_SECONDS)
        table = Recipient._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH claimed AS (
                    SELECT r.id FROM {table} r
                    WHERE r.broadcast_id = %(b)s AND r.status = 'queued' AND r.id > %(after)s
                      AND (r.next_attempt_at IS NULL OR r.next_attempt_at <= now())
                      AND EXISTS (SELECT 1 FROM {Broadcast._meta.db_table} b
                                  WHERE b.id = %(b)s AND b.status = 'sending')
                    ORDER BY r.id LIMIT %(n)s FOR UPDATE SKIP LOCKED
                )
                UPDATE {table} r SET status = 'sending', attempts = r.attempts + 1, lease_until = %(lease)s
                FROM claimed
                WHERE r.id = claimed.id
                RETURNING r.id, r.attempts, r.wa_id, r.contact_id
                """,
                {"b": self.broadcast_id, "after": after_id, "n": self.claim_size, "lease": lease},
            )
            rows = sorted(cursor.fetchall())
        details = Contact.objects.in_bulk([row[3] for row in rows if row[3]])
        # A call must leave before the lease lapses: a grace period after that, the row may be recovered and
        # sent by another worker.
        send_by = time.monotonic() + settings.BROADCAST_LEASE_SECONDS
        return [(rid, attempt, wa_id, details.get(contact_id), send_by) for rid, attempt, wa_id, contact_id in rows]

    def _record(self, outcomes: list[Outcome]) -> None:
        """Writes a batch of answers: one statement per kind."""
        now = timezone.now()
        by_kind: dict[str, list[Outcome]] = {}
        for outcome in outcomes:
            by_kind.setdefault(outcome.kind, []).append(outcome)
        for kind, result in (("sent", "sent"), ("retry", "retry"), ("failed", "failed"), ("doubt", "in_doubt")):
            metrics.sent(result, "broadcast", len(by_kind.get(kind, ())))
        table = Recipient._meta.db_table
        with transaction.atomic(), connection.cursor() as cursor:
            lock_recipients(cursor, [outcome.recipient_id for outcome in outcomes])
            if sent := by_kind.get("sent"):
                cursor.execute(
                    f"""UPDATE {table} r SET wamid = COALESCE(r.wamid, v.wamid), sent_at = to_timestamp(v.at),
                        status = CASE WHEN r.status = 'sending' THEN 'sent' ELSE r.status END, lease_until = NULL
                        FROM unnest(%s::bigint[], %s::int[], %s::text[], %s::float8[]) AS v(id, attempt, wamid, at)
                        WHERE r.id = v.id AND r.attempts = v.attempt""",
                    [
                        [o.recipient_id for o in sent],
                        [o.attempt for o in sent],
                        [o.wamid for o in sent],
                        [o.at for o in sent],
                    ],
                )
            retry = [o for o in by_kind.get("retry", []) if o.attempt < MAX_ATTEMPTS]
            gave_up = [o for o in by_kind.get("retry", []) if o.attempt >= MAX_ATTEMPTS]
            later = [(o, random.uniform(0.5, min(60, 2**o.attempt))) for o in retry]
            later += [(o, 24 * 3600) for o in by_kind.get("reschedule", [])]
            later += [(o, 0) for o in by_kind.get("requeue", [])]
            if later:
                cursor.execute(
                    f"""UPDATE {table} r SET status = 'queued', lease_until = NULL,
                        next_attempt_at = %s + v.delay * interval '1 second',
                        error_code = v.code, error_reason = v.reason
                        FROM unnest(%s::bigint[], %s::int[], %s::float8[], %s::int[], %s::text[])
                             AS v(id, attempt, delay, code, reason)
                        WHERE r.id = v.id AND r.attempts = v.attempt AND r.status = 'sending'""",
                    [now, [o.recipient_id for o, _d in later], [o.attempt for o, _d in later], [d for _o, d in later],
                     [o.code for o, _d in later], [o.reason[:300] for o, _d in later]],
                )  # fmt: skip
            failed = by_kind.get("failed", []) + gave_up
            if failed:
                self._fail(cursor, failed, now)
        if (
            by_kind.get("requeue")
            and Broadcast.objects.filter(pk=self.broadcast_id, status=Broadcast.Status.CANCELLED).exists()
        ):
            services.skip_unsent(self.broadcast)

    def _fail(self, cursor, failed: list[Outcome], now) -> None:
        cursor.execute(
            f"""UPDATE {Recipient._meta.db_table} r SET status = 'failed', failed_at = %s, lease_until = NULL,
                error_code = v.code, error_reason = v.reason
                FROM unnest(%s::bigint[], %s::int[], %s::int[], %s::text[]) AS v(id, attempt, code, reason)
                WHERE r.id = v.id AND r.attempts = v.attempt AND r.status = 'sending'
                RETURNING r.hold, r.wa_id, r.contact_id, v.code""",
            [now, [o.recipient_id for o in failed], [o.attempt for o in failed], [o.code for o in failed],
             [o.reason[:300] for o in failed]],
        )  # fmt: skip
        rows = cursor.fetchall()
        freed = sum((hold for hold, *_rest in rows), 0)
        if freed:
            wallet.free_hold(self.shop_id, self.broadcast.hold_reference, freed)
        for _hold, wa_id, contact_id, code in rows:
            if code == OPTED_OUT and contact_id:
                contact = Contact.objects.filter(pk=contact_id).first()
                if contact:
                    opt_out_of_marketing(contact, "WhatsApp error 131050")
            elif code == UNDELIVERABLE:
                mark_undeliverable(wa_id)

    def _heartbeat(self) -> None:
        redis_client().zadd(senders_key(self.schema, self.broadcast_id), {self.sender_id: time.time()})
        redis_client().expire(senders_key(self.schema, self.broadcast_id), 3600)

    def _publish_progress(self) -> None:
        from .results import progress

        live.publish("broadcast.progress", {"broadcast_id": self.broadcast_id, **progress(self.broadcast_id)})

    # --- the asyncio side

    async def run(self) -> None:
        if self.account is None:
            with override(self.language):
                reason = _("WhatsApp is not connected: connect it in Settings.")
            await self._db(services.pause_for, self.broadcast_id, reason)
            self.db.shutdown(wait=True)
            return
        queue: asyncio.Queue = asyncio.Queue()
        client = redis.asyncio.Redis.from_url(settings.REDIS_URL)
        limiter = rate_limit.AsyncLimiter(client, self.account.phone_number_id, self.rate)
        concurrency = max(4, min(64, int(self.rate / 10)))
        connector = aiohttp.TCPConnector(limit=concurrency, ttl_dns_cache=300)
        timeout = aiohttp.ClientTimeout(total=settings.BROADCAST_CALL_TIMEOUT_SECONDS)
        url = f"{settings.WHATSAPP_GRAPH_BASE_URL.rstrip('/')}/{settings.WHATSAPP_GRAPH_VERSION}/" \
              f"{self.account.phone_number_id}/messages"  # fmt: skip
        headers = {"Authorization": f"Bearer {self.account.access_token}", "Content-Type": "application/json"}
        try:
            async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
                senders = [
                    asyncio.create_task(self._send_from(queue, session, url, headers, limiter))
                    for _n in range(concurrency)
                ]
                flusher = asyncio.create_task(self._flush_every(0.25))
                await self._produce(queue, concurrency)
                await asyncio.gather(*senders)
                flusher.cancel()
                await self._flush()
        finally:
            await client.aclose()
            await self._db(self._finish)
            self.db.shutdown(wait=True)

    async def _produce(self, queue: asyncio.Queue, consumers: int) -> None:
        after, beat = 0, 0.0
        while time.monotonic() < self.deadline:
            if time.monotonic() - beat > HEARTBEAT_SECONDS:
                await self._db(self._heartbeat)
                beat = time.monotonic()
            if queue.qsize() > self.claim_size // 2:
                await asyncio.sleep(0.005)  # claim only what is about to go: claimed rows hold a lease
                continue
            batch = await self._db(self._claim, after)
            if not batch:
                if after == 0:
                    break
                after = 0  # once more from the start: retries that came due behind us
                continue
            after = batch[-1][0]
            for item in batch:
                queue.put_nowait(item)
        else:
            self.more_work = True
        for _n in range(consumers):
            queue.put_nowait(None)

    async def _send_from(self, queue, session, url, headers, limiter) -> None:
        body_base = {"messaging_product": "whatsapp", "recipient_type": "individual", "type": "template"}
        broadcast, template = self.broadcast, self.broadcast.template
        while (item := await queue.get()) is not None:
            recipient_id, attempt, wa_id, contact, send_by = item
            if self.stopping or time.monotonic() > send_by:
                self.outcomes.append(Outcome(recipient_id, attempt, "requeue"))
                continue
            values = rendering.values_for(broadcast.variables, contact) if contact else [
                variable.get("fallback") or variable["value"] for variable in broadcast.variables
            ]  # fmt: skip
            body = {
                **body_base,
                "to": wa_id,
                "template": rendering.template_object(template, values, broadcast.header_media_url),
                "biz_opaque_callback_data": f"b:{recipient_id}:{attempt}",
            }
            await limiter.take()
            outcome = await self._call(session, url, headers, body, recipient_id, attempt)
            # Appended once answered: `self.outcomes.append(await …)` would bind the list before the call, and a
            # flush during the call would swap it out and lose the answer.
            self.outcomes.append(outcome)

    async def _call(self, session, url, headers, body, recipient_id: int, attempt: int) -> Outcome:
        try:
            async with session.post(url, data=json.dumps(body), headers=headers) as response:
                status, raw = response.status, await response.read()
        except aiohttp.ClientConnectorError as error:  # never reached WhatsApp: safe to send again
            return Outcome(recipient_id, attempt, "retry", reason=f"WhatsApp could not be reached ({error}).")
        except (TimeoutError, aiohttp.ClientError):  # it may have gone out: the webhooks will tell
            return Outcome(recipient_id, attempt, "doubt")
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = {}
        if status < 400 and "messages" in answer:
            return Outcome(recipient_id, attempt, "sent", wamid=answer["messages"][0]["id"], at=time.time())
        error = answer.get("error") or {}
        code = error.get("code")
        what = meaning(code, status, error.get("message") or "")
        with override(self.language):
            reason = str(what.reason)
        if code in STOP_CODES or code in PAUSE_CODES:
            self.stopping = True
            await self._db(services.stop if code in STOP_CODES else services.pause_for, self.broadcast_id, reason)
            return Outcome(recipient_id, attempt, "requeue", code=code, reason=reason)
        if code == HELD_BACK:
            return Outcome(recipient_id, attempt, "reschedule", code=code, reason=reason)
        if what.retry:
            return Outcome(recipient_id, attempt, "retry", code=code, reason=reason)
        return Outcome(recipient_id, attempt, "failed", code=code, reason=reason)

    async def _flush_every(self, seconds: float) -> None:
        published = 0.0
        while True:
            await asyncio.sleep(seconds)
            await self._flush()
            if time.monotonic() - published >= 1:
                await self._db(self._publish_progress)
                published = time.monotonic()

    async def _flush(self) -> None:
        outcomes, self.outcomes = self.outcomes, []
        if outcomes:
            # Shielded: the periodic flusher is cancelled when sending ends, and answers it had taken but not yet
            # written would be lost (the rows left in doubt, for the webhooks or the sweeper to settle).
            await asyncio.shield(self._db(self._record, outcomes))

    def _finish(self) -> None:
        redis_client().zrem(senders_key(self.schema, self.broadcast_id), self.sender_id)
        if self.more_work:
            services.dispatch_senders(self.schema, self.broadcast_id, count=1)
        elif services.finish_if_done(self.broadcast_id):
            redis_client().srem(ACTIVE_KEY, f"{self.schema}:{self.broadcast_id}")
        self._publish_progress()
        close_old_connections()
        connection.close()


def send(broadcast_id: int) -> None:
    """Runs one worker's share of a broadcast until nothing is left to claim or its time slice ends."""
    asyncio.run(Sender(broadcast_id).run())


def reconcile_in_doubt(broadcast_id: int) -> int:
    """Recipients whose worker died mid-call go back to the queue once their call can no longer be claimed by a
    status webhook: the grace period has passed since the lease lapsed, and every webhook received until then
    has been processed (a backlog of statuses must not make a delivered message look lost)."""
    horizon = timezone.now()
    oldest_pending = (
        WebhookIntake.objects.filter(shop__schema_name=connection.schema_name, status=WebhookIntake.Status.PENDING)
        .order_by("received_at")
        .values_list("received_at", flat=True)
        .first()
    )
    if oldest_pending is not None:
        horizon = min(horizon, oldest_pending)
    cutoff = horizon - timedelta(seconds=settings.BROADCAST_RECONCILE_GRACE_SECONDS)
    in_doubt = Recipient.objects.filter(
        broadcast_id=broadcast_id, status=Recipient.Status.SENDING, lease_until__lt=cutoff, wamid__isnull=True
    )
    with transaction.atomic():
        ids = list(in_doubt.order_by("pk").select_for_update().values_list("pk", flat=True))
        return in_doubt.filter(pk__in=ids).update(status=Recipient.Status.QUEUED, lease_until=None)
