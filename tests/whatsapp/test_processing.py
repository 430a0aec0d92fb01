"""Processing stored webhooks: duplicates once, statuses forward only, each shop its own data."""

import json
import time
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from config.redis import redis_client
from crm.models import Contact, DailyStats, TimelineEvent
from tests.whatsapp import webhooks
from whatsapp import live
from whatsapp.channel.models import DeliveryFailure, WebhookIntake, WhatsAppAccount
from whatsapp.inbound import record_sent
from whatsapp.models import Conversation, Message
from whatsapp.tasks import process_intake

pytestmark = pytest.mark.django_db


def new_contacts_today(world, in_schema) -> int:
    with in_schema(world):
        today = timezone.localdate(timezone=ZoneInfo("Asia/Jakarta"))
        return DailyStats.objects.filter(day=today).values_list("new_contacts", flat=True).first() or 0


def test_the_same_message_delivered_five_times_is_stored_once(portal, wa_a, process, in_schema):
    counted_before = new_contacts_today(wa_a, in_schema)
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
        # A new customer: counted once on the shop's day, with the first line of their timeline.
        assert list(TimelineEvent.objects.filter(contact=contact).values_list("kind", "summary")) == [
            ("created", "Pesan pertama di WhatsApp")  # in the shop's language
        ]
    assert new_contacts_today(wa_a, in_schema) == counted_before + 1


def outbound_message(world, in_schema, wamid: str | None, wa_id: str = "6281211110002") -> Message:
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


def statuses_webhook(phone_number_id: str, *statuses: tuple[str, str, str], errors: list | None = None) -> dict:
    """One webhook carrying several statuses, (wamid, status, recipient) each, in the order given."""
    items = []
    for message_id, name, recipient in statuses:
        item = {"id": message_id, "status": name, "timestamp": str(int(time.time())), "recipient_id": recipient}
        if name == "failed":
            item["errors"] = errors
        items.append(item)
    return webhooks.envelope(phone_number_id, {"statuses": items})


def live_events(schema_name: str):
    """The live inbox's Redis channel of a shop, subscribed before anything is published."""
    subscription = redis_client().pubsub(ignore_subscribe_messages=True)
    subscription.subscribe(live.channel_name(schema_name))
    subscription.get_message(timeout=1)  # the subscription's confirmation

    def received() -> list[dict]:
        events = []
        while (event := subscription.get_message(timeout=0.5)) is not None:
            events.append(json.loads(event["data"]))
        return events

    return received


def test_a_batch_of_statuses_moves_each_message_once_to_its_furthest_status(
    portal, wa_a, process, in_schema, django_capture_on_commit_callbacks
):
    ids = {name: webhooks.wamid() for name in ("shuffled", "sent_then_delivered", "opted_out", "already_read")}
    messages = {name: outbound_message(wa_a, in_schema, wamid, wa_id=f"628127777{n}")
                for n, (name, wamid) in enumerate(ids.items())}  # fmt: skip
    with in_schema(wa_a):
        Message.objects.filter(pk=messages["already_read"].pk).update(status="read")
    events = live_events(wa_a.shop.schema_name)
    opted_out = [{"code": 131050, "title": "User has stopped marketing messages"}]
    webhooks.post(portal, statuses_webhook(wa_a.number, (ids["shuffled"], "read", "6281277770"),
                                           (ids["sent_then_delivered"], "sent", "6281277771"),
                                           (ids["shuffled"], "sent", "6281277770"),
                                           (ids["opted_out"], "failed", "6281277772"),
                                           (ids["shuffled"], "delivered", "6281277770"),
                                           (ids["already_read"], "failed", "6281277773"), errors=opted_out),
                  wa_a.secret)  # fmt: skip
    webhooks.post(portal, webhooks.status(wa_a.number, ids["sent_then_delivered"], "delivered", "6281277771"),
                  wa_a.secret)  # fmt: skip
    with in_schema(wa_a), django_capture_on_commit_callbacks(execute=True):  # the inbox hears once it commits
        process(wa_a)

    with in_schema(wa_a):
        now = {name: Message.objects.get(pk=message.pk) for name, message in messages.items()}
        assert {name: message.status for name, message in now.items()} == {
            "shuffled": "read", "sent_then_delivered": "delivered", "opted_out": "failed", "already_read": "read",
        }  # fmt: skip
        assert now["opted_out"].error_code == 131050 and now["opted_out"].error_reason
        assert now["already_read"].error_code is None
        assert Contact.objects.get(wa_id="6281277772").marketing_opt_out
    assert list(DeliveryFailure.objects.filter(shop=wa_a.shop).values_list("message_id", flat=True)) == [
        messages["opted_out"].pk
    ]
    ticks = {(e["data"]["message_id"], e["data"]["status"]) for e in events() if e["event"] == "message.updated"}
    assert ticks == {(messages["shuffled"].pk, "read"), (messages["sent_then_delivered"].pk, "delivered"),
                     (messages["opted_out"].pk, "failed")}  # fmt: skip


def test_statuses_that_arrive_before_the_send_completes_apply_once_it_does(portal, wa_a, process, in_schema):
    message = outbound_message(wa_a, in_schema, None, wa_id="6281288880001")
    with in_schema(wa_a):
        Message.objects.filter(pk=message.pk).update(status="pending")
    early = webhooks.wamid()
    webhooks.post(portal, statuses_webhook(wa_a.number, (early, "delivered", "6281288880001"),
                                           (early, "sent", "6281288880001")), wa_a.secret)  # fmt: skip
    process(wa_a)
    with in_schema(wa_a):
        assert Message.objects.get(pk=message.pk).status == "pending"  # its wamid is not known yet
        message.refresh_from_db()
        assert record_sent(message, early, timezone.now())  # what the Graph call's answer leads to
        assert Message.objects.get(pk=message.pk).status == "delivered"
        assert not record_sent(message, early, timezone.now())  # recorded once


def test_one_task_takes_every_pending_row_of_its_kind(portal, wa_a, in_schema):
    """Under load one processing task applies many webhooks in one transaction; statuses and customers' messages
    stay apart (the latter have workers of their own)."""
    message = outbound_message(wa_a, in_schema, webhooks.wamid(), wa_id="6281299990001")
    for name in ("sent", "delivered", "read"):
        webhooks.post(portal, webhooks.status(wa_a.number, message.wamid, name, "6281299990001"), wa_a.secret)
    for n in range(2):
        webhooks.post(portal, webhooks.inbound_text(wa_a.number, f"628129999100{n}", "ada?"), wa_a.secret)
    pending = WebhookIntake.objects.filter(shop=wa_a.shop, status="pending").order_by("pk")
    status_rows = list(pending.filter(carries_messages=False).values_list("pk", flat=True))
    message_rows = list(pending.filter(carries_messages=True).values_list("pk", flat=True))
    assert (len(status_rows), len(message_rows)) == (3, 2)

    with in_schema(wa_a):
        assert process_intake(status_rows[-1]) == 0
        assert Message.objects.get(pk=message.pk).status == "read"
    assert set(pending.values_list("pk", flat=True)) == set(message_rows)
    with in_schema(wa_a):
        assert process_intake(message_rows[0]) == 2
    assert not pending.exists()
