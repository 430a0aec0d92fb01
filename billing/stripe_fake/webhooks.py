"""Signed event delivery to the configured endpoint: Stripe's signature scheme, retries with backoff, an attempt log."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time

import aiohttp

log = logging.getLogger("billing.stripe_fake.webhooks")
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def serialise(event: dict) -> bytes:
    """Stripe sends pretty-printed JSON; the signature covers exactly these bytes."""
    return json.dumps(event, indent=2).encode()


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, as `stripe.Webhook` verifies it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class Dispatcher:
    """One worker delivers in queue order (so the fault knobs decide the order we see); retries run aside."""

    def __init__(self, config: dict, deliveries: list) -> None:
        self.config = config  # the live fake config (webhook_url, webhook_secret, retry knobs)
        self.deliveries = deliveries
        self.queue: asyncio.Queue[dict] = asyncio.Queue()
        self.session: aiohttp.ClientSession | None = None
        self.worker: asyncio.Task | None = None
        self.background: set[asyncio.Task] = set()
        self.generation = 0  # bumped by a reset: queued and retrying deliveries of before are dropped
        self.busy = False

    async def start(self, _app=None) -> None:
        self.session = aiohttp.ClientSession()
        self.worker = asyncio.create_task(self._work())

    async def stop(self, _app=None) -> None:
        tasks = [t for t in (self.worker, *self.background) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.session is not None:
            await self.session.close()

    def enqueue(self, events: list[dict]) -> None:
        for event in events:
            self.queue.put_nowait({"event": event, "generation": self.generation})

    async def reset(self) -> None:
        """Drops pending deliveries and returns once none is in flight, so nothing old lands after a reset."""
        self.generation += 1
        retries = list(self.background)
        for task in retries:
            task.cancel()
        await asyncio.gather(*retries, return_exceptions=True)
        while self.busy or not self.queue.empty():
            await asyncio.sleep(0.005)

    async def _work(self) -> None:
        while True:
            item = await self.queue.get()
            self.busy = True
            try:
                if item["generation"] == self.generation and not await self._attempt(item["event"], 1):
                    self._spawn(self._retry(item["event"], item["generation"]))
            except asyncio.CancelledError:
                raise
            except Exception:  # one broken delivery must not stop the others
                log.exception("webhook delivery failed")
            finally:
                self.busy = False

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def _retry(self, event: dict, generation: int) -> None:
        attempts = max(1, int(self.config["webhook_max_attempts"]))
        base = float(self.config["webhook_retry_base_ms"]) / 1000
        for attempt in range(2, attempts + 1):
            await asyncio.sleep(base * 2 ** (attempt - 2))
            if generation != self.generation or await self._attempt(event, attempt):
                return

    async def _attempt(self, event: dict, attempt: int) -> bool:
        """One POST, signed afresh (Stripe signs every attempt with its own timestamp). True when answered 2xx."""
        url, secret = self.config["webhook_url"], self.config["webhook_secret"]
        record = {"event": event["id"], "type": event["type"], "attempt": attempt, "url": url, "at": time.time()}
        self.deliveries.append(record)
        if not url:
            record.update(status=None, error="no webhook_url configured")
            return True
        body = serialise(event)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Stripe-Signature": sign(body, secret),
        }
        assert self.session is not None
        timeout = aiohttp.ClientTimeout(total=float(self.config["webhook_timeout_s"]))
        try:
            async with self.session.post(url, data=body, headers=headers, timeout=timeout) as response:
                await response.read()
                record.update(status=response.status, error=None)
                return 200 <= response.status < 300
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            record.update(status=None, error=str(error) or type(error).__name__)
            return False
