"""The fake's API contract as the SDK sees it: keys, errors, idempotency, lists and billing meters."""

import time

import pytest
import stripe

from tests.support.stripe import TEST_KEY, fake_call

from .helpers import plan_price


def test_a_key_that_is_not_a_test_secret_key_is_refused(fake):
    for key in ("sk_live_51Habcdefgh", "pk_test_123456789", "rk_test_12345678"):
        with pytest.raises(stripe.AuthenticationError) as refused:
            stripe.StripeClient(key, base_addresses={"api": fake}).v1.customers.list()
        assert refused.value.http_status == 401
        assert refused.value.user_message.startswith("Invalid API Key provided: ")
        assert key not in refused.value.user_message  # redacted, as Stripe does


def test_the_module_level_style_works_too(fake):
    """`stripe.api_base` + `stripe.api_key` (the global style) reach the fake as well as StripeClient does."""
    saved = stripe.api_key, stripe.api_base
    stripe.api_key, stripe.api_base = TEST_KEY, fake
    try:
        customer = stripe.Customer.create(email="global@shop.test")
        assert stripe.Customer.retrieve(customer.id).email == "global@shop.test"
    finally:
        stripe.api_key, stripe.api_base = saved


def test_invalid_params_raise_invalid_request_error_naming_the_param(client):
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.prices.create(params={"unit_amount": 100, "product_data": {"name": "x"}})
    assert (missing.value.param, missing.value.code) == ("currency", "parameter_missing")
    assert missing.value.http_status == 400

    price = plan_price(client)
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.checkout.sessions.create(
            params={"mode": "subscription", "line_items": [{"price": price.id, "quantity": 1, "colour": "red"}]}
        )
    assert (unknown.value.param, unknown.value.code) == ("line_items[0][colour]", "parameter_unknown")

    with pytest.raises(stripe.InvalidRequestError) as no_quantity:
        client.v1.checkout.sessions.create(params={"mode": "subscription", "line_items": [{"price": price.id}]})
    assert no_quantity.value.param == "line_items[0][quantity]"

    with pytest.raises(stripe.InvalidRequestError) as bad_mode:
        client.v1.checkout.sessions.create(params={"mode": "rent", "line_items": [{"price": price.id, "quantity": 1}]})
    assert bad_mode.value.param == "mode"

    one = [{"price": price.id, "quantity": 1}]
    with pytest.raises(stripe.InvalidRequestError) as recurring_in_payment:
        client.v1.checkout.sessions.create(params={"mode": "payment", "line_items": one})
    assert recurring_in_payment.value.param == "line_items[0][price]"

    with pytest.raises(stripe.InvalidRequestError) as no_customer:
        client.v1.checkout.sessions.create(params={"mode": "subscription", "customer": "cus_nobody", "line_items": one})
    assert (no_customer.value.param, no_customer.value.code) == ("customer", "resource_missing")

    with pytest.raises(stripe.InvalidRequestError) as not_found:
        client.v1.subscriptions.retrieve("sub_nothing")
    assert (not_found.value.http_status, not_found.value.code, not_found.value.param) == (404, "resource_missing", "id")
    assert not_found.value.user_message == "No such subscription: 'sub_nothing'"

    with pytest.raises(stripe.InvalidRequestError) as integer:
        client.v1.payment_intents.create(params={"amount": "lots", "currency": "usd"})
    assert (integer.value.param, integer.value.code) == ("amount", "parameter_invalid_integer")


def test_an_idempotency_key_replays_the_first_answer(client, fake):
    first = client.v1.customers.create(
        params={"email": "owner@sari.test", "metadata": {"shop_id": "7"}}, options={"idempotency_key": "cust-7"}
    )
    again = client.v1.customers.create(
        params={"email": "owner@sari.test", "metadata": {"shop_id": "7"}}, options={"idempotency_key": "cust-7"}
    )
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert [c.id for c in client.v1.customers.list().data] == [first.id]

    with pytest.raises(stripe.IdempotencyError) as reused:
        client.v1.customers.create(params={"email": "other@shop.test"}, options={"idempotency_key": "cust-7"})
    assert "same parameters" in reused.value.user_message

    # a request refused by validation is not remembered: the corrected retry with the same key runs
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.products.create(params={"description": "no name"}, options={"idempotency_key": "prod-1"})
    product = client.v1.products.create(params={"name": "Pro"}, options={"idempotency_key": "prod-1"})
    assert product.name == "Pro"


