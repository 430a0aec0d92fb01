"""Checkout through the fake as the billing code drives it: the official SDK, the hosted page, signed webhooks."""

import json
import re

import pytest
import stripe

from tests.support.stripe import fake_call

from .helpers import get_page, plan_price, submit


def test_subscription_checkout_end_to_end_with_verified_webhooks(client, fake, receiver):
    customer = client.v1.customers.create(
        params={"name": "Butik Sari", "email": "owner@sari.test", "metadata": {"shop_id": "7"}},
        options={"idempotency_key": "warung-customer-7"},
    )
    price = plan_price(client)
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "client_reference_id": "7",
            "line_items": [{"price": price.id, "quantity": 1}],
            "success_url": "http://butik.localhost/settings/billing?checkout=done&session={CHECKOUT_SESSION_ID}",
            "cancel_url": "http://butik.localhost/settings/billing?checkout=cancelled",
            "metadata": {"shop_id": "7", "kind": "subscription"},
            "subscription_data": {"metadata": {"shop_id": "7", "plan": "pro"}},
        }
    )
    assert session.id.startswith("cs_test_") and session.object == "checkout.session"
    assert (session.status, session.payment_status, session.livemode) == ("open", "unpaid", False)
    assert session.url == f"{fake}/checkout/{session.id}"

    page = get_page(session.url)
    assert "Rp150.000 per month" in page  # IDR is two-decimal at Stripe: 15,000,000 hundredths
    assert 'value="4242 4242 4242 4242"' in page and 'data-testid="stripe-pay"' in page
    assert 'href="http://butik.localhost/settings/billing?checkout=cancelled"' in page
    assert 'value="owner@sari.test"' in page

    status, headers, _ = submit(f"{fake}/checkout/{session.id}/pay", {"card_number": "4242 4242 4242 4242"})
    assert status == 303
    assert headers["Location"] == f"http://butik.localhost/settings/billing?checkout=done&session={session.id}"

    # Stripe's order: created (incomplete), the invoice's payment, invoice.paid, updated (active), completed
    events = [item.event() for item in receiver.wait_for(5)]
    assert [e.type for e in events] == [
        "customer.subscription.created",
        "payment_intent.succeeded",
        "invoice.paid",
        "customer.subscription.updated",
        "checkout.session.completed",
    ]
    assert all(e.id.startswith("evt_") and e.object == "event" and e.livemode is False for e in events)
    assert events[0].data.object.status == "incomplete"
    assert events[3].data.object.status == "active" and events[3].data.previous_attributes.to_dict() == {
        "status": "incomplete"
    }
    completed = events[4].data.object
    assert (completed.status, completed.payment_status, completed.client_reference_id) == ("complete", "paid", "7")
    assert completed.metadata.to_dict() == {"shop_id": "7", "kind": "subscription"}

    done = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["subscription", "line_items"]})
    subscription = done.subscription
    assert subscription.id.startswith("sub_") and subscription.status == "active"
    assert subscription.customer == customer.id and subscription.metadata.to_dict() == {"shop_id": "7", "plan": "pro"}
    [item] = subscription["items"].data
    assert item.price.id == price.id and item.quantity == 1
    assert item.current_period_end > item.current_period_start
    assert done.line_items.data[0].amount_total == 15_000_000

    [invoice] = client.v1.invoices.list(params={"customer": customer.id}).data
    assert invoice.id == subscription.latest_invoice
    assert (invoice.status, invoice.amount_due, invoice.amount_paid, invoice.currency) == (
        "paid",
        15_000_000,
        15_000_000,
        "idr",
    )
    assert invoice.parent.subscription_details.subscription == subscription.id
    assert (invoice.period_start, invoice.period_end) == (item.current_period_start, item.current_period_end)
    assert "Rp150.000" in get_page(invoice.hosted_invoice_url)

    # a forged or mis-keyed delivery is refused by the SDK our webhook view uses
    with pytest.raises(stripe.SignatureVerificationError):
        receiver.items[0].event(secret="whsec_someone_else")
    deliveries = fake_call(fake, "GET", "/_fake/deliveries")
    assert [(d["attempt"], d["status"]) for d in deliveries] == [(1, 200)] * 5


