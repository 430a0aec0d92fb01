"""Signed webhook delivery to a number's callback URL: delays, retries with backoff, batching, duplicates."""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass

import aiohttp

from . import payloads
from .state import Number, SimState

log = logging.getLogger("whatsapp.simulator.webhooks")
# Shorter than the keep-alive of the web server the webhooks go to (infra/gunicorn.conf.py: 5 s).
KEEPALIVE_SECONDS = 4.0


@dataclass
class Pending:
    generation: int
    callback_url: str
    app_secret: str
    waba_id: str
    change: dict


class WebhookDispatcher:
    """A queue drained by a few workers sharing one aiohttp session."""

    def __init__(self, state: SimState, workers: int = 16) -> None:
        self.state = state
        self.workers_count = workers
        self.queue: asyncio.Queue[Pending] = asyncio.Queue()
        self.session: aiohttp.ClientSession | None = None
        self.workers: list[asyncio.Task] = []
        self.background: set[asyncio.Task] = set()

    async def start(self, _app=None) -> None:
        # Idle connections are dropped before the server drops them: a POST on a connection the server is closing
        # at that moment fails for nothing (and comes again as a retry).
        connector = aiohttp.TCPConnector(limit=64, limit_per_host=64, keepalive_timeout=KEEPALIVE_SECONDS)
        self.session = aiohttp.ClientSession(connector=connector)
        self.workers = [asyncio.create_task(self._worker()) for _ in range(self.workers_count)]

    async def stop(self, _app=None) -> None:
        for task in [*self.workers, *self.background]:
            task.cancel()
        await asyncio.gather(*self.workers, *self.background, return_exceptions=True)
        if self.session is not None:
            await self.session.close()

    # scheduling ----------------------------------------------------------
    def emit(self, number: Number, value: dict, delay_s: float = 0.0) -> None:
        """Queue one change (`value` content) for `number`'s callback, after `delay_s` seconds."""
        if not number.callback_url:
            self.state.stats.webhooks_skipped += 1
            return
        item = Pending(
            generation=self.state.generation,
            callback_url=number.callback_url,
            app_secret=number.app_secret,
            waba_id=number.waba_id,
            change=payloads.change(number, value),
        )
        if delay_s <= 0:
            self.queue.put_nowait(item)
        else:
            asyncio.get_running_loop().call_later(delay_s, self.queue.put_nowait, item)

    def emit_call(self, delay_s: float, func, *args) -> None:
        """Run `func(*args)` after a delay (used for state changes that emit webhooks, like delivery)."""
        generation = self.state.generation

        def run() -> None:
            if generation == self.state.generation:
                func(*args)

        asyncio.get_running_loop().call_later(max(0.0, delay_s), run)

    # delivery ------------------------------------------------------------
    async def _worker(self) -> None:
        while True:
            item = await self.queue.get()
            try:
                if item.generation != self.state.generation:
                    continue
                batch = [item]
                batch_size = int(self.state.faults.get("webhook_batch_size", 1))
                while len(batch) < batch_size and not self.queue.empty():
                    nxt = self.queue.get_nowait()
                    if nxt.generation != self.state.generation:
                        continue
                    if (nxt.callback_url, nxt.app_secret, nxt.waba_id) == (
                        item.callback_url,
                        item.app_secret,
                        item.waba_id,
                    ):
                        batch.append(nxt)
                    else:
                        self.queue.put_nowait(nxt)
                        break
                body = payloads.serialise(payloads.envelope(item.waba_id, [p.change for p in batch]))
                signature = payloads.sign(body, item.app_secret)
                await self._deliver(item, body, signature)
                faults = self.state.faults
                if faults["duplicate_rate"] > 0 and random.random() < faults["duplicate_rate"]:
                    for _ in range(max(1, int(faults["duplicate_count"]))):
                        self.state.stats.webhooks_duplicated += 1
                        self._spawn(self._deliver_later(item, body, signature, random.uniform(0.0, 0.05)))
            except asyncio.CancelledError:
                raise
            except Exception:  # a broken item must never kill the worker
                log.exception("webhook worker error")

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def _deliver_later(self, item: Pending, body: bytes, signature: str, delay: float) -> None:
        await asyncio.sleep(delay)
        await self._deliver(item, body, signature)

    async def _deliver(self, item: Pending, body: bytes, signature: str) -> None:
        """First attempt inline (back-pressure for the worker); retries with backoff in the background."""
        if await self._attempt(item, body, signature):
            return
        if max(1, int(self.state.faults["webhook_max_attempts"])) > 1:
            self._spawn(self._retry(item, body, signature))
        else:
            self.state.stats.webhooks_failed += 1

    async def _retry(self, item: Pending, body: bytes, signature: str) -> None:
        faults = self.state.faults
        attempts = max(1, int(faults["webhook_max_attempts"]))
        base = float(faults["webhook_retry_base_ms"]) / 1000.0
        for attempt in range(1, attempts):
            self.state.stats.webhook_retries += 1
            await asyncio.sleep(base * (2 ** (attempt - 1)))
            if item.generation != self.state.generation:
                return
            if await self._attempt(item, body, signature):
                return
        self.state.stats.webhooks_failed += 1

    async def _attempt(self, item: Pending, body: bytes, signature: str) -> bool:
        if item.generation != self.state.generation:
            return True
        assert self.session is not None
        self.state.stats.webhook_attempts += 1
        timeout = aiohttp.ClientTimeout(total=float(self.state.faults["webhook_timeout_s"]))
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
        try:
            async with self.session.post(item.callback_url, data=body, headers=headers, timeout=timeout) as resp:
                await resp.read()
                if resp.status == 200:
                    self.state.stats.webhooks_sent += 1
                    return True
                failure = f"HTTP {resp.status}"
        except TimeoutError:
            failure = "timeout"
        except (aiohttp.ClientError, OSError) as exc:
            failure = exc.__class__.__name__
        self.state.stats.webhook_failures[failure] += 1
        log.info("webhook to %s failed: %s", item.callback_url, failure)
        return False
