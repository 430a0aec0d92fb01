"""A whole WhatsApp channel for tests that need real processes: the simulator (Meta and the customers'
phones), gunicorn, a Celery worker, and a committed shop with a connected number and auto-replies."""

import threading

import httpx
import pytest
from django.db import connections
from django_tenants.utils import schema_context

from tests.factories import PASSWORD
from tests.support.servers import celery_worker, eventually, sim_call, simulator, web_server
from whatsapp.channel.models import WhatsAppAccount
from whatsapp.channel.services import connect
from whatsapp.models import AutoReplyRule, Message

NUMBER_A, SECRET_A, TOKEN_A = "106540000000001", "app-secret-a", "token-a"
NUMBER_B, SECRET_B, TOKEN_B = "106540000000002", "app-secret-b", "token-b"


def _connect(world, number, secret, token):
    account = WhatsAppAccount.objects.filter(phone_number_id=number).first()
    if account is None:
        with schema_context(world.shop.schema_name):
            account = connect(
                world.shop, world.owner.pk, phone_number_id=number, waba_id=f"WABA-{number}",
                display_phone_number=f"62811{number[-6:]}", access_token=token, app_secret=secret,
            )  # fmt: skip
    world.number, world.secret, world.token = number, secret, token
    return world


@pytest.fixture(scope="session")
def wa_a(shop_a):
    return _connect(shop_a, NUMBER_A, SECRET_A, TOKEN_A)


@pytest.fixture(scope="session")
def wa_b(shop_b):
    return _connect(shop_b, NUMBER_B, SECRET_B, TOKEN_B)


NUMBER, SECRET, TOKEN = "106540000000777", "app-secret-e2e", "token-e2e"


class Stack:
    def __init__(self, world, sim, web):
        self.world, self.sim, self.web = world, sim, web

    def say(self, wa_id: str, text: str, name: str = "Pelanggan") -> str:
        return sim_call(self.sim, "POST", f"/_sim/customers/{wa_id}/messages",
                        {"phone_number_id": NUMBER, "type": "text", "text": text, "name": name})["id"]  # fmt: skip

    def phone(self, wa_id: str) -> list[dict]:
        return sim_call(self.sim, "GET", f"/_sim/customers/{wa_id}/messages?phone_number_id={NUMBER}")

    def messages(self, **filters) -> list[Message]:
        with schema_context(self.world.shop.schema_name):
            return list(Message.objects.filter(**filters).order_by("pk"))

    def committed(self, write):
        """Runs `write()` in the shop's schema on a connection of its own, committed for the servers to see
        (the test's own connection sits in a transaction that is rolled back)."""
        result = []

        def run():
            try:
                with schema_context(self.world.shop.schema_name):
                    result.append(write())
            finally:
                connections.close_all()

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        return result[0]

    def staff(self, user) -> httpx.Client:
        """A logged-in staff client against the real server, with session cookie and CSRF."""
        client = httpx.Client(base_url=self.web, headers={"Host": self.world.host}, timeout=10)
        client.get("/api/auth/csrf/")
        response = client.post(
            "/api/auth/login/", json={"email": user.email, "password": PASSWORD},
            headers={"X-CSRFToken": client.cookies["csrftoken"]},
        )  # fmt: skip
        assert response.status_code == 200, response.text
        client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
        return client


@pytest.fixture(scope="session")
def whatsapp_stack(committed):
    from tests.conftest import ShopWorld

    world = ShopWorld("e2e")
    with schema_context(world.shop.schema_name):
        connect(world.shop, world.owner.pk, phone_number_id=NUMBER, waba_id="WABA-E2E",
                display_phone_number="6281100000777", access_token=TOKEN, app_secret=SECRET)  # fmt: skip
        AutoReplyRule.objects.create(
            name="Salam", kind="greeting", reply_text="Halo kak! Ada yang bisa dibantu?", priority=1
        )
        AutoReplyRule.objects.create(name="Harga", kind="keyword", keywords=["harga"], reply_text="Harga mulai 150rb",
                                     priority=2, cooldown_minutes=0)  # fmt: skip
    with simulator(sent_ms="30", delivered_ms="60", read_ms="120") as sim:
        graph = {"WHATSAPP_GRAPH_BASE_URL": sim}
        with web_server(**graph) as web, celery_worker(**graph):
            sim_call(sim, "POST", "/_sim/numbers", {
                "phone_number_id": NUMBER, "waba_id": "WABA-E2E", "display_phone_number": "6281100000777",
                "verified_name": "Butik e2e", "access_token": TOKEN, "app_secret": SECRET,
                "callback_url": f"{web}/webhooks/whatsapp/", "throughput_mps": 80,
            })  # fmt: skip
            stack = Stack(world, sim, web)
            # Warm up every process (imports, connections, pools) so tests time the steady state.
            stack.say("6281000000001", "halo")
            eventually(lambda: [m for m in stack.phone("6281000000001") if m["direction"] == "in"], timeout=30)
            yield stack
