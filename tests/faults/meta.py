"""Meta's side of the webhook: signed POSTs at a steady rate, from a thread of its own, every answer kept; and
Meta's retry of what was not answered 200."""

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import aiohttp

from tests.whatsapp import webhooks

# Meta waits a few seconds for an answer, then counts the delivery as failed and retries it later.
ANSWER_TIMEOUT_SECONDS = 10.0


@dataclass
class Delivery:
    """One webhook as Meta sends it, and what our endpoint answered to each attempt."""

    raw: bytes
    secret: str
    answers: list[int | str] = field(default_factory=list)  # HTTP status, or the client error's name
    seconds: list[float] = field(default_factory=list)

    @classmethod
    def of(cls, payload: dict, secret: str) -> "Delivery":
        return cls(webhooks.body_bytes(payload), secret)

    @property
    def accepted(self) -> bool:
        return bool(self.answers) and self.answers[-1] == 200


class Meta:
    def __init__(self, web: str):
        self.url = f"{web}/webhooks/whatsapp/"
        self.host = web.split("//")[1]  # the platform domain: the only host the intake answers on

    def send(self, deliveries: list[Delivery], rate: float) -> None:
        """Posts `deliveries` at `rate` a second, each on its schedule whatever the answers take (Meta does not
        wait for one answer before the next event). On a thread of its own: the test's thread may already run an
        event loop (Playwright's, left by the browser tests of the same session)."""
        with ThreadPoolExecutor(max_workers=1) as thread:
            thread.submit(asyncio.run, self._paced(deliveries, rate)).result()

    def send_in_background(self, deliveries: list[Delivery], rate: float) -> threading.Thread:
        thread = threading.Thread(target=self.send, args=(deliveries, rate), daemon=True)
        thread.start()
        return thread

    def retry_unaccepted(self, deliveries: list[Delivery], rate: float = 50) -> list[Delivery]:
        """Sends again every delivery whose last attempt was not answered 200, as Meta retries; returns them."""
        again = [delivery for delivery in deliveries if not delivery.accepted]
        self.send(again, rate)
        return again

    async def _paced(self, deliveries: list[Delivery], rate: float) -> None:
        # aiohttp rather than httpx: httpx's pool spends quadratic time on thousands of requests in flight.
        timeout = aiohttp.ClientTimeout(total=ANSWER_TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200), timeout=timeout) as client:
            started = time.monotonic()
            posts = []
            for number, delivery in enumerate(deliveries):
                delay = started + number / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                posts.append(asyncio.create_task(self._post(client, delivery)))
            await asyncio.gather(*posts)

    async def _post(self, client: aiohttp.ClientSession, delivery: Delivery) -> None:
        headers = {
            "Host": self.host,
            "Content-Type": "application/json",
            "X-Hub-Signature-256": webhooks.signature(delivery.raw, delivery.secret),
        }
        started = time.monotonic()
        try:
            async with client.post(self.url, data=delivery.raw, headers=headers) as response:
                await response.read()
                delivery.answers.append(response.status)
        except (aiohttp.ClientError, TimeoutError) as error:
            delivery.answers.append(type(error).__name__)
        delivery.seconds.append(time.monotonic() - started)
