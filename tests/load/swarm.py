"""The load's traffic, as locust users: Meta's webhooks, staff in the inbox, owners sending a broadcast.

`python -m tests.load.swarm CONFIG RESULT` runs headless through locust's library API for the seconds CONFIG
says, then writes RESULT: each endpoint's counts and percentiles, the errors, and per shop what the server
accepted (the webhook ids, the replies, the broadcasts), which the harness then checks in the database.
A process of its own: locust patches sockets and threads for gevent on import.

Per shop, at the rates CONFIG gives (requests per second, each user on a constant throughput):
- `MetaWebhooks`: signed POSTs to /webhooks/whatsapp/, as Meta sends them for the shop's number: a customer's
  text (one of the shop's chatting customers), or the next status (sent, delivered, read in order) of the
  shop's outbound messages, and now and then a body already sent, delivered again (Meta retries).
- `Staff`: an agent logged in with session and CSRF: the inbox list, a customer's thread, and every few rounds a
  reply to that customer (whose 24-hour window is open).
- `BroadcastOwner` (some shops only): the owner composes a broadcast to the shop's customers at a set moment of
  the run, sends it, and watches its progress.
"""

import itertools
import json
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import gevent
from locust import FastHttpUser, constant, constant_throughput, task
from locust.env import Environment

from tests.whatsapp import webhooks

CONFIG: dict = {}
STARTED = 0.0
# Per shop slug: what the server accepted, for the harness's checks.
ACCEPTED: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
STATUS_ORDER = ("sent", "delivered", "read")
WEBHOOK = "/webhooks/whatsapp/"
THREAD = "/api/inbox/conversations/{id}/messages/"


def _shops(kind: str):
    """Each user of a class takes the next shop, so every shop gets one user of each class."""
    shops = CONFIG["shops"] if kind != "broadcast" else [s for s in CONFIG["shops"] if s.get("broadcast")]
    return itertools.cycle(shops)


class ShopUser(FastHttpUser):
    abstract = True
    network_timeout = connection_timeout = 30.0

    def expect(self, method: str, path: str, name: str, status: int, **kwargs):
        """One request with the shop's Host; anything but the expected status is a failure."""
        headers = {"Host": self.shop["host"], **kwargs.pop("headers", {})}
        with self.client.request(method, path, name=name, headers=headers, catch_response=True, **kwargs) as response:
            if response.status_code != status:
                said = getattr(response, "error", None) or (response.text or "")[:200]
                response.failure(f"{response.status_code} (expected {status}): {said}")
                return None
            response.success()
            return response

    def log_in(self, email: str) -> None:
        self.expect("GET", "/api/auth/csrf/", "GET /api/auth/csrf/", 200)
        token = self._cookie("csrftoken")
        self.expect("POST", "/api/auth/login/", "POST /api/auth/login/", 200,
                    json={"email": email, "password": CONFIG["password"]}, headers={"X-CSRFToken": token})  # fmt: skip
        self.csrf = {"X-CSRFToken": self._cookie("csrftoken")}

    def _cookie(self, name: str) -> str:
        return next((cookie.value for cookie in self.client.cookiejar if cookie.name == name), "")