def test_top_up_saves_the_card_then_charges_it_off_session(client, fake, receiver):
    customer = client.v1.customers.create(params={"email": "owner@sari.test", "metadata": {"shop_id": "7"}})
    metadata = {"shop_id": "7", "kind": "top_up", "amount": "50000"}
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "customer": customer.id,
            "line_items": [
                {
                    "price_data": {
                        "currency": "idr",
                        "unit_amount": 5_000_000,
                        "product_data": {"name": "Saldo WhatsApp"},
                    },
                    "quantity": 1,
                }
            ],
            "payment_intent_data": {"setup_future_usage": "off_session", "metadata": metadata},
            "success_url": "http://butik.localhost/settings/billing?topup=done&session={CHECKOUT_SESSION_ID}",
            "cancel_url": "http://butik.localhost/settings/billing?topup=cancelled",
            "metadata": metadata,
        }
    )
    assert session.payment_intent is None  # created when the customer pays, as Stripe does now
    assert "Rp50.000" in get_page(session.url)

    done = fake_call(fake, "POST", f"/_fake/checkout_sessions/{session.id}/complete", {})
    assert (done["status"], done["payment_status"]) == ("complete", "paid")
    assert [e.type for e in (i.event() for i in receiver.wait_for(2))] == [
        "payment_intent.succeeded",
        "checkout.session.completed",
    ]

    session = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent"]})
    intent = session.payment_intent
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 5_000_000, "idr")
    assert intent.metadata.to_dict() == metadata and intent.setup_future_usage == "off_session"
    [card] = client.v1.payment_methods.list(params={"customer": customer.id, "type": "card"}).data
    assert card.id == intent.payment_method and card.card.last4 == "4242" and card.customer == customer.id
    assert [m.id for m in client.v1.customers.payment_methods.list(customer.id).data] == [card.id]

    client.v1.customers.update(customer.id, params={"invoice_settings": {"default_payment_method": card.id}})
    assert client.v1.customers.retrieve(customer.id).invoice_settings.default_payment_method == card.id

    auto = client.v1.payment_intents.create(
        params={
            "amount": 10_000_000,
            "currency": "idr",
            "customer": customer.id,
            "payment_method": card.id,
            "off_session": True,
            "confirm": True,
            "metadata": {**metadata, "amount": "100000", "auto": "1"},
        }
    )
    assert auto.status == "succeeded" and auto.amount_received == 10_000_000
    assert client.v1.payment_intents.retrieve(auto.id).status == "succeeded"
    event = receiver.wait_for(3)[2].event()
    assert event.type == "payment_intent.succeeded" and event.data.object.id == auto.id
    assert event.data.object.metadata["auto"] == "1"


def test_a_declined_card_keeps_the_checkout_open_and_fails_off_session_charges(client, fake, receiver):
    customer = client.v1.customers.create(params={"email": "owner@sari.test"})
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "customer": customer.id,
            "line_items": [{"price_data": {"currency": "usd", "unit_amount": 500,
                                           "product_data": {"name": "Balance"}}, "quantity": 1}],
            "payment_intent_data": {"setup_future_usage": "off_session", "metadata": {"kind": "top_up"}},
            "success_url": "http://butik.localhost/ok",
        }
    )  # fmt: skip
    status, _, page = submit(f"{fake}/checkout/{session.id}/pay", {"card_number": "4000 0000 0000 0002"})
    assert status == 200 and "Your card was declined." in page and "$5.00" in page
    [failed] = [i.event() for i in receiver.wait_for(1)]
    assert failed.type == "payment_intent.payment_failed"
    assert failed.data.object.last_payment_error.decline_code == "generic_decline"
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert client.v1.payment_methods.list(params={"customer": customer.id}).data == []

    # the same session then succeeds with a good card, on the same PaymentIntent
    status, headers, _ = submit(f"{fake}/checkout/{session.id}/pay", {"card_number": "4242424242424242"})
    assert status == 303 and headers["Location"] == "http://butik.localhost/ok"
    assert client.v1.payment_intents.retrieve(failed.data.object.id).status == "succeeded"
    [card] = client.v1.payment_methods.list(params={"customer": customer.id}).data

    fake_call(fake, "POST", "/_fake/config", {"decline_all_cards": True})
    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.create(
            params={"amount": 1000, "currency": "usd", "customer": customer.id, "payment_method": card.id,
                    "off_session": True, "confirm": True}
        )  # fmt: skip
    assert declined.value.http_status == 402 and declined.value.code == "card_declined"
    assert declined.value.error.decline_code == "generic_decline"
    assert declined.value.user_message == "Your card was declined."
    assert declined.value.error.payment_intent["status"] == "requires_payment_method"
    assert receiver.types(4)[-1] == "payment_intent.payment_failed"

    fake_call(fake, "POST", "/_fake/config", {"decline_all_cards": False})
    with pytest.raises(stripe.CardError) as funds:
        client.v1.payment_intents.create(
            params={"amount": 1000, "currency": "usd", "payment_method": "pm_card_chargeDeclinedInsufficientFunds",
                    "confirm": True}
        )  # fmt: skip
    assert funds.value.error.decline_code == "insufficient_funds"


