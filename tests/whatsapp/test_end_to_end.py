"""The whole channel with real processes: simulator (Meta and the customer's phone), gunicorn,
Celery workers, PostgreSQL and Redis. Data here is committed, in a shop of its own."""

import threading
import time

import httpx
import pytest
from django.db import connections
from django.utils import timezone
from django_tenants.utils import schema_context

from crm.models import Contact
from tests.conftest import ShopWorld
from tests.factories import PASSWORD
from tests.support.servers import celery_worker, eventually, sim_call, simulator, web_server
from whatsapp.channel.models import WebhookIntake
from whatsapp.channel.services import connect
from whatsapp.models import AutoReplyRule, Conversation, Message
from whatsapp.tasks import requeue_stale_intake

pytestmark = [pytest.mark.worker, pytest.mark.django_db]

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
def stack(committed):
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
            yield Stack(world, sim, web)


def test_a_customer_says_halo_and_gets_the_greeting_at_once(stack):
    started = time.monotonic()
    stack.say("6281211112222", "halo", name="Sari")

    reply = eventually(lambda: [m for m in stack.phone("6281211112222") if m["direction"] == "in"], timeout=15)
    assert reply and reply[0]["text"] == "Halo kak! Ada yang bisa dibantu?"
    assert time.monotonic() - started < 5
    ours = eventually(lambda: [m for m in stack.messages(automated=True, conversation__contact__wa_id="6281211112222")
                               if m.status in ("delivered", "read")], timeout=15)  # fmt: skip
    assert ours, "the auto-reply's status ticks came back through signed webhooks"


def test_an_agent_replies_from_the_inbox_and_the_customer_sees_it_with_ticks(stack):
    stack.say("6281233334444", "kak, gamis hitam size L ada?", name="Rina")
    conversation = eventually(lambda: stack.messages(conversation__contact__wa_id="6281233334444", direction="in"))
    agent = stack.staff(stack.world.agent)
    conversation_id = conversation[0].conversation_id
    sent = agent.post(f"/api/inbox/conversations/{conversation_id}/messages/", json={"text": "Ada kak, 175rb"})
    assert sent.status_code == 201, sent.text

    def customer_sees_read_reply():
        return [m for m in stack.phone("6281233334444") if m["text"] == "Ada kak, 175rb" and m["status"] == "read"]

    assert eventually(customer_sees_read_reply, timeout=15)
    assert eventually(lambda: stack.messages(pk=sent.json()["id"], status="read"), timeout=15)


def test_rate_limits_and_server_errors_are_retried_until_sent(stack):
    stack.say("6281255556666", "harga?")
    eventually(lambda: stack.messages(conversation__contact__wa_id="6281255556666", direction="in"))
    conversation_id = stack.messages(conversation__contact__wa_id="6281255556666")[0].conversation_id
    sim_call(stack.sim, "POST", "/_sim/faults", {"graph_5xx_rate": 0.5})
    try:
        agent = stack.staff(stack.world.agent)
        url = f"/api/inbox/conversations/{conversation_id}/messages/"
        ids = [agent.post(url, json={"text": f"info {n}"}).json()["id"] for n in range(6)]
        done = eventually(lambda: len(stack.messages(pk__in=ids, wamid__isnull=False)) == 6, timeout=40)
    finally:
        sim_call(stack.sim, "POST", "/_sim/faults", {"graph_5xx_rate": 0})
    assert done
    assert not stack.messages(pk__in=ids, status="failed")


def test_an_undeliverable_number_ends_failed_with_its_reason(stack):
    # A number WhatsApp does not know (the simulator treats 62899… so): accepted first, failed by webhook.
    def a_customer_who_wrote_just_now():
        contact = Contact.objects.create(wa_id="6289912345678", phone="+6289912345678", last_inbound_at=timezone.now())
        return Conversation.objects.create(contact=contact)

    conversation = stack.committed(a_customer_who_wrote_just_now)
    contact = conversation.contact
    sent = stack.staff(stack.world.agent).post(
        f"/api/inbox/conversations/{conversation.pk}/messages/", json={"text": "Halo kak"}
    )
    assert sent.status_code == 201
    failed = eventually(lambda: stack.messages(pk=sent.json()["id"], status="failed"), timeout=15)
    assert failed and failed[0].error_code == 131026
    assert failed[0].error_reason in ("This number cannot receive WhatsApp messages.",
                                      "Nomor ini tidak dapat menerima pesan WhatsApp.")  # fmt: skip
    with schema_context(stack.world.shop.schema_name):
        assert Contact.objects.get(pk=contact.pk).undeliverable


def test_webhooks_that_arrive_while_redis_is_down_are_processed_once_it_is_back(stack):
    from tests.whatsapp import webhooks

    with web_server(REDIS_URL="redis://127.0.0.1:1/0") as cut_off:  # this web process cannot reach Redis
        payload = webhooks.inbound_text(NUMBER, "6281277776666", "pesan saat redis mati")
        raw = webhooks.body_bytes(payload)
        response = httpx.post(f"{cut_off}/webhooks/whatsapp/", content=raw, headers={
            "Content-Type": "application/json", "X-Hub-Signature-256": webhooks.signature(raw, SECRET),
            "Host": cut_off.split("//")[1]})  # fmt: skip
        assert response.status_code == 200
    intake = WebhookIntake.objects.filter(shop=stack.world.shop).latest("pk")
    assert intake.status == "pending"
    assert not stack.messages(text="pesan saat redis mati")
    requeue_stale_intake(older_than_seconds=0)  # the sweeper, as beat runs it (without waiting for staleness)
    assert eventually(lambda: stack.messages(text="pesan saat redis mati"), timeout=15)
    assert len(stack.messages(text="pesan saat redis mati")) == 1
