"""Stripe through the official SDK against the local stand-in, webhooks into the real web server.

Subscriptions and top-ups follow Stripe's real flow: our code opens a Checkout Session, the customer pays
on the stand-in, and only the signed webhook changes our database.
"""

import json
import time
from decimal import Decimal

import pytest
import stripe
from django.test import Client
from django.utils import translation
from django_tenants.utils import tenant_context

from billing import metering, stripe_gateway, tasks, wallet
from billing.models import BillingAccount, Plan, StripeEvent
from tenants.models import Shop
from tests.factories import create_shop
from tests.support.servers import celery_worker, eventually, web_server
from tests.support.stripe import TEST_KEY, fake_call, stripe_fake

SECRET = "whsec_tests_billing"


@pytest.fixture(scope="module")
def stack(committed):
    """The stand-in and a gunicorn that receives its webhooks, both using the same Stripe settings."""
    with (
        stripe_fake(webhook_secret=SECRET, webhook_retry_base_ms=50) as stripe_base,
        web_server(STRIPE_API_BASE=stripe_base, STRIPE_SECRET_KEY=TEST_KEY, STRIPE_WEBHOOK_SECRET=SECRET) as web,
    ):
        fake_call(stripe_base, "POST", "/_fake/config", {"webhook_url": f"{web}/webhooks/stripe/"})
        yield stripe_base, web


@pytest.fixture
def stripe_here(stack, settings):
    """This process's SDK pointed at the stand-in too (to open sessions as the API views do)."""
    settings.STRIPE_API_BASE, settings.STRIPE_SECRET_KEY = stack[0], TEST_KEY
    stripe_gateway.client.cache_clear()
    yield stack[0]
    fake_call(stack[0], "POST", "/_fake/config", {"duplicate_deliveries": False, "shuffle": False})
    stripe_gateway.client.cache_clear()


