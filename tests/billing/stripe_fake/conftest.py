"""The Stripe fake as a real process, a webhook receiver it posts to, and an SDK client pointed at it.

No database and no Redis: these tests talk HTTP to the fake through the official `stripe` SDK and read
what the receiver got.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from tests.support.stripe import TEST_KEY, fake_call, stripe_fake

SECRET = "whsec_test_secret"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Overrides the project-wide autouse fixture that clears Redis throttles: nothing here uses Redis."""
    yield


@dataclass
class Received:
    body: bytes
    headers: dict

    def event(self, secret: str = SECRET) -> stripe.Event:
        """The delivery as our webhook view reads it: verified by the SDK, or SignatureVerificationError."""
        return stripe.Webhook.construct_event(self.body, self.headers.get("Stripe-Signature"), secret)


@dataclass
class Receiver:
    """Our endpoint's stand-in: records every POST; can answer 500 to the first few."""

    items: list[Received] = field(default_factory=list)
    fail_first: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.fail_first = 0

    def record(self, body: bytes, headers: dict) -> int:
        with self.lock:
            if self.fail_first > 0:
                self.fail_first -= 1
                return 500
            self.items.append(Received(body, headers))
            return 200

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                items = list(self.items)
            if len(items) >= count:
                return items
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"got {len(items)} of {count} deliveries: {[json.loads(i.body)['type'] for i in items]}"
                )
            time.sleep(0.02)

    def types(self, count: int) -> list[str]:
        return [json.loads(item.body)["type"] for item in self.wait_for(count)]


@pytest.fixture(scope="session")
def receiver():
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = receiver.record(body, dict(self.headers))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/stripe/"
    yield receiver
    server.shutdown()


@pytest.fixture(scope="session")
def fake_process(receiver):
    with stripe_fake(webhook_url=receiver.url, webhook_secret=SECRET, webhook_retry_base_ms=20) as base:
        yield base


@pytest.fixture
def fake(fake_process, receiver) -> str:
    """A fresh fake (no objects, default knobs) and an empty receiver; yields the fake's base URL."""
    fake_call(fake_process, "POST", "/_fake/reset")
    fake_call(
        fake_process,
        "POST",
        "/_fake/config",
        {"webhook_url": receiver.url, "webhook_secret": SECRET, "duplicate_deliveries": False, "shuffle": False,
         "decline_all_cards": False, "webhook_max_attempts": 4, "webhook_retry_base_ms": 20},
    )  # fmt: skip
    receiver.clear()
    return fake_process


@pytest.fixture
def client(fake) -> stripe.StripeClient:
    return stripe.StripeClient(TEST_KEY, base_addresses={"api": fake})
