"""Repeating and triggered broadcasts: each due run makes exactly one occurrence that goes through the same
start as any broadcast (exclusions, cost, refusal), the next run moves on in the shop's time zone, and a
triggered message reaches each customer once per event (birthday year, order, cart)."""

import datetime as dt
import itertools
import zoneinfo

import factory
import pytest
from django.utils import timezone, translation
from django_tenants.utils import schema_context

from billing import wallet
from billing.models import BillingAccount
from crm.models import Order
from tenants import provisioning
from tests.conftest import ShopWorld
from whatsapp.broadcasts import recurring
from whatsapp.broadcasts.models import Broadcast, Recipient
from whatsapp.broadcasts.tasks import mark_scheduled, sweep_broadcasts
from whatsapp.models import Conversation, Message

from .factories import BroadcastFactory, ContactFactory, TemplateFactory

pytestmark = pytest.mark.django_db
JSON = {"content_type": "application/json", "HTTP_ACCEPT_LANGUAGE": "en"}
JAKARTA = zoneinfo.ZoneInfo("Asia/Jakarta")
_order_numbers = itertools.count(1)


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    number = factory.LazyFunction(lambda: f"RC-{next(_order_numbers):06d}")
    contact = factory.SubFactory(ContactFactory)
    total = 150_000


def cart_message(contact, at: dt.datetime) -> Message:
    """A customer sending their WhatsApp cart (an inbound `order` message) at `at`."""
    conversation, _ = Conversation.objects.get_or_create(contact=contact)
    return Message.objects.create(conversation=conversation, direction=Message.Direction.INBOUND, type="order",
                                  status=Message.Status.RECEIVED, created_at=at)  # fmt: skip


@pytest.fixture(scope="module")
def world(committed):
    """A shop of its own (in Jakarta), so audiences are exactly this file's contacts."""
    provisioning.refill_pool(4)
    return ShopWorld("berulang")


@pytest.fixture
def shop(world):
    with schema_context(world.shop.schema_name):
        yield world


def activate(now: dt.datetime, **schedule) -> Broadcast:
    """An active repeating or triggered broadcast, first due just before `now`."""
    parent = BroadcastFactory(**schedule)
    return recurring.activate(parent, first_run=now - dt.timedelta(minutes=1))


def recipients_of(occurrence: Broadcast) -> set[int]:
    return set(Recipient.objects.filter(broadcast=occurrence).values_list("contact_id", flat=True))


def test_a_weekly_broadcast_makes_one_occurrence_when_due_and_moves_a_week_ahead_in_shop_time(shop):
    customers = ContactFactory.create_batch(3)
    client = shop.client(shop.owner)
    body = {"name": "Koleksi baru", "template_id": TemplateFactory().pk, "repeat": "weekly",
            "audience": {"contacts": [c.pk for c in customers]},
            "variables": [{"source": "field", "value": "first_name", "fallback": "Kak"},
                          {"source": "text", "value": "10%"}]}  # fmt: skip
    created = client.post("/api/broadcasts/", body, **JSON).json()
    first_run = dt.datetime(2026, 11, 23, 9, 0, tzinfo=JAKARTA)  # a Monday, 09:00 in Jakarta
    activated = client.post(f"/api/broadcasts/{created['id']}/send/", {"at": first_run.isoformat()}, **JSON).json()
    assert activated["status"] == "active"

    assert recurring.run_due(now=first_run + dt.timedelta(minutes=1)) == 1
    assert recurring.run_due(now=first_run + dt.timedelta(minutes=2)) == 0  # the sweeper again: nothing new

    parent = client.get(f"/api/broadcasts/{created['id']}/", **JSON).json()
    assert [o["recipients"] for o in parent["occurrences"]] == [3]
    assert parent["occurrences"][0]["status"] == "sending"
    next_run = dt.datetime.fromisoformat(parent["next_run_at"]).astimezone(JAKARTA)
    assert next_run == dt.datetime(2026, 11, 30, 9, 0, tzinfo=JAKARTA)
    occurrence = Broadcast.objects.get(pk=parent["occurrences"][0]["id"])
    assert occurrence.parent_id == created["id"] and recipients_of(occurrence) == {c.pk for c in customers}
    listed = [row["id"] for row in client.get("/api/broadcasts/", **JSON).json()["results"]]
    assert created["id"] in listed and occurrence.pk not in listed  # occurrences live on their parent's page

    assert recurring.run_due(now=next_run + dt.timedelta(seconds=1)) == 1
    assert Broadcast.objects.filter(parent_id=created["id"]).count() == 2


def test_pausing_a_repeating_broadcast_makes_it_inactive_and_nothing_runs_until_it_resumes(shop):
    now = timezone.now()
    parent = activate(now, repeat="daily", audience={"contacts": [ContactFactory().pk]})
    client = shop.client(shop.owner)

    assert client.post(f"/api/broadcasts/{parent.pk}/pause/", **JSON).json()["status"] == "inactive"
    assert recurring.run_due(now=now) == 0
    assert client.post(f"/api/broadcasts/{parent.pk}/resume/", **JSON).json()["status"] == "active"