def test_lists_are_newest_first_and_paginate(client):
    created = [client.v1.customers.create(params={"email": f"c{i}@shop.test"}).id for i in range(5)]
    page = client.v1.customers.list(params={"limit": 2})
    assert page.object == "list" and page.url == "/v1/customers"
    assert [c.id for c in page.data] == created[::-1][:2] and page.has_more is True
    rest = client.v1.customers.list(params={"limit": 10, "starting_after": page.data[-1].id})
    assert [c.id for c in rest.data] == created[::-1][2:] and rest.has_more is False
    assert [c.id for c in page.auto_paging_iter()] == created[::-1]
    with pytest.raises(stripe.InvalidRequestError) as limit:
        client.v1.customers.list(params={"limit": 101})
    assert limit.value.param == "limit"


def test_meter_events_are_deduplicated_by_identifier_and_summed_per_customer(client, fake):
    meter = client.v1.billing.meters.create(
        params={
            "display_name": "WhatsApp usage",
            "event_name": "whatsapp_usage",
            "default_aggregation": {"formula": "sum"},
            "customer_mapping": {"event_payload_key": "stripe_customer_id", "type": "by_id"},
            "value_settings": {"event_payload_key": "value"},
        }
    )
    assert meter.id.startswith("mtr_") and meter.object == "billing.meter" and meter.status == "active"
    assert [m.event_name for m in client.v1.billing.meters.list().data] == ["whatsapp_usage"]
    alice = client.v1.customers.create(params={"email": "a@shop.test"}).id
    bob = client.v1.customers.create(params={"email": "b@shop.test"}).id
    hour = int(time.time()) // 3600 * 3600 - 3 * 3600

    def report(customer: str, value: int, identifier: str, at: int):
        return client.v1.billing.meter_events.create(
            params={
                "event_name": "whatsapp_usage",
                "payload": {"stripe_customer_id": customer, "value": str(value)},
                "identifier": identifier,
                "timestamp": at,
            }
        )

    event = report(alice, 1500, "warung-7-20261124-1", hour + 10)
    assert (event.object, event.identifier) == ("billing.meter_event", "warung-7-20261124-1")
    assert event.payload.value == "1500"
    report(alice, 2500, "warung-7-20261124-2", hour + 20)
    report(bob, 999, "warung-8-20261124-1", hour + 30)
    report(alice, 7000, "warung-7-earlier", hour - 3600)  # before the window asked for below

    with pytest.raises(stripe.InvalidRequestError) as duplicate:
        report(alice, 1500, "warung-7-20261124-1", hour + 10)
    assert duplicate.value.http_status == 400
    assert duplicate.value.user_message == "An event already exists with identifier warung-7-20261124-1."
    assert duplicate.value.headers["Stripe-Should-Retry"] == "false"
    params = {"event_name": "whatsapp_usage", "payload": {"stripe_customer_id": bob, "value": "1"}, "identifier": "k"}
    first = client.v1.billing.meter_events.create(params=params, options={"idempotency_key": "retry-1"})
    replayed = client.v1.billing.meter_events.create(params=params, options={"idempotency_key": "retry-1"})
    assert replayed.created == first.created  # the SDK's own retry of one request is answered, not refused
    assert len(fake_call(fake, "GET", "/_fake/meter_events")) == 5

    summaries = client.v1.billing.meters.event_summaries.list(
        meter.id, params={"customer": alice, "start_time": hour, "end_time": hour + 3600}
    )
    [summary] = summaries.data
    assert summary.object == "billing.meter_event_summary"
    assert (summary.aggregated_value, summary.start_time, summary.end_time) == (4000, hour, hour + 3600)
    assert summary.meter == meter.id
    hourly = client.v1.billing.meters.event_summaries.list(
        meter.id,
        params={"customer": alice, "start_time": hour - 3600, "end_time": hour + 3600, "value_grouping_window": "hour"},
    )
    assert [s.aggregated_value for s in hourly.data] == [7000, 4000]

    with pytest.raises(stripe.InvalidRequestError) as unaligned:
        client.v1.billing.meters.event_summaries.list(
            meter.id, params={"customer": alice, "start_time": hour + 1, "end_time": hour + 3600}
        )
    assert unaligned.value.param == "start_time"
    with pytest.raises(stripe.InvalidRequestError) as no_meter:
        client.v1.billing.meter_events.create(
            params={"event_name": "nothing_here", "payload": {"stripe_customer_id": alice, "value": "1"}}
        )
    assert no_meter.value.param == "event_name"
    with pytest.raises(stripe.InvalidRequestError) as too_old:
        report(alice, 1, "warung-7-old", int(time.time()) - 40 * 86400)
    assert too_old.value.param == "timestamp"