def session_id(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def test_a_paid_top_up_credits_the_balance_once_even_when_stripe_repeats_its_events(stripe_here):
    shop, _owner = create_shop()
    fake_call(stripe_here, "POST", "/_fake/config", {"duplicate_deliveries": True})
    url = stripe_gateway.top_up_checkout(shop, 100_000, "http://example.test/settings/billing", save_card=True)
    assert BillingAccount.objects.get(shop=shop).balance == 0  # nothing until Stripe says it is paid

    fake_call(stripe_here, "POST", f"/_fake/checkout_sessions/{session_id(url)}/complete", {})

    account = eventually(lambda: BillingAccount.objects.filter(shop=shop, balance__gt=0).first())
    assert account, fake_call(stripe_here, "GET", "/_fake/deliveries")  # what our endpoint answered
    time.sleep(1)  # the repeated deliveries arrive too
    account.refresh_from_db()
    assert account.balance == 100_000
    assert account.saved_payment_method.startswith("pm_")
    assert account.entries.filter(kind="top_up").count() == 1


def test_a_subscription_is_recorded_even_when_updated_arrives_before_created(stripe_here):
    shop, _owner = create_shop()
    fake_call(stripe_here, "POST", "/_fake/config", {"shuffle": True})
    starter = Plan.objects.get(code="starter")
    url = stripe_gateway.subscribe_checkout(shop, starter, "http://example.test/settings/billing")

    fake_call(stripe_here, "POST", f"/_fake/checkout_sessions/{session_id(url)}/complete", {})

    account = eventually(lambda: BillingAccount.objects.filter(shop=shop, subscription_status="active").first())
    assert account.stripe_subscription_id.startswith("sub_") and account.current_period_end is not None
    shop = Shop.objects.get(pk=shop.pk)
    assert (shop.plan.code, shop.status) == ("starter", Shop.Status.ACTIVE)

    # A failed renewal: past due with a warning, still sending inside the grace period.
    fake_call(stripe_here, "POST", f"/_fake/subscriptions/{account.stripe_subscription_id}/fail_payment", {})
    account = eventually(lambda: BillingAccount.objects.filter(shop=shop, subscription_status="past_due").first())
    assert account.past_due_since is not None


@pytest.mark.django_db
def test_a_forged_stripe_webhook_is_refused_and_changes_nothing(stack):
    body = json.dumps({"id": "evt_forged", "object": "event", "type": "payment_intent.succeeded"}).encode()
    timestamp = int(time.time())
    forged = stripe.WebhookSignature._compute_signature(f"{timestamp}.{body.decode()}", "whsec_wrong")
    for header in (f"t={timestamp},v1={forged}", ""):
        response = Client(HTTP_HOST="localhost").post(
            "/webhooks/stripe/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )
        assert response.status_code == 400
    assert not StripeEvent.objects.filter(event_id="evt_forged").exists()


def test_the_same_event_twice_is_applied_once(stripe_here):
    shop, _owner = create_shop()
    url = stripe_gateway.top_up_checkout(shop, 50_000, "http://example.test/settings/billing", save_card=False)
    fake_call(stripe_here, "POST", f"/_fake/checkout_sessions/{session_id(url)}/complete", {})
    eventually(lambda: BillingAccount.objects.filter(shop=shop, balance=50_000).exists())
    events = fake_call(stripe_here, "GET", "/_fake/events?type=checkout.session.completed")
    completed = next(e for e in events if session_id(url) in json.dumps(e))
    fake_call(stripe_here, "POST", f"/_fake/events/{completed['id']}/resend", {})
    eventually(lambda: len([d for d in fake_call(stripe_here, "GET", "/_fake/deliveries")
                            if d["event"] == completed["id"]]) >= 2)  # fmt: skip
    assert BillingAccount.objects.get(shop=shop).balance == 50_000
    assert StripeEvent.objects.filter(event_id=completed["id"]).count() == 1


def test_postpaid_usage_reaches_the_stripe_meter_once_and_reconciles(stripe_here):
    from datetime import UTC, datetime, time, timedelta
    from io import StringIO

    from django.core.management import call_command
    from django_tenants.utils import tenant_context

    from billing import metering, usage_reporting, wallet
    from billing.models import MeterReport
    from tenants.services.lifecycle import apply_plan

    shop, _owner = create_shop()
    apply_plan(shop, Plan.objects.get(code="scale"))
    stripe_gateway.ensure_customer(shop)
    usage_reporting.ensure_meter()
    yesterday = wallet.local_today(shop) - timedelta(days=1)
    noon = datetime.combine(yesterday, time(5), tzinfo=UTC)  # 12:00 in Jakarta
    statuses = [
        {"id": f"wamid.post{n}", "status": "delivered", "timestamp": str(int(noon.timestamp())),
         "recipient_id": "6281234567890",
         "pricing": {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}}
        for n in range(3)
    ]  # fmt: skip
    with tenant_context(shop):
        metering.record_statuses(statuses)

    usage_reporting.report_all()
    usage_reporting.report_all()  # a second run finds nothing new to report

    # 3 x Rp678,15 Meta cost + 10% (Scale) = Rp2.237,895 -> Rp2.238 on the meter.
    reports = MeterReport.objects.filter(shop=shop)
    assert [(r.value, r.reported_at is not None) for r in reports] == [(2238, True)]
    sent = [e for e in fake_call(stripe_here, "GET", "/_fake/meter_events") if e["identifier"] == reports[0].identifier]
    assert len(sent) == 1 and sent[0]["payload"]["value"] == "2238"
    out = StringIO()
    call_command("billing_reconcile", f"{yesterday:%Y-%m}", stdout=out)
    line = next(line for line in out.getvalue().splitlines() if line.startswith(shop.slug))
    assert line.split()[-4:] == ["2238", "2238", "2238", "0"]


def signed_post(event: dict, secret: str):
    """Delivers a Stripe event to our endpoint in this process, signed as Stripe signs it."""
    body = json.dumps(event)
    timestamp = int(time.time())
    signature = stripe.WebhookSignature._compute_signature(f"{timestamp}.{body}", secret)
    return Client(HTTP_HOST="localhost").post(
        "/webhooks/stripe/",
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=f"t={timestamp},v1={signature}",
    )


@pytest.mark.parametrize(
    ("locale", "subject", "body"),
    [
        (None, "Pembayaran Warung CRM gagal", "Kami tidak dapat menagih kartu Anda"),
        ("en", "Payment for Warung CRM failed", "We could not charge your card"),
    ],
)
def test_the_past_due_email_is_written_in_the_shop_language(stripe_here, settings, mailoutbox, locale, subject, body):
    shop, owner = create_shop()
    if locale:
        Shop.objects.filter(pk=shop.pk).update(locale=locale)
    url = stripe_gateway.subscribe_checkout(
        shop, Plan.objects.get(code="starter"), "http://example.test/settings/billing"
    )
    fake_call(stripe_here, "POST", f"/_fake/checkout_sessions/{session_id(url)}/complete", {})
    account = eventually(lambda: BillingAccount.objects.filter(shop=shop, subscription_status="active").first())

    # The failed renewal's webhook comes to this process (not the server), so its email lands in the outbox.
    server = fake_call(stripe_here, "GET", "/_fake/config")["webhook_url"]
    fake_call(stripe_here, "POST", "/_fake/config", {"webhook_url": ""})
    try:
        fake_call(stripe_here, "POST", f"/_fake/subscriptions/{account.stripe_subscription_id}/fail_payment", {})
        failed = [
            event
            for event in fake_call(stripe_here, "GET", "/_fake/events?type=invoice.payment_failed")
            if account.stripe_subscription_id in json.dumps(event)
        ]
        settings.STRIPE_WEBHOOK_SECRET = SECRET
        with translation.override("en" if locale is None else "id"):  # not the language of the request
            assert signed_post(failed[-1], SECRET).status_code == 200
    finally:
        fake_call(stripe_here, "POST", "/_fake/config", {"webhook_url": server})

    assert BillingAccount.objects.get(pk=account.pk).subscription_status == "past_due"
    assert [(m.to, m.subject) for m in mailoutbox] == [([owner.email], subject)]
    assert body in mailoutbox[0].body


def test_auto_recharge_charges_the_saved_card_once_however_many_spends_trigger_it(stripe_here):
    shop, _owner = create_shop()
    url = stripe_gateway.top_up_checkout(shop, 100_000, "http://example.test/settings/billing", save_card=True)
    fake_call(stripe_here, "POST", f"/_fake/checkout_sessions/{session_id(url)}/complete", {})
    assert eventually(
        lambda: BillingAccount.objects.filter(shop=shop, balance=100_000).exclude(saved_payment_method="")
    )
    statuses = [
        {"id": f"wamid.auto{n}", "status": "delivered", "timestamp": str(int(time.time())),
         "recipient_id": "6281234567890",
         "pricing": {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}}
        for n in range(80)
    ]  # fmt: skip
    with tenant_context(shop):
        metering.record_statuses(statuses)  # 80 x Rp813,78: Rp34.897,60 left, below Rp50.000
    left = Decimal("100000") - 80 * Decimal("813.78")
    wallet.set_preferences(
        shop.pk, monthly_cap=None, auto_recharge=True, auto_recharge_below=50_000, auto_recharge_amount=200_000
    )
    # Five spends below the threshold trigger it in parallel, before it is charged. On a queue of this test's
    # own: other tests' workers (without this stand-in's address) serve the default queue meanwhile.
    for _ in range(5):
        tasks.auto_recharge.apply_async((shop.pk,), queue="auto-recharge-test")

    stripe_env = {"STRIPE_API_BASE": stripe_here, "STRIPE_SECRET_KEY": TEST_KEY, "STRIPE_WEBHOOK_SECRET": SECRET}
    with celery_worker("auto-recharge", queues="auto-recharge-test", **stripe_env):  # 4 threads take 5 tasks
        account = eventually(lambda: BillingAccount.objects.filter(shop=shop, balance__gt=left).first())
        assert account, BillingAccount.objects.get(shop=shop).auto_recharge_error
        time.sleep(1)  # the other four tasks are done by now
    charges = [
        event["id"]
        for event in fake_call(stripe_here, "GET", "/_fake/events?type=payment_intent.succeeded")
        if event["data"]["object"]["metadata"].get("shop_id") == str(shop.pk)
        and event["data"]["object"]["metadata"].get("auto") == "1"
    ]
    # Stripe's own word of the payment reaches our webhook as well.
    assert eventually(
        lambda: any(
            d["event"] in charges and d["status"] == 200 for d in fake_call(stripe_here, "GET", "/_fake/deliveries")
        )
    )
    assert len(charges) == 1
    account.refresh_from_db()
    assert account.balance == left + 200_000
    assert list(account.entries.filter(kind="top_up").values_list("amount", flat=True).order_by("created_at")) == [
        Decimal("100000.0000"),
        Decimal("200000.0000"),
    ]
