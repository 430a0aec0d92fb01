"""Composing a broadcast: who it reaches and who it must not, what each recipient reads, what it costs before
it goes, a send the money does not cover refused before anything is frozen, and retargeting segments."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from django_tenants.utils import schema_context

from billing import metering, wallet
from billing.models import BillingAccount, Reservation
from billing.ratecard import RateBook
from crm.models import Label, Segment
from crm.services import imports
from tenants import provisioning
from tenants.services.errors import ServiceError
from tests.conftest import ShopWorld
from whatsapp.broadcasts import cost, rendering, results, services
from whatsapp.broadcasts.models import Broadcast, Recipient

from .factories import BroadcastFactory, ContactFactory, TemplateFactory

pytestmark = pytest.mark.django_db
JSON = {"content_type": "application/json", "HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(scope="module")
def world(committed):
    """A shop of its own, so audiences are exactly this file's contacts."""
    provisioning.refill_pool(4)
    return ShopWorld("broadcasting")


@pytest.fixture
def shop(world):
    with schema_context(world.shop.schema_name):
        yield world


def _price(market: str, category: str = "marketing") -> Decimal:
    terms = metering.current_terms()
    today = timezone.now().astimezone(terms.time_zone).date()
    return RateBook().price(market=market, category=category, on=today, currency=terms.currency,
                            markup_percent=terms.markup_percent, billed=True).price  # fmt: skip


def test_the_audience_is_its_segments_labels_and_picks_minus_whoever_must_not_get_it(shop):
    Segment.objects.create(name="Bandung", rules={"field": "city", "operator": "is", "value": "Bandung"})
    blocked = Segment.objects.create(name="Blocked", rules={"field": "city", "operator": "is", "value": "Garut"})
    vip = Label.objects.create(name="VIP")
    in_segment = ContactFactory(city="Bandung")
    labelled = ContactFactory()
    labelled.labels.add(vip)
    picked, not_chosen = ContactFactory(), ContactFactory()
    opted_out = ContactFactory(city="Bandung", marketing_opt_out=True)
    undeliverable = ContactFactory(city="Bandung", undeliverable=True)
    no_number = ContactFactory(city="Bandung", wa_id=None, phone=None)
    excluded = ContactFactory(city="Garut")
    excluded.labels.add(vip)
    recently = ContactFactory(city="Bandung")
    earlier = BroadcastFactory(status=Broadcast.Status.COMPLETED)
    Recipient.objects.create(broadcast=earlier, contact=recently, wa_id=recently.wa_id, status="delivered",
                             sent_at=timezone.now() - timedelta(hours=2))  # fmt: skip
    segment = Segment.objects.get(name="Bandung")
    broadcast = BroadcastFactory(
        audience={"segments": [segment.pk], "labels": [vip.pk], "contacts": [picked.pk]},
        exclude_segments=[blocked.pk],
    )

    found = cost.estimate(broadcast)

    assert found.recipients == 3
    assert found.excluded == {"no_whatsapp": 1, "opted_out": 1, "undeliverable": 1, "frequency_cap": 1,
                              "excluded_segments": 1}  # fmt: skip
    services.start(broadcast)
    frozen = set(Recipient.objects.filter(broadcast=broadcast).values_list("contact_id", flat=True))
    assert frozen == {in_segment.pk, labelled.pk, picked.pk}
    assert not_chosen.pk not in frozen and opted_out.pk not in frozen and undeliverable.pk not in frozen
    assert no_number.pk not in frozen and recently.pk not in frozen


def test_without_a_frequency_cap_a_recent_recipient_is_reached_again_and_utility_ignores_marketing_consent(shop):
    recently = ContactFactory()
    opted_out = ContactFactory(marketing_opt_out=True)
    earlier = BroadcastFactory(status=Broadcast.Status.COMPLETED)
    Recipient.objects.create(broadcast=earlier, contact=recently, wa_id=recently.wa_id, status="read",
                             sent_at=timezone.now() - timedelta(hours=1))  # fmt: skip
    picks = {"contacts": [recently.pk, opted_out.pk]}

    assert cost.estimate(BroadcastFactory(audience=picks, frequency_cap_hours=0)).recipients == 1
    utility = BroadcastFactory(audience=picks, frequency_cap_hours=0, template=TemplateFactory(category="UTILITY"))
    assert cost.estimate(utility).recipients == 2


def test_choosing_nobody_reaches_nobody(shop):
    ContactFactory()
    assert cost.estimate(BroadcastFactory(audience={})).recipients == 0
    with translation.override("en"), pytest.raises(ServiceError, match="Nobody"):
        services.start(BroadcastFactory(audience={}))


