"""The whole channel with real processes: simulator (Meta and the customer's phone), gunicorn,
Celery workers, PostgreSQL and Redis. Data here is committed, in a shop of its own."""

import time

import httpx
import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from crm.models import Contact
from tests.support.channel import NUMBER, SECRET
from tests.support.servers import eventually, sim_call, web_server
from whatsapp.channel.models import DeliveryFailure, WebhookIntake
from whatsapp.models import Conversation
from whatsapp.tasks import requeue_stale_intake

pytestmark = [pytest.mark.worker, pytest.mark.django_db]


@pytest.fixture
def stack(whatsapp_stack):
    return whatsapp_stack


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
    sim_call(stack.sim, "POST", "/_sim/faults", {"graph_5xx_rate": 0.3})
    try:
        agent = stack.staff(stack.world.agent)
        url = f"/api/inbox/conversations/{conversation_id}/messages/"
        ids = [agent.post(url, json={"text": f"info {n}"}).json()["id"] for n in range(6)]
        done = eventually(lambda: len(stack.messages(pk__in=ids, wamid__isnull=False)) == 6, timeout=90)
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
    # The operator sees it too.
    assert DeliveryFailure.objects.filter(shop=stack.world.shop, message_id=failed[0].pk, error_code=131026).exists()


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


def test_a_burst_of_customers_is_answered_once_each(stack):
    """Under load the webhooks of many customers share processing tasks and transactions; every customer still
    gets exactly one reply and every webhook, with the status ticks of the replies, is processed."""
    customers = [f"6281244{n:05d}" for n in range(20)]
    since = timezone.now()
    for wa_id in customers:
        stack.say(wa_id, "kak harga gamis?")

    def replies() -> list[int]:
        return [sum(m["direction"] == "in" for m in stack.phone(wa_id)) for wa_id in customers]

    assert eventually(lambda: all(replies()), timeout=60), replies()
    intake = WebhookIntake.objects.filter(shop=stack.world.shop, received_at__gte=since)
    assert eventually(lambda: not intake.filter(status="pending").exists(), timeout=60)
    assert replies() == [1] * len(customers)
    ours = {"automated": True, "conversation__contact__wa_id__in": customers}
    assert eventually(lambda: len(stack.messages(status="read", **ours)) == len(customers), timeout=60), [
        message.status for message in stack.messages(**ours)
    ]


def test_the_web_servers_intake_refuses_what_the_django_view_refuses(stack):
    """Under gunicorn the POSTs skip Django's middleware (whatsapp/channel/wsgi.py); the rules stay the same."""
    from tests.whatsapp import webhooks
    from whatsapp.channel.models import WhatsAppAccount

    host = {"Host": stack.web.split("//")[1]}
    raw = webhooks.body_bytes(webhooks.inbound_text(NUMBER, "6281244445555", "pesan palsu"))

    def stored() -> int:  # other webhooks (the warm-up's status ticks) may land meanwhile
        return sum(b"pesan palsu" in bytes(body) for body in WebhookIntake.objects.values_list("body", flat=True))

    forged = httpx.post(f"{stack.web}/webhooks/whatsapp/", content=raw, headers={
        **host, "X-Hub-Signature-256": webhooks.signature(raw, "guessed-secret")})  # fmt: skip
    unsigned = httpx.post(f"{stack.web}/webhooks/whatsapp/", content=raw, headers=host)
    malformed = httpx.post(f"{stack.web}/webhooks/whatsapp/", content=b"{not json", headers=host)
    too_big = httpx.post(f"{stack.web}/webhooks/whatsapp/", content=b" " * (3 * 1024 * 1024 + 1), headers=host)
    assert (forged.status_code, unsigned.status_code) == (401, 401)
    assert forged.json() == {"error": "Invalid signature."}
    assert (malformed.status_code, too_big.status_code) == (400, 400)
    # A shop's own host has no webhook URL (Django answers it as any shop page); the GET handshake is Django's.
    shop_host = httpx.post(f"{stack.web}/webhooks/whatsapp/", content=raw, headers={
        "Host": stack.world.host, "X-Hub-Signature-256": webhooks.signature(raw, SECRET)})  # fmt: skip
    assert shop_host.status_code in (403, 404)
    assert stored() == 0
    token = WhatsAppAccount.objects.get(phone_number_id=NUMBER).verify_token
    subscribe = {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "42"}
    handshake = httpx.get(f"{stack.web}/webhooks/whatsapp/", headers=host, params=subscribe)
    assert (handshake.status_code, handshake.text) == (200, "42")
    assert not stack.messages(text="pesan palsu")


def test_a_customers_photo_is_fetched_with_the_shops_token_when_opened(stack):
    sim_call(stack.sim, "POST", "/_sim/customers/6281288887777/messages",
             {"phone_number_id": NUMBER, "type": "image", "caption": "yang ini kak", "name": "Tia"})  # fmt: skip
    photo = eventually(lambda: stack.messages(conversation__contact__wa_id="6281288887777", type="image"))
    assert photo and photo[0].media_id
    response = stack.staff(stack.world.agent).get(f"/api/inbox/messages/{photo[0].pk}/media/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/")
    assert response.content.startswith(b"\x89PNG")


def test_whatsapps_throughput_limit_130429_is_retried_until_sent(stack):
    stack.say("6281299990000", "halo")
    conversation = eventually(lambda: stack.messages(conversation__contact__wa_id="6281299990000", direction="in"))
    before = sim_call(stack.sim, "GET", "/_sim/stats")["rate_limited"]
    sim_call(stack.sim, "POST", "/_sim/numbers", {"phone_number_id": NUMBER, "throughput_mps": 1})
    try:
        agent = stack.staff(stack.world.agent)
        url = f"/api/inbox/conversations/{conversation[0].conversation_id}/messages/"
        ids = [agent.post(url, json={"text": f"stok {n}"}).json()["id"] for n in range(4)]
        done = eventually(lambda: len(stack.messages(pk__in=ids, wamid__isnull=False)) == 4, timeout=40)
    finally:
        sim_call(stack.sim, "POST", "/_sim/numbers", {"phone_number_id": NUMBER, "throughput_mps": 80})
    assert done and not stack.messages(pk__in=ids, status="failed")
    assert sim_call(stack.sim, "GET", "/_sim/stats")["rate_limited"] > before  # WhatsApp did say 130429


def test_an_agent_sends_a_photo_and_the_customer_receives_it(stack):
    import base64

    stack.say("6281266665555", "ada foto yang hitam?")
    conversation = eventually(lambda: stack.messages(conversation__contact__wa_id="6281266665555", direction="in"))
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    )
    agent = stack.staff(stack.world.agent)
    url = f"/api/inbox/conversations/{conversation[0].conversation_id}/attachments/"
    sent = agent.post(url, files={"file": ("gamis-hitam.png", png, "image/png")}, data={"caption": "Yang hitam kak"})
    assert sent.status_code == 201, sent.text
    assert sent.json()["type"] == "image"
    received = eventually(
        lambda: [m for m in stack.phone("6281266665555") if m["direction"] == "in" and m["type"] == "image"]
    )
    assert received and received[0]["text"] == "Yang hitam kak"
    refused = agent.post(url, files={"file": ("virus.exe", b"MZ", "application/x-msdownload")})
    assert refused.status_code == 400 and "file" in refused.json()
