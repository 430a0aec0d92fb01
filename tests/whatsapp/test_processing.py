"""Processing stored webhooks: duplicates once, statuses forward only, each shop its own data."""

import pytest

from crm.models import Contact
from tests.whatsapp import webhooks
from whatsapp.channel.models import DeliveryFailure, WhatsAppAccount
from whatsapp.models import Conversation, Message

pytestmark = pytest.mark.django_db


def test_the_same_message_delivered_five_times_is_stored_once(portal, wa_a, process, in_schema):
    payload = webhooks.inbound_text(wa_a.number, "6281211110001", "ada warna merah?")
    for _ in range(5):
        assert webhooks.post(portal, payload, wa_a.secret).status_code == 200
    assert process(wa_a) == 1
    with in_schema(wa_a):
        contact = Contact.objects.get(wa_id="6281211110001")
        assert contact.phone == "+6281211110001" and contact.name == "Sari"
        assert Message.objects.filter(conversation__contact=contact).count() == 1
        assert Conversation.objects.get(contact=contact).unread_count == 1
        assert contact.last_inbound_at is not None


def outbound_message(world, in_schema, wamid: str, wa_id: str = "6281211110002") -> Message:
    with in_schema(world):
        contact = Contact.objects.create(wa_id=wa_id, phone=f"+{wa_id}")
        conversation = Conversation.objects.create(contact=contact)
        return Message.objects.create(
            conversation=conversation, direction="out", wamid=wamid, text="Ada kak", status="accepted"
        )


def test_statuses_only_move_forward_even_out_of_order(portal, wa_a, process, in_schema):
    message_id = webhooks.wamid()
    message = outbound_message(wa_a, in_schema, message_id)
    for name in ("read", "delivered", "sent", "delivered"):
        webhooks.post(portal, webhooks.status(wa_a.number, message_id, name, "6281211110002"), wa_a.secret)
    process(wa_a)
    with in_schema(wa_a):
        message.refresh_from_db()
        assert message.status == "read"


def test_a_failure_carries_its_reason_and_marks_the_number(portal, wa_a, process, in_schema, settings):
    message_id = webhooks.wamid()
    message = outbound_message(wa_a, in_schema, message_id, wa_id="6289911112222")
    errors = [{"code": 131026, "title": "Message undeliverable", "message": "Message undeliverable"}]
    webhooks.post(
        portal, webhooks.status(wa_a.number, message_id, "failed", "6289911112222", errors=errors), wa_a.secret
    )
    process(wa_a)
    with in_schema(wa_a):
        message.refresh_from_db()
        assert (message.status, message.error_code) == ("failed", 131026)
        assert message.error_reason in (
            "This number cannot receive WhatsApp messages.",
            "Nomor ini tidak dapat menerima pesan WhatsApp.",
        )
        assert Contact.objects.get(wa_id="6289911112222").undeliverable
    assert DeliveryFailure.objects.filter(shop=wa_a.shop, message_id=message.pk, error_code=131026).exists()


def test_a_batch_with_two_shops_numbers_lands_in_each_shop(portal, wa_a, wa_b, process, in_schema):
    # Two shops on the same Meta app (one app secret), one POST.
    shared = "shared-app-secret"
    WhatsAppAccount.objects.filter(phone_number_id__in=[wa_a.number, wa_b.number]).update(app_secret=shared)
    from whatsapp.channel import intake

    intake.forget_route(wa_a.number)
    intake.forget_route(wa_b.number)
    try:
        batch = webhooks.merged(
            webhooks.inbound_text(wa_a.number, "6281233330001", "untuk toko A"),
            webhooks.inbound_text(wa_b.number, "6281233330002", "untuk toko B"),
        )
        assert webhooks.post(portal, batch, shared).status_code == 200
        process(wa_a)
        process(wa_b)
        with in_schema(wa_a):
            assert list(Message.objects.values_list("text", flat=True)) == ["untuk toko A"]
        with in_schema(wa_b):
            assert list(Message.objects.values_list("text", flat=True)) == ["untuk toko B"]
    finally:
        intake.forget_route(wa_a.number)
        intake.forget_route(wa_b.number)


