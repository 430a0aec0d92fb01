"""Webhook intake: only signed, routed events are stored; everything else is refused or quarantined."""

import pytest
from django.test import Client

from tenants.services.lifecycle import reactivate_shop, suspend_shop
from tests.factories import UserFactory
from tests.whatsapp import webhooks
from whatsapp.channel.models import WebhookIntake
from whatsapp.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def meta(portal) -> Client:
    return portal


def stored() -> int:
    return WebhookIntake.objects.count()


def test_a_signed_webhook_is_stored_for_its_shop(meta, wa_a):
    response = webhooks.post(meta, webhooks.inbound_text(wa_a.number, "6281234567890", "halo"), wa_a.secret)
    assert response.status_code == 200
    intake = WebhookIntake.objects.latest("pk")
    assert (intake.shop, intake.status, intake.phone_number_ids) == (wa_a.shop, "pending", [wa_a.number])


@pytest.mark.parametrize(
    "signature",
    [None, "sha256=" + "0" * 64, "md5=abc", "sha256=not-hex"],
    ids=["missing", "zeroes", "wrong-scheme", "garbage"],
)
def test_unsigned_or_badly_signed_webhooks_are_refused_and_not_stored(meta, wa_a, signature):
    before = stored()
    headers = {"HTTP_X_HUB_SIGNATURE_256": signature} if signature else {}
    raw = webhooks.body_bytes(webhooks.inbound_text(wa_a.number, "6281234567890", "halo"))
    response = meta.post("/webhooks/whatsapp/", raw, content_type="application/json", **headers)
    assert response.status_code == 401
    assert stored() == before


def test_another_shops_secret_or_a_tampered_body_is_refused(meta, wa_a, wa_b):
    before = stored()
    payload = webhooks.inbound_text(wa_a.number, "6281234567890", "halo")
    assert webhooks.post(meta, payload, wa_b.secret).status_code == 401
    assert webhooks.post(meta, payload, "guessed-secret").status_code == 401
    raw = webhooks.body_bytes(payload)
    tampered = raw.replace(b"halo", b"HALO")
    headers = {"HTTP_X_HUB_SIGNATURE_256": webhooks.signature(raw, wa_a.secret)}
    assert meta.post("/webhooks/whatsapp/", tampered, content_type="application/json", **headers).status_code == 401
    assert stored() == before


def test_non_ascii_bodies_are_verified_on_the_raw_bytes(meta, wa_a, process, in_schema):
    payload = webhooks.inbound_text(wa_a.number, "6281299990001", "Kak, ada ukuran XL? 🙏", name="Sári")
    raw = webhooks.body_bytes(payload)
    assert b"\\u00e1" in raw  # signed as Meta sends it: ASCII-escaped
    assert webhooks.post(meta, raw, wa_a.secret).status_code == 200
    process(wa_a)
    with in_schema(wa_a):
        message = Message.objects.get(wamid=payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"])
        assert message.conversation.contact.name == "Sári"
        assert message.text == "Kak, ada ukuran XL? 🙏"


def test_malformed_or_oversized_bodies_get_400(meta, wa_a):
    before = stored()
    assert webhooks.post(meta, b"{not json", wa_a.secret).status_code == 400
    big = b'{"entry": [], "pad": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    assert webhooks.post(meta, big, wa_a.secret).status_code == 400
    assert webhooks.post(meta, b"[]", wa_a.secret).status_code == 400
    assert stored() == before


def test_an_unknown_number_is_answered_200_and_quarantined(meta):
    response = webhooks.post(meta, webhooks.inbound_text("999000111", "6281234567890", "halo"), "whatever")
    assert response.status_code == 200
    intake = WebhookIntake.objects.latest("pk")
    assert (intake.shop, intake.status, intake.phone_number_ids) == (None, "quarantined", ["999000111"])


def test_the_subscription_handshake(meta, wa_a):
    from whatsapp.channel.models import WhatsAppAccount

    token = WhatsAppAccount.objects.get(phone_number_id=wa_a.number).verify_token
    ok = meta.get(
        "/webhooks/whatsapp/", {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158201444"}
    )
    assert (ok.status_code, ok.content) == (200, b"1158201444")
    wrong = meta.get("/webhooks/whatsapp/", {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"})
    assert wrong.status_code == 403


def test_a_suspended_shops_events_are_kept_and_processed_after_reactivation(meta, wa_a, process, in_schema):
    operator = UserFactory(is_staff=True)
    suspend_shop(wa_a.shop, operator)
    payload = webhooks.inbound_text(wa_a.number, "6281277770001", "masih buka?")
    assert webhooks.post(meta, payload, wa_a.secret).status_code == 200
    process(wa_a)
    intake = WebhookIntake.objects.latest("pk")
    assert intake.status == "pending"
    reactivate_shop(wa_a.shop, operator)
    process(wa_a)
    intake.refresh_from_db()
    assert intake.status == "processed"
    with in_schema(wa_a):
        assert Message.objects.filter(text="masih buka?").count() == 1


def test_status_updates_never_take_the_customers_queue(wa_a):
    """Every change says `"field": "messages"`; only a change that carries messages is a customer waiting."""
    from whatsapp.channel import intake

    statuses = webhooks.status(wa_a.number, "wamid.OUT1", "delivered", "6281234567890")
    message = webhooks.inbound_text(wa_a.number, "6281234567890", "halo")
    assert b'"messages"' in webhooks.body_bytes(statuses)
    assert not intake.carries_messages(statuses)
    assert intake.carries_messages(message)
    assert intake.carries_messages(webhooks.merged(statuses, message))
