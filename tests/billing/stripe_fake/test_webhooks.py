"""Subscription life after checkout and the delivery faults our webhook handler must survive."""

import json

import pytest
import stripe

from tests.support.stripe import fake_call

from .helpers import plan_price


@pytest.fixture
def subscribed(client, fake, receiver):
    """A customer with an active monthly subscription, its five checkout events already received."""
    customer = client.v1.customers.create(params={"email": "owner@sari.test", "metadata": {"shop_id": "7"}})
    price = plan_price(client)
    session = client.v1.checkout.sessions.create(
        params={"mode": "subscription", "customer": customer.id, "line_items": [{"price": price.id, "quantity": 1}],
                "subscription_data": {"metadata": {"shop_id": "7"}}, "success_url": "http://x.test/ok"}
    )  # fmt: skip
    done = fake_call(fake, "POST", f"/_fake/checkout_sessions/{session.id}/complete", {})
    receiver.wait_for(5)
    receiver.clear()
    return client.v1.subscriptions.retrieve(done["subscription"])


def events_after(receiver, count: int) -> list[stripe.Event]:
    return [item.event() for item in receiver.wait_for(count)]


def test_a_failed_renewal_makes_it_past_due_and_paying_makes_it_active(client, fake, receiver, subscribed):
    period_end = subscribed["items"].data[0].current_period_end
    fake_call(fake, "POST", f"/_fake/subscriptions/{subscribed.id}/fail_payment")
    events = events_after(receiver, 3)
    assert [e.type for e in events] == [
        "payment_intent.payment_failed",
        "invoice.payment_failed",
        "customer.subscription.updated",
    ]
    failed_invoice = events[1].data.object
    assert (failed_invoice.status, failed_invoice.amount_paid, failed_invoice.attempt_count) == ("open", 0, 1)
    assert failed_invoice.billing_reason == "subscription_cycle" and failed_invoice.period_start == period_end
    assert events[2].data.object.status == "past_due" and events[2].data.previous_attributes.status == "active"
    assert client.v1.subscriptions.retrieve(subscribed.id).status == "past_due"

    fake_call(fake, "POST", f"/_fake/subscriptions/{subscribed.id}/pay")
    events = events_after(receiver, 6)[3:]
    assert [e.type for e in events] == ["payment_intent.succeeded", "invoice.paid", "customer.subscription.updated"]
    assert events[1].data.object.id == failed_invoice.id
    assert events[2].data.previous_attributes.to_dict() == {"status": "past_due"}
    assert client.v1.subscriptions.retrieve(subscribed.id).status == "active"
    invoices = client.v1.invoices.list(params={"customer": subscribed.customer}).data
    assert [i.status for i in invoices] == ["paid", "paid"]


def test_renewal_adds_a_paid_invoice_per_period_and_cancellation_ends_it(client, fake, receiver, subscribed):
    first_item = subscribed["items"].data[0]
    renewed = fake_call(fake, "POST", f"/_fake/subscriptions/{subscribed.id}/renew")
    assert renewed["items"]["data"][0]["current_period_start"] == first_item.current_period_end
    assert [e.type for e in events_after(receiver, 3)] == [
        "customer.subscription.updated",
        "payment_intent.succeeded",
        "invoice.paid",
    ]
    invoices = client.v1.invoices.list(params={"subscription": subscribed.id}).data
    assert [(i.billing_reason, i.status) for i in invoices] == [
        ("subscription_cycle", "paid"),
        ("subscription_create", "paid"),
    ]
    assert invoices[0].period_start == invoices[1].period_end

    client.v1.subscriptions.update(subscribed.id, params={"cancel_at_period_end": True})
    updated = events_after(receiver, 4)[3]
    assert updated.type == "customer.subscription.updated" and updated.data.object.cancel_at_period_end is True
    fake_call(fake, "POST", f"/_fake/subscriptions/{subscribed.id}/renew")
    deleted = events_after(receiver, 5)[4]
    assert deleted.type == "customer.subscription.deleted" and deleted.data.object.status == "canceled"
    assert client.v1.subscriptions.list(params={"customer": subscribed.customer}).data == []
    assert [s.id for s in client.v1.subscriptions.list(params={"customer": subscribed.customer, "status": "all"})] == [
        subscribed.id
    ]