def test_the_birthday_trigger_picks_todays_birthdays_in_the_shops_zone_once_a_year_without_opted_out(shop):
    now = dt.datetime(2026, 11, 25, 20, 0, tzinfo=dt.UTC)  # already 26 November, 03:00, in Jakarta
    birthday = ContactFactory(birthday=dt.date(1994, 11, 26))
    utc_birthday = ContactFactory(birthday=dt.date(1990, 11, 25))
    opted_out = ContactFactory(birthday=dt.date(1999, 11, 26), marketing_opt_out=True)
    parent = activate(now, trigger="birthday")

    assert recurring.run_due(now=now) == 1
    occurrence = parent.occurrences.get()
    assert recipients_of(occurrence) == {birthday.pk}
    assert utc_birthday.pk not in recipients_of(occurrence) and opted_out.pk not in recipients_of(occurrence)

    Broadcast.objects.filter(pk=parent.pk).update(next_run_at=now)  # checked again the same day
    assert recurring.run_due(now=now + dt.timedelta(hours=5)) == 0
    assert parent.occurrences.count() == 1
    parent.refresh_from_db()
    assert parent.status_reason == ""  # nobody due is an ordinary day, not a problem to show


def test_days_after_order_picks_exactly_the_customers_whose_latest_order_was_n_local_days_ago(shop):
    now = dt.datetime(2026, 11, 25, 10, 0, tzinfo=JAKARTA)
    day = dt.timedelta(days=1)
    exactly = OrderFactory(created_at=now - 3 * day - dt.timedelta(hours=9)).contact  # 22 Nov, 01:00
    OrderFactory(created_at=now - 2 * day)
    OrderFactory(created_at=now - 4 * day)
    ordered_again = OrderFactory(created_at=now - 3 * day).contact
    OrderFactory(contact=ordered_again, created_at=now - day)
    OrderFactory(created_at=now - 3 * day, status=Order.Status.CANCELLED)
    parent = activate(now, trigger="days_after_order", trigger_days=3)

    assert recurring.run_due(now=now) == 1
    assert recipients_of(parent.occurrences.get()) == {exactly.pk}
    Broadcast.objects.filter(pk=parent.pk).update(next_run_at=now)
    assert recurring.run_due(now=now + dt.timedelta(hours=1)) == 0  # once per order


def test_cart_left_picks_a_cart_older_than_the_delay_without_an_order_since(shop):
    now = timezone.now()
    left = ContactFactory()
    cart_message(left, now - dt.timedelta(hours=3))
    bought = ContactFactory()
    cart_message(bought, now - dt.timedelta(hours=3))
    OrderFactory(contact=bought, created_at=now - dt.timedelta(hours=1))
    too_fresh = ContactFactory()
    cart_message(too_fresh, now - dt.timedelta(minutes=30))
    parent = activate(now, trigger="cart_left", trigger_hours=2)

    assert recurring.run_due(now=now) == 1
    assert recipients_of(parent.occurrences.get()) == {left.pk}
    parent.refresh_from_db()
    assert parent.next_run_at > now  # checked again in a few minutes
    assert recurring.run_due(now=parent.next_run_at) == 0  # once per cart
    cart_message(left, now + dt.timedelta(minutes=1))  # a new cart is a new event
    assert recurring.run_due(now=now + dt.timedelta(hours=3)) == 1


def test_an_occurrence_the_balance_cannot_cover_is_refused_and_the_parent_shows_why(shop):
    now = timezone.now()
    parent = activate(now, repeat="weekly", audience={"contacts": [c.pk for c in ContactFactory.create_batch(2)]})
    account = wallet.account_for(shop.shop.pk)
    BillingAccount.objects.filter(pk=account.pk).update(balance=account.reserved)

    with translation.override("en"):
        assert recurring.run_due(now=now) == 0

    assert not parent.occurrences.exists()
    shown = shop.client(shop.owner).get(f"/api/broadcasts/{parent.pk}/", **JSON).json()
    assert shown["status"] == "active" and "Top up" in shown["status_reason"]
    assert dt.datetime.fromisoformat(shown["next_run_at"]) > now


def test_a_schedule_that_cannot_run_is_refused(shop):
    client = shop.client(shop.owner)
    body = {"name": "Setelah belanja", "template_id": TemplateFactory().pk, "trigger": "days_after_order",
            "variables": [{"source": "text", "value": "Kak"}, {"source": "text", "value": "10%"}]}  # fmt: skip

    refused = client.post("/api/broadcasts/", body, **JSON)
    assert refused.status_code == 400 and "trigger_days" in refused.json()
    both = client.post("/api/broadcasts/", {**body, "trigger_days": 3, "repeat": "weekly"}, **JSON)
    assert both.status_code == 400
    created = client.post("/api/broadcasts/", {**body, "trigger_days": 3}, **JSON).json()
    assert created["trigger"] == "days_after_order" and created["status"] == "draft"
    client.post(f"/api/broadcasts/{created['id']}/send/", {}, **JSON)
    once = client.patch(f"/api/broadcasts/{created['id']}/", {"trigger": ""}, **JSON)
    assert once.status_code == 400 and "repeat" in once.json()  # an active trigger cannot become a one-off
    assert client.patch(f"/api/broadcasts/{created['id']}/", {"trigger_days": 5}, **JSON).json()["trigger_days"] == 5


def test_the_sweeper_makes_one_occurrence_however_often_it_runs(shop):
    parent = activate(timezone.now(), repeat="daily", audience={"contacts": [ContactFactory().pk]})
    first_run = parent.next_run_at

    for _ in range(2):
        mark_scheduled(shop.shop.schema_name, first_run)  # what activating queues once it commits
        sweep_broadcasts()

    assert parent.occurrences.count() == 1
    parent.refresh_from_db()
    assert parent.next_run_at == first_run + dt.timedelta(days=1)
