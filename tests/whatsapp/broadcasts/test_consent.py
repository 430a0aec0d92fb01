"""Opting out by message, in Indonesian, English or the shop's own words: at once, confirmed to the customer,
counted against the broadcast that prompted it; any other message counts as a reply to it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.models import Contact
from tests.whatsapp import webhooks
from whatsapp.broadcasts import results
from whatsapp.broadcasts.models import Broadcast, Recipient
from whatsapp.models import Message

from .factories import BroadcastFactory, ContactFactory

pytestmark = pytest.mark.django_db
JSON = {"content_type": "application/json", "HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def promoted(wa_a, in_schema):
    """Three customers who got a broadcast an hour ago."""
    with in_schema(wa_a):
        broadcast = BroadcastFactory(status=Broadcast.Status.COMPLETED)
        customers = [ContactFactory(wa_id=f"62815{n:07d}") for n in range(3)]
        for customer in customers:
            Recipient.objects.create(broadcast=broadcast, contact=customer, wa_id=customer.wa_id, status="read",
                                     sent_at=timezone.now() - timedelta(hours=1))  # fmt: skip
    return broadcast, [customer.wa_id for customer in customers]


def _say(portal, world, wa_id: str, text: str) -> None:
    webhooks.post(portal, webhooks.inbound_text(world.number, wa_id, text), world.secret)


def test_berhenti_and_stop_opt_out_at_once_are_confirmed_and_counted_against_the_broadcast(
    portal, wa_a, process, in_schema, promoted
):
    broadcast, (indonesian, english, loyal) = promoted
    _say(portal, wa_a, indonesian, "BERHENTI")
    _say(portal, wa_a, english, "Stop.")
    _say(portal, wa_a, loyal, "Kak, gamis yang di promo masih ada?")
    process(wa_a)

    with in_schema(wa_a):
        assert Contact.objects.get(wa_id=indonesian).marketing_opt_out
        assert Contact.objects.get(wa_id=english).marketing_opt_out
        assert not Contact.objects.get(wa_id=loyal).marketing_opt_out
        confirmations = Message.objects.filter(direction="out", automated=True,
                                               conversation__contact__wa_id__in=[indonesian, english])  # fmt: skip
        assert [m.text for m in confirmations] == ["Anda tidak akan menerima promosi dari kami lagi."] * 2
        progress = results.progress(broadcast.pk)
        assert progress["opted_out"] == 2 and progress["replied"] == 1
        summary = results.summary(broadcast)
        assert summary["opted_out"] == 2 and summary["funnel"]["replied"] == 1


def test_a_shop_adds_its_own_opt_out_words(portal, wa_a, process, in_schema, promoted):
    _broadcast, (customer, other, _third) = promoted
    owner = wa_a.client(wa_a.owner)
    saved = owner.put("/api/broadcasts/consent/", {"stop_words": ["Jangan kirim promo lagi"]}, **JSON)
    assert saved.status_code == 200 and saved.json()["stop_words"] == ["jangan kirim promo lagi"]
    agent = wa_a.client(wa_a.agent)
    assert agent.put("/api/broadcasts/consent/", {"stop_words": []}, **JSON).status_code == 403

    _say(portal, wa_a, customer, "jangan kirim promo lagi!")
    _say(portal, wa_a, other, "jangan kirim yang merah, yang biru saja")
    process(wa_a)

    with in_schema(wa_a):
        assert Contact.objects.get(wa_id=customer).marketing_opt_out
        assert not Contact.objects.get(wa_id=other).marketing_opt_out


def test_a_broadcast_can_be_paused_resumed_and_cancelled_and_cancelling_skips_who_is_left(wa_a, in_schema):
    with in_schema(wa_a):
        people = ContactFactory.create_batch(3)
        broadcast = BroadcastFactory(audience={"contacts": [p.pk for p in people]})
    client = wa_a.client(wa_a.owner)
    assert client.post(f"/api/broadcasts/{broadcast.pk}/send/", {}, **JSON).json()["status"] == "sending"

    assert client.post(f"/api/broadcasts/{broadcast.pk}/pause/", **JSON).json()["status"] == "paused"
    refused = client.post(f"/api/broadcasts/{broadcast.pk}/pause/", **JSON)
    assert refused.status_code == 400 and refused.json()["detail"] == "Only a broadcast that is sending can be paused."
    assert client.post(f"/api/broadcasts/{broadcast.pk}/resume/", **JSON).json()["status"] == "sending"
    assert client.post(f"/api/broadcasts/{broadcast.pk}/cancel/", **JSON).json()["status"] == "cancelled"

    progress = client.get(f"/api/broadcasts/{broadcast.pk}/progress/").json()
    assert progress["skipped"] == 3 and progress["queued"] == 0
