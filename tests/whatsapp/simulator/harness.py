"""A simulator and a webhook receiver running on free ports in one background event loop thread.

No Django and no database: tests here talk HTTP to the simulator and read what the receiver got.
The fixtures live here, not in conftest.py, so the tests also run with `-p no:django --noconftest`
(the project's root conftest imports Django models). Test modules import `harness_fixture` and `sim_fixture`
(fixtures named `harness` and `sim`).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from whatsapp.simulator import SimConfig, create_app

PNID = "106540352242922"
WABA = "102290129340398"
TOKEN = "test-token-123"
SECRET = "app-secret-xyz"
DISPLAY = "6281100000001"
FAST_FAULTS = {
    "status_delays_ms": {"sent": 5, "delivered": 15, "read": 30},
    "webhook_retry_base_ms": 20,
}


@dataclass
class Received:
    body: bytes
    headers: dict

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    items: list[Received] = field(default_factory=list)
    status: int = 200
    fail_first: int = 0  # answer 500 to this many requests first
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
        self.status = 200
        self.fail_first = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.fail_first > 0:
            self.fail_first -= 1
            return web.Response(status=500)
        with self.lock:
            self.items.append(Received(body, dict(request.headers)))
        return web.Response(status=self.status, text="ok")

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.items)

    def wait_for(self, predicate, timeout: float = 5.0) -> list[Received]:
        """Waits until predicate(list of received) is truthy; returns the received list."""
        deadline = time.monotonic() + timeout
        while True:
            items = self.snapshot()
            if predicate(items):
                return items
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; received {[i.json for i in items]}")
            time.sleep(0.01)

    def statuses(self) -> list[dict]:
        out = []
        for item in self.snapshot():
            for entry in item.json["entry"]:
                for change in entry["changes"]:
                    out.extend(change["value"].get("statuses", []))
        return out

    def messages(self) -> list[dict]:
        out = []
        for item in self.snapshot():
            for entry in item.json["entry"]:
                for change in entry["changes"]:
                    out.extend(change["value"].get("messages", []))
        return out


class Harness:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.receiver = Receiver()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.sim_runner, self.sim_port = self.call(self._start(create_app(SimConfig(faults=FAST_FAULTS))))
        recv_app = web.Application()
        recv_app.router.add_post("/webhook", self.receiver.handle)
        self.recv_runner, self.recv_port = self.call(self._start(recv_app))
        self.base = f"http://127.0.0.1:{self.sim_port}"
        self.callback_url = f"http://127.0.0.1:{self.recv_port}/webhook"

    def call(self, coro, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @staticmethod
    async def _start(app: web.Application):
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        return runner, port

    def close(self) -> None:
        self.call(self.sim_runner.cleanup())
        self.call(self.recv_runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    # HTTP ---------------------------------------------------------------
    def request(self, method: str, path: str, body=None, token: str | None = None, raw: bytes | None = None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None and raw is None:
            req.add_header("Content-Type", "application/json")
        if token is not None:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                payload = resp.read()
                status = resp.status
                ctype = resp.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            payload, status, ctype = exc.read(), exc.code, exc.headers.get("Content-Type", "")
        return status, (json.loads(payload) if "json" in ctype else payload)

    def post(self, path: str, body=None, token: str | None = None):
        return self.request("POST", path, body, token)

    def get(self, path: str, token: str | None = None):
        return self.request("GET", path, None, token)

    def send(self, body: dict, token: str = TOKEN, pnid: str = PNID, version: str = "v25.0"):
        return self.post(f"/{version}/{pnid}/messages", {"messaging_product": "whatsapp", **body}, token=token)

    def customer_says(self, wa_id: str, text: str = "halo", name: str = "Sari", **extra):
        status, body = self.post(
            f"/_sim/customers/{wa_id}/messages",
            {"phone_number_id": PNID, "type": "text", "text": text, "name": name} | extra,
        )
        assert status == 200, body
        return body["id"]


@pytest.fixture(scope="session", name="harness")
def harness_fixture():
    h = Harness()
    yield h
    h.close()


@pytest.fixture(name="sim")
def sim_fixture(harness: Harness) -> Harness:
    """A reset simulator with one registered number whose callback is the local receiver."""
    status, _ = harness.post("/_sim/reset")
    assert status == 200
    time.sleep(0.05)  # let webhook POSTs already in flight from the previous test land before clearing
    harness.receiver.clear()
    status, body = harness.post(
        "/_sim/numbers",
        {
            "phone_number_id": PNID,
            "waba_id": WABA,
            "display_phone_number": DISPLAY,
            "verified_name": "Butik Sari",
            "access_token": TOKEN,
            "app_secret": SECRET,
            "callback_url": harness.callback_url,
            "throughput_mps": 80,
        },
    )
    assert status == 200, body
    return harness