class MetaWebhooks(ShopUser):
    """Meta delivering the shop's webhooks."""

    def on_start(self):
        self.shop = next(MetaWebhooks.shops)
        self.status_cursor = 0
        self.sent_bodies: list[tuple[str, bytes]] = []

    @task
    def webhook(self):
        shop, rates = self.shop, CONFIG["rates"]
        if self.sent_bodies and random.random() < rates["redelivery_share"]:
            _kind, raw = random.choice(self.sent_bodies)
            self.post(raw, "redelivery")
            return
        statuses_left = self.status_cursor < len(shop["statuses"]) * len(STATUS_ORDER)
        if statuses_left and random.random() >= rates["inbound_share"]:
            wamid = shop["statuses"][self.status_cursor // len(STATUS_ORDER)]
            name = STATUS_ORDER[self.status_cursor % len(STATUS_ORDER)]
            self.status_cursor += 1
            raw = webhooks.body_bytes(webhooks.status(shop["phone_number_id"], wamid, name, shop["customers"][0]))
            if self.post(raw, "status"):
                ACCEPTED[shop["slug"]]["statuses"].append([wamid, name])
                self.sent_bodies.append(("status", raw))
            return
        customer = random.choice(shop["customers"])
        wamid = f"wamid.LOAD.IN.{CONFIG['run_id']}.{shop['slug']}.{time.time_ns()}"
        text = random.choice(CONFIG["texts"])
        payload = webhooks.inbound_text(shop["phone_number_id"], customer, text, name="Pelanggan", message_id=wamid)
        raw = webhooks.body_bytes(payload)
        if self.post(raw, "message"):
            ACCEPTED[shop["slug"]]["inbound"].append(wamid)
            self.sent_bodies.append(("message", raw))

    def post(self, raw: bytes, kind: str) -> bool:
        signature = webhooks.signature(raw, self.shop["secret"])
        # Meta calls the platform's domain, not the shop's. A connection per delivery: one kept open between
        # deliveries a few seconds apart races gunicorn closing it (keepalive 5 s), a reset Meta would retry.
        headers = {"Host": CONFIG["platform_host"], "Content-Type": "application/json", "Connection": "close"}
        headers["X-Hub-Signature-256"] = signature
        if self.expect("POST", WEBHOOK, f"POST {WEBHOOK} [{kind}]", 200, data=raw, headers=headers) is None:
            return False
        ACCEPTED[self.shop["slug"]]["webhook_posts"].append(kind)
        return True


class Staff(ShopUser):
    """An agent working the inbox: the list, a thread, sometimes a reply."""

    def on_start(self):
        self.shop = next(Staff.shops)
        self.log_in(self.shop["agent_email"])

    @task
    def work_the_inbox(self):
        listed = self.expect("GET", "/api/inbox/conversations/", "GET /api/inbox/conversations/", 200)
        if listed is None:
            return
        conversation = random.choice(self.shop["conversations"])
        thread = THREAD.format(id=conversation)
        if self.expect("GET", thread, f"GET {THREAD}", 200) is None:
            return
        if random.random() < CONFIG["rates"]["reply_share"]:
            text = f"Siap kak, kami cek dulu ya ({random.randint(1, 999)})"
            sent = self.expect("POST", thread, f"POST {THREAD}", 201, json={"text": text}, headers=self.csrf)
            if sent is not None:
                ACCEPTED[self.shop["slug"]]["replies"].append(sent.json()["id"])


class BroadcastOwner(ShopUser):
    """The owner sends one broadcast at the configured moment, then follows its progress."""

    wait_time = constant(2)

    def on_start(self):
        self.shop = next(BroadcastOwner.shops)
        self.broadcast_id = None
        # The broadcasting shops start one after another over a stretch of the run, not all at once.
        first, last, count = CONFIG["broadcast_from_s"], CONFIG["broadcast_until_s"], BroadcastOwner.fixed_count
        self.send_at = first + (last - first) * next(BroadcastOwner.turns) / max(1, count - 1)
        self.log_in(self.shop["owner_email"])

    @task
    def broadcast(self):
        if self.broadcast_id == 0:
            return  # composing it failed (counted): nothing to follow
        if self.broadcast_id is not None:
            self.expect("GET", f"/api/broadcasts/{self.broadcast_id}/progress/", "GET /api/broadcasts/{id}/progress/",
                        200)  # fmt: skip
            return
        if time.monotonic() - STARTED < self.send_at:
            return
        plan = self.shop["broadcast"]
        body = {
            "name": f"Promo beban {CONFIG['run_id']}", "template_id": plan["template_id"],
            "variables": [{"source": "field", "value": "first_name", "fallback": "Kak"}],
            "audience": {"contacts": plan["contact_ids"]}, "frequency_cap_hours": 0,
        }  # fmt: skip
        created = self.expect("POST", "/api/broadcasts/", "POST /api/broadcasts/", 201, json=body, headers=self.csrf)
        if created is None:
            self.broadcast_id = 0  # a failure is counted; do not try again
            return
        broadcast_id = created.json()["id"]
        if self.expect("POST", f"/api/broadcasts/{broadcast_id}/send/", "POST /api/broadcasts/{id}/send/", 200,
                       json={}, headers=self.csrf):  # fmt: skip
            ACCEPTED[self.shop["slug"]]["broadcasts"].append(broadcast_id)
        self.broadcast_id = broadcast_id


def entry_json(entry) -> dict:
    return {
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "p50_ms": entry.get_response_time_percentile(0.50),
        "p95_ms": entry.get_response_time_percentile(0.95),
        "p99_ms": entry.get_response_time_percentile(0.99),
        "avg_ms": round(entry.avg_response_time, 1),
        "max_ms": round(entry.max_response_time or 0, 1),
    }


def main(config_path: str, result_path: str) -> int:
    global STARTED
    CONFIG.update(json.loads(Path(config_path).read_text()))
    broadcasting = sum(1 for shop in CONFIG["shops"] if shop.get("broadcast"))
    MetaWebhooks.shops, Staff.shops, BroadcastOwner.shops = _shops("meta"), _shops("staff"), _shops("broadcast")
    BroadcastOwner.turns = itertools.count()
    MetaWebhooks.wait_time = constant_throughput(CONFIG["rates"]["webhook_rps"])
    Staff.wait_time = constant_throughput(CONFIG["rates"]["staff_rounds_per_s"])
    classes = [MetaWebhooks, Staff] + ([BroadcastOwner] if broadcasting else [])
    for user_class in classes:
        user_class.host = CONFIG["base_url"]
        user_class.fixed_count = broadcasting if user_class is BroadcastOwner else len(CONFIG["shops"])
    users = sum(user_class.fixed_count for user_class in classes)
    # At the end each user finishes the request it is making: one cut off would be stored but not counted.
    environment = Environment(user_classes=classes, stop_timeout=60)
    runner = environment.create_local_runner()
    STARTED = time.monotonic()
    runner.start(users, spawn_rate=CONFIG["spawn_rate"])
    gevent.spawn_later(CONFIG["seconds"], runner.quit)
    runner.greenlet.join()
    elapsed = time.monotonic() - STARTED
    stats = environment.stats
    result = {
        "seconds": round(elapsed, 1),
        "users": users,
        "endpoints": {name: entry_json(entry) for (name, _method), entry in sorted(stats.entries.items())},
        "total": entry_json(stats.total),
        "errors": [
            {"name": error.name, "error": str(error.error), "occurrences": error.occurrences}
            for error in stats.errors.values()
        ],
        "accepted": ACCEPTED,
    }
    with open(result_path, "w") as out:
        json.dump(result, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
