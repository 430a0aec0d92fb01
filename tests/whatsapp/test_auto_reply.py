"""Auto-replies: a greeting once, keywords, an away message by the shop's clock, cooldowns, no loops."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from crm.models import Contact
from whatsapp import auto_reply
from whatsapp.models import AutoReplyRule, BusinessHours, Conversation, Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(wa_a, in_schema):
    with in_schema(wa_a):
        yield wa_a


def rule(kind, reply, **fields):
    return AutoReplyRule.objects.create(name=reply[:20], kind=kind, reply_text=reply, **fields)


def inbound(text, wa_id="6281277778888", *, automated=False) -> Message:
    contact, _ = Contact.objects.get_or_create(wa_id=wa_id, defaults={"phone": f"+{wa_id}"})
    Contact.objects.filter(pk=contact.pk).update(last_inbound_at=timezone.now())
    conversation, _ = Conversation.objects.get_or_create(contact=contact)
    return Message.objects.create(
        conversation=conversation, direction="in", type="text", text=text, status="received", automated=automated
    )


def replies(wa_id="6281277778888") -> list[str]:
    return list(
        Message.objects.filter(conversation__contact__wa_id=wa_id, direction="out", automated=True)
        .order_by("pk")
        .values_list("text", flat=True)
    )


def test_the_greeting_answers_only_a_customers_first_message(shop):
    rule("greeting", "Halo kak, selamat datang di Butik A!", priority=1)
    auto_reply.answer(inbound("halo"))
    auto_reply.answer(inbound("masih ada?"))
    assert replies() == ["Halo kak, selamat datang di Butik A!"]


def test_keywords_match_whole_words_ignoring_case_and_accents(shop):
    rule("keyword", "Harga mulai 150rb kak", keywords=["harga", "berapa"], cooldown_minutes=0)
    for n, text in enumerate(["HARGA gamis ini?", "Hárga?", "harganya", "ini berapa ya", "hargai"]):
        auto_reply.answer(inbound(text, wa_id=f"62812000000{n}"))
    answered = [n for n in range(5) if replies(f"62812000000{n}")]
    assert answered == [0, 1, 3]


def test_the_away_message_follows_business_hours_in_the_shops_time_zone(shop):
    BusinessHours.objects.create(weekly={d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
                                 holidays=["2026-12-25"])  # fmt: skip
    away = rule("away", "Kami buka jam 09.00–17.00 WIB")
    # 01:30 UTC on a Wednesday is 08:30 in Jakarta: closed. 03:00 UTC is 10:00 WIB: open.
    assert auto_reply.choose_rule("halo", first_message=False, at=datetime(2026, 11, 25, 1, 30, tzinfo=UTC)) == away
    assert auto_reply.choose_rule("halo", first_message=False, at=datetime(2026, 11, 25, 3, 0, tzinfo=UTC)) is None
    # Saturday, and a holiday on a Friday, are closed all day.
    assert auto_reply.choose_rule("halo", first_message=False, at=datetime(2026, 11, 28, 3, 0, tzinfo=UTC)) == away
    assert auto_reply.choose_rule("halo", first_message=False, at=datetime(2026, 12, 25, 3, 0, tzinfo=UTC)) == away


def test_a_chatty_customer_is_not_spammed_within_the_cooldown(shop):
    keyword = rule("keyword", "Ongkir ke Jakarta 10rb", keywords=["ongkir"], cooldown_minutes=30)
    auto_reply.answer(inbound("ongkir?"))
    auto_reply.answer(inbound("ongkir ke jakarta?"))
    assert len(replies()) == 1
    keyword.autoreplyfiring_set.update(fired_at=timezone.now() - timedelta(minutes=31))
    auto_reply.answer(inbound("ongkir lagi"))
    assert len(replies()) == 2


def test_no_loops_automated_or_own_messages_are_never_answered(shop):
    rule("keyword", "Halo!", keywords=["halo"], cooldown_minutes=0)
    assert auto_reply.answer(inbound("halo", automated=True)) is None
    ours = Message.objects.filter(direction="out").first()
    assert ours is None or auto_reply.answer(ours) is None
    assert replies() == []


def test_rules_run_by_priority_and_reply_with_buttons(shop):
    rule("keyword", "Katalog: ...", keywords=["katalog"], priority=5, reply_buttons=["Gamis", "Hijab"])
    rule("greeting", "Selamat datang!", priority=10)
    reply = auto_reply.answer(inbound("lihat katalog"))
    assert reply.text == "Katalog: ..." and reply.type == "interactive"
    assert [b["reply"]["title"] for b in reply.payload["interactive"]["action"]["buttons"]] == ["Gamis", "Hijab"]


def test_the_rule_tester_api(wa_a, in_schema):
    with in_schema(wa_a):
        rule("keyword", "Ongkir 10rb", keywords=["ongkir"])
    client = wa_a.client(wa_a.owner)
    hit = client.post("/api/whatsapp/auto-replies/test/", {"text": "berapa ongkir?"}, content_type="application/json")
    assert hit.json()["reply_text"] == "Ongkir 10rb"
    miss = client.post("/api/whatsapp/auto-replies/test/", {"text": "terima kasih"}, content_type="application/json")
    assert miss.json() == {"rule": None, "reply_text": None}


def test_a_rule_can_answer_with_a_list_menu(shop, wa_a):
    owner = wa_a.client(wa_a.owner)
    created = owner.post("/api/whatsapp/auto-replies/", {
        "name": "Katalog", "kind": "keyword", "keywords": ["katalog"], "reply_text": "Mau lihat yang mana kak?",
        "reply_list": {"button": "Pilih koleksi", "rows": ["Gamis", "Hijab", "Mukena"]},
    }, content_type="application/json")  # fmt: skip
    assert created.status_code == 201, created.content
    too_long = owner.post("/api/whatsapp/auto-replies/", {
        "name": "x", "kind": "keyword", "keywords": ["x"], "reply_text": "x",
        "reply_list": {"button": "Pilih", "rows": ["Koleksi lebaran paling baru 2026"]},
    }, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert too_long.status_code == 400 and "reply_list" in too_long.json()
    reply = auto_reply.answer(inbound("ada katalog?"))
    interactive = reply.payload["interactive"]
    assert interactive["type"] == "list" and interactive["action"]["button"] == "Pilih koleksi"
    assert [row["title"] for row in interactive["action"]["sections"][0]["rows"]] == ["Gamis", "Hijab", "Mukena"]