def test_a_contact_without_a_first_name_gets_the_fallback_and_the_preview_shows_it(shop):
    nameless, sari = ContactFactory(name=""), ContactFactory(name="Sari Dewi")
    broadcast = BroadcastFactory(audience={"contacts": [nameless.pk, sari.pk]})

    assert rendering.values_for(broadcast.variables, nameless) == ["Kak", "20%"]
    assert rendering.values_for(broadcast.variables, sari) == ["Sari", "20%"]
    preview = shop.client(shop.owner).get(f"/api/broadcasts/{broadcast.pk}/preview/").json()["recipients"]
    assert {row["text"] for row in preview} == {
        "Halo Kak, koleksi baru sudah datang! Diskon 20% untuk kakak.",
        "Halo Sari, koleksi baru sudah datang! Diskon 20% untuk kakak.",
    }


def test_a_variable_from_the_contact_needs_a_fallback_and_every_variable_must_be_mapped(shop):
    client = shop.client(shop.owner)
    template = TemplateFactory()
    body = {"name": "Lebaran", "template_id": template.pk, "audience": {},
            "variables": [{"source": "field", "value": "first_name"}, {"source": "text", "value": "10%"}]}  # fmt: skip

    refused = client.post("/api/broadcasts/", body, **JSON)
    assert refused.status_code == 400
    assert "fallback" in refused.json()["variables"][0]
    body["variables"] = body["variables"][:1]
    assert "2 variable" in client.post("/api/broadcasts/", body, **JSON).json()["variables"][0]
    body["variables"] = [{"source": "field", "value": "first_name", "fallback": "Kak"},
                         {"source": "text", "value": "10%"}]  # fmt: skip
    created = client.post("/api/broadcasts/", body, **JSON)
    assert created.status_code == 201 and created.json()["status"] == "draft"


def test_the_estimate_is_the_audience_by_market_times_the_rate_with_the_plans_markup(shop):
    indonesians = [ContactFactory() for _ in range(3)]
    americans = [ContactFactory(wa_id=f"1415555{n:04d}") for n in range(2)]
    broadcast = BroadcastFactory(audience={"contacts": [c.pk for c in indonesians + americans]})

    body = shop.client(shop.owner).get(f"/api/broadcasts/{broadcast.pk}/estimate/", **JSON).json()

    markets = {row["market"]: row for row in body["markets"]}
    assert markets["62"]["count"] == 3 and markets["1"]["count"] == 2
    expected = 3 * _price("62") + 2 * _price("1")
    assert Decimal(body["total"]) == expected
    assert body["allowed"] is True and body["refusal"] is None
    assert expected > 3 * _price("62") > 0


def test_a_cap_smaller_than_the_cost_refuses_the_send_before_anything_is_frozen_or_held(shop):
    contacts = [ContactFactory() for _ in range(5)]
    broadcast = BroadcastFactory(audience={"contacts": [c.pk for c in contacts]})
    account = wallet.account_for(shop.shop.pk)
    reserved_before = account.reserved
    BillingAccount.objects.filter(pk=account.pk).update(monthly_cap=_price("62") * 2 + wallet.spent_this_month(
        shop.shop) + account.reserved)  # fmt: skip
    client = shop.client(shop.owner)

    estimate = client.get(f"/api/broadcasts/{broadcast.pk}/estimate/", **JSON).json()
    assert estimate["allowed"] is False and "spending cap" in estimate["refusal"]
    refused = client.post(f"/api/broadcasts/{broadcast.pk}/send/", {}, **JSON)

    assert refused.status_code == 402
    assert "Raise the cap in Settings > Billing" in refused.json()["detail"]
    assert not Recipient.objects.filter(broadcast=broadcast).exists()
    assert Broadcast.objects.get(pk=broadcast.pk).status == "draft"
    assert wallet.account_for(shop.shop.pk).reserved == reserved_before
    assert not Reservation.objects.filter(reference=broadcast.hold_reference).exists()


def test_a_balance_smaller_than_the_cost_refuses_the_send(shop):
    contacts = [ContactFactory() for _ in range(4)]
    broadcast = BroadcastFactory(audience={"contacts": [c.pk for c in contacts]})
    account = wallet.account_for(shop.shop.pk)
    BillingAccount.objects.filter(pk=account.pk).update(balance=account.reserved + _price("62") * 3)

    with translation.override("en"), pytest.raises(wallet.SpendRefused, match="Top up"):
        services.start(broadcast)
    assert not Recipient.objects.filter(broadcast=broadcast).exists()


def test_starting_freezes_the_audience_and_reserves_exactly_its_estimate_and_cancel_frees_the_rest(shop):
    contacts = [ContactFactory() for _ in range(6)]
    broadcast = BroadcastFactory(audience={"contacts": [c.pk for c in contacts]})
    estimate = cost.estimate(broadcast)
    reserved_before = wallet.account_for(shop.shop.pk).reserved

    started = services.start(broadcast)

    assert started.status == "sending" and started.recipient_count == 6
    assert started.estimated_cost == estimate.total
    assert wallet.account_for(shop.shop.pk).reserved - reserved_before == estimate.total
    with pytest.raises(ServiceError):
        services.update_broadcast(started, {"name": "Changed"})
    Recipient.objects.filter(pk=Recipient.objects.filter(broadcast=broadcast).first().pk).update(
        status="sent", sent_at=timezone.now()
    )
    services.cancel(started)
    assert Recipient.objects.filter(broadcast=broadcast, status="skipped").count() == 5
    assert wallet.account_for(shop.shop.pk).reserved - reserved_before == _price("62")