def test_checkout_without_the_browser_declines_with_the_declining_card(client, fake):
    price = plan_price(client, 2900, "usd")
    session = client.v1.checkout.sessions.create(
        params={"mode": "subscription", "line_items": [{"price": price.id, "quantity": 1}],
                "customer_email": "new@shop.test", "success_url": "http://x.test/ok"}
    )  # fmt: skip
    with pytest.raises(Exception) as refused:
        fake_call(fake, "POST", f"/_fake/checkout_sessions/{session.id}/complete", {"card": "4000000000000002"})
    assert refused.value.code == 402
    assert json.loads(refused.value.read())["decline_code"] == "generic_decline"
    done = fake_call(fake, "POST", f"/_fake/checkout_sessions/{session.id}/complete", {})
    customer = client.v1.customers.retrieve(done["customer"])
    assert customer.email == "new@shop.test"  # Checkout made the customer from customer_email
    assert client.v1.subscriptions.retrieve(done["subscription"]).default_payment_method.startswith("pm_")


def test_trial_subscription_is_trialing_with_a_zero_paid_invoice(client, fake, receiver):
    customer = client.v1.customers.create(params={"email": "owner@sari.test"})
    price = plan_price(client)
    session = client.v1.checkout.sessions.create(
        params={"mode": "subscription", "customer": customer.id, "line_items": [{"price": price.id, "quantity": 1}],
                "subscription_data": {"trial_period_days": 14}, "success_url": "http://x.test/ok"}
    )  # fmt: skip
    assert "14 days free" in get_page(session.url)
    done = fake_call(fake, "POST", f"/_fake/checkout_sessions/{session.id}/complete", {})
    assert done["payment_status"] == "no_payment_required"
    subscription = client.v1.subscriptions.retrieve(done["subscription"])
    assert subscription.status == "trialing"
    assert subscription.trial_end - subscription.trial_start == 14 * 86400
    [invoice] = client.v1.invoices.list(params={"customer": customer.id}).data
    assert (invoice.status, invoice.amount_paid) == ("paid", 0)
    assert receiver.types(3) == ["customer.subscription.created", "invoice.paid", "checkout.session.completed"]


def test_billing_portal_lists_the_subscription_and_cancels_at_period_end(client, fake, receiver):
    customer = client.v1.customers.create(params={"name": "Butik Sari", "email": "owner@sari.test"})
    price = plan_price(client)
    session = client.v1.checkout.sessions.create(
        params={"mode": "subscription", "customer": customer.id, "line_items": [{"price": price.id, "quantity": 1}],
                "success_url": "http://x.test/ok"}
    )  # fmt: skip
    subscription_id = fake_call(fake, "POST", f"/_fake/checkout_sessions/{session.id}/complete", {})["subscription"]
    receiver.wait_for(5)

    portal = client.v1.billing_portal.sessions.create(
        params={"customer": customer.id, "return_url": "http://butik.localhost/settings/billing"}
    )
    assert portal.object == "billing_portal.session" and portal.url.startswith(fake)
    page = get_page(portal.url)
    assert "Pro" in page and "Rp150.000 per month" in page and "Renews" in page
    assert 'href="http://butik.localhost/settings/billing"' in page and "Visa •••• 4242" in page
    invoice = client.v1.invoices.list(params={"customer": customer.id}).data[0]
    assert invoice.number in page

    action = re.search(r'action="([^"]+/cancel)"', page).group(1)
    status, headers, _ = submit(fake + action, {})
    assert status == 303 and headers["Location"] == f"/p/session/{portal.id}"
    assert "Cancels" in get_page(portal.url)
    updated = receiver.wait_for(6)[5].event()
    assert updated.type == "customer.subscription.updated"
    assert updated.data.object.cancel_at_period_end is True
    assert updated.data.previous_attributes["cancel_at_period_end"] is False
    assert client.v1.subscriptions.retrieve(subscription_id).status == "active"