def test_a_batch_signed_with_only_one_shops_secret_is_refused(portal, wa_a, wa_b):
    batch = webhooks.merged(
        webhooks.inbound_text(wa_a.number, "6281233330001", "A"),
        webhooks.inbound_text(wa_b.number, "6281233330002", "B"),
    )
    assert webhooks.post(portal, batch, wa_a.secret).status_code == 401


def test_shop_a_webhooks_never_create_data_in_shop_b(portal, wa_a, wa_b, process, in_schema):
    webhooks.post(portal, webhooks.inbound_text(wa_a.number, "6281244440001", "halo A"), wa_a.secret)
    process(wa_a)
    process(wa_b)
    with in_schema(wa_b):
        assert not Contact.objects.filter(wa_id="6281244440001").exists()
        assert not Message.objects.filter(text="halo A").exists()


def test_a_customer_known_only_by_username_gets_a_contact(portal, wa_a, process, in_schema):
    payload = webhooks.envelope(
        wa_a.number,
        {
            "contacts": [{"profile": {"name": "Rina"}, "user_id": "ID.1502576394655843"}],
            "messages": [{"from_user_id": "ID.1502576394655843", "id": webhooks.wamid(), "timestamp": "1764000000",
                          "type": "text", "text": {"body": "kak"}}],
        },
    )  # fmt: skip
    webhooks.post(portal, payload, wa_a.secret)
    process(wa_a)
    with in_schema(wa_a):
        contact = Contact.objects.get(business_user_id="ID.1502576394655843")
        assert (contact.wa_id, contact.phone, contact.name) == (None, None, "Rina")


def test_stop_opts_the_customer_out_of_marketing(portal, wa_a, process, in_schema):
    webhooks.post(portal, webhooks.inbound_text(wa_a.number, "6281255550001", "BERHENTI"), wa_a.secret)
    process(wa_a)
    with in_schema(wa_a):
        assert Contact.objects.get(wa_id="6281255550001").marketing_opt_out


def test_every_inbound_type_is_stored_with_its_payload(portal, wa_a, process, in_schema):
    kinds = {
        "image": {"image": {"id": "media-1", "mime_type": "image/jpeg", "caption": "yang ini"}},
        "location": {"location": {"latitude": -6.2, "longitude": 106.8, "name": "Toko"}},
        "interactive": {
            "interactive": {"type": "button_reply", "button_reply": {"id": "b1", "title": "Lihat katalog"}}
        },
        "button": {"button": {"payload": "STOP", "text": "Stop promosi"}},
        "reaction": {"reaction": {"message_id": "wamid.x", "emoji": "👍"}},
        "order": {"order": {"catalog_id": "c", "product_items": [{"product_retailer_id": "sku1", "quantity": 2}]}},
    }
    for kind, body in kinds.items():
        message = {"from": "6281266660001", "id": webhooks.wamid(), "timestamp": "1764000000", "type": kind, **body}
        payload = webhooks.envelope(wa_a.number, {"contacts": [{"profile": {"name": "Tia"}, "wa_id": "6281266660001"}],
                                                  "messages": [message]})  # fmt: skip
        webhooks.post(portal, payload, wa_a.secret)
    process(wa_a)
    with in_schema(wa_a):
        stored = {m.type: m for m in Message.objects.filter(conversation__contact__wa_id="6281266660001")}
        assert set(stored) == set(kinds)
        assert stored["image"].media_id == "media-1" and stored["image"].text == "yang ini"
        assert stored["interactive"].text == "Lihat katalog"
        assert stored["order"].payload["order"]["product_items"][0]["quantity"] == 2