def test_retargeting_makes_a_segment_of_whoever_stopped_at_a_step(shop):
    people = [ContactFactory() for _ in range(4)]
    broadcast = BroadcastFactory(status=Broadcast.Status.COMPLETED)
    now = timezone.now()
    steps = [
        {"status": "sent"},
        {"status": "delivered", "delivered_at": now},
        {"status": "read", "delivered_at": now, "read_at": now},
        {"status": "read", "delivered_at": now, "read_at": now, "replied_at": now},
    ]
    for person, step in zip(people, steps, strict=True):
        Recipient.objects.create(broadcast=broadcast, contact=person, wa_id=person.wa_id, sent_at=now, **step)
    client = shop.client(shop.owner)

    expected = {"not_delivered": people[0], "delivered_not_read": people[1], "read_no_reply": people[2],
                "replied_no_order": people[3]}  # fmt: skip
    for step, person in expected.items():
        made = client.post(f"/api/broadcasts/{broadcast.pk}/retarget/", {"step": step, "name": f"Again {step}"}, **JSON)
        assert made.status_code == 201, made.content
        assert made.json()["count"] == 1
        segment = Segment.objects.get(pk=made.json()["segment_id"])
        members = client.get(f"/api/crm/segments/{segment.pk}/", **JSON).json()
        assert members["count"] == 1
        assert list(results.recipients_at(broadcast, step).values_list("contact_id", flat=True)) == [person.pk]


def test_a_shop_cannot_see_target_or_control_another_shops_broadcasts_or_segments(shop_a, shop_b):
    with schema_context(shop_b.shop.schema_name):
        theirs = Segment.objects.create(name="B loyal", rules={})
        their_broadcast = BroadcastFactory(name="B secret sale", audience={"segments": [theirs.pk]})
    with schema_context(shop_a.shop.schema_name):
        template = TemplateFactory()
        mine = BroadcastFactory(template=template)
        their_id_is_free_here = not Broadcast.objects.filter(pk=their_broadcast.pk).exists()
    client = shop_a.client(shop_a.owner)

    body = {"name": "Steal", "template_id": template.pk, "audience": {"segments": [theirs.pk]},
            "variables": mine.variables}  # fmt: skip
    refused = client.post("/api/broadcasts/", body, **JSON)
    assert refused.status_code == 400 and "no longer exists" in str(refused.json())
    listed = [row["name"] for row in client.get("/api/broadcasts/").json()["results"]]
    assert mine.name in listed and "B secret sale" not in listed
    if their_id_is_free_here:
        assert client.get(f"/api/broadcasts/{their_broadcast.pk}/").status_code == 404
        assert client.post(f"/api/broadcasts/{their_broadcast.pk}/send/", {}, **JSON).status_code == 404
    # Shop B's own host is closed to shop A's session.
    stranger = shop_a.client(shop_a.owner)
    stranger.defaults["HTTP_HOST"] = shop_b.host
    assert stranger.get("/api/broadcasts/").status_code in (401, 403)
    with schema_context(shop_b.shop.schema_name):
        assert Broadcast.objects.get(pk=their_broadcast.pk).status == "draft"


def test_an_uploaded_list_becomes_a_label_to_broadcast_to_and_its_unreadable_lines_are_reported(shop):
    existing = ContactFactory(wa_id="6281377700001", name="Sari")
    content = b"Nama,Nomor WhatsApp\nSari,0813-7770-0001\nDewi,+62 813 7770 0002\nRina,bukan nomor\n"
    job, _preview = imports.create_import(filename="lebaran.csv", content=content, actor_id=shop.owner.pk)
    columns = imports.suggest_mapping(job.columns, [])
    imports.start_import(job, mapping=columns, update_existing=True, label_all="Siaran Lebaran")

    done = imports.run_import(job.pk)

    assert [error["line"] for error in done.errors] == [4]
    label = Label.objects.get(name="Siaran Lebaran")
    assert set(label.contacts.values_list("phone", flat=True)) == {existing.phone, "+6281377700002"}
    broadcast = BroadcastFactory(audience={"labels": [label.pk]})
    assert cost.estimate(broadcast).recipients == 2


def test_a_segment_without_rules_reaches_every_contact_even_beside_other_choices(shop):
    everyone = Segment.objects.create(name="Semua", rules={})
    contacts = ContactFactory.create_batch(3)
    broadcast = BroadcastFactory(audience={"segments": [everyone.pk], "contacts": [contacts[0].pk]})

    assert cost.estimate(broadcast).recipients == 3