def test_changing_plan_replaces_the_item_price_and_reports_the_old_items(client, receiver, subscribed):
    bigger = plan_price(client, 30_000_000, name="Business")
    item = subscribed["items"].data[0]
    changed = client.v1.subscriptions.update(
        subscribed.id,
        params={"items": [{"id": item.id, "price": bigger.id}], "metadata": {"plan": "business"},
                "proration_behavior": "create_prorations"},
    )  # fmt: skip
    assert [(i.id, i.price.id) for i in changed["items"].data] == [(item.id, bigger.id)]
    assert changed.metadata.to_dict() == {"shop_id": "7", "plan": "business"}
    [event] = events_after(receiver, 1)
    assert event.type == "customer.subscription.updated"
    assert event.data.previous_attributes["items"]["data"][0]["price"]["id"] == item.price.id
    assert event.data.previous_attributes.metadata.to_dict() == {"shop_id": "7"}

    client.v1.subscriptions.cancel(subscribed.id)
    deleted = events_after(receiver, 2)[1]
    assert deleted.type == "customer.subscription.deleted"
    assert client.v1.subscriptions.retrieve(subscribed.id).status == "canceled"


def test_shuffle_reverses_and_duplicates_repeat_each_event(client, fake, receiver):
    fake_call(fake, "POST", "/_fake/config", {"shuffle": True, "duplicate_deliveries": True})
    customer = client.v1.customers.create(params={"email": "owner@sari.test"})
    price = plan_price(client)
    session = client.v1.checkout.sessions.create(
        params={"mode": "subscription", "customer": customer.id, "line_items": [{"price": price.id, "quantity": 1}]}
    )
    fake_call(fake, "POST", f"/_fake/checkout_sessions/{session.id}/complete", {})
    events = events_after(receiver, 10)
    order = [
        "checkout.session.completed",
        "customer.subscription.updated",
        "invoice.paid",
        "payment_intent.succeeded",
        "customer.subscription.created",
    ]
    assert [e.type for e in events] == [t for t in order for _ in range(2)]  # updated arrives before created
    assert [e.id for e in events[::2]] == [e.id for e in events[1::2]]  # a duplicate is the same event id
    assert len(fake_call(fake, "GET", "/_fake/events")) == 5


def test_failed_deliveries_are_retried_with_backoff_and_recorded(client, fake, receiver):
    receiver.fail_first = 2
    customer = client.v1.customers.create(params={"email": "owner@sari.test"})
    client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "usd", "customer": customer.id, "payment_method": "pm_card_visa",
                "confirm": True}
    )  # fmt: skip
    [event] = events_after(receiver, 1)
    assert event.type == "payment_intent.succeeded"
    attempts = [(d["attempt"], d["status"]) for d in fake_call(fake, "GET", "/_fake/deliveries")]
    assert attempts == [(1, 500), (2, 500), (3, 200)]

    fake_call(fake, "POST", f"/_fake/events/{event.id}/resend")
    again = events_after(receiver, 2)[1]
    assert again.id == event.id
    signatures = [item.headers["Stripe-Signature"] for item in receiver.items]
    assert all(s.startswith("t=") and ",v1=" in s for s in signatures)

    listed = fake_call(fake, "GET", "/_fake/events")
    assert [(e["id"], e["type"], e["object"]) for e in listed] == [(event.id, "payment_intent.succeeded", "event")]
    assert listed[0]["data"]["object"]["id"] == event.data.object.id


def test_control_plane_refuses_unknown_settings(fake):
    with pytest.raises(Exception) as refused:
        fake_call(fake, "POST", "/_fake/config", {"decline_everything": True})
    assert refused.value.code == 400 and "decline_everything" in json.loads(refused.value.read())["error"]
