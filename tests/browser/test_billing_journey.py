"""Money in, in a real browser: a shop tops up its WhatsApp balance on the Stripe stand-in's hosted checkout,
the signed webhook credits it, and the operator sees the shop's margin once it has sent a marketing message."""

import re

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from billing import metering
from tests.factories import PASSWORD, UserFactory, create_shop
from tests.support.servers import web_server
from tests.support.stripe import TEST_KEY, fake_call, stripe_fake

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

WEBHOOK_SECRET = "whsec_billing_journey"


@pytest.fixture(scope="module")
def billing_url(committed):
    """A gunicorn using the stand-in as Stripe, and the stand-in posting its signed events to that gunicorn."""
    with (
        stripe_fake(webhook_secret=WEBHOOK_SECRET) as stripe_base,
        web_server(
            STRIPE_API_BASE=stripe_base, STRIPE_SECRET_KEY=TEST_KEY, STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET
        ) as url,
    ):
        # The server's port is known only now: point the stand-in's webhook at its platform domain.
        fake_call(stripe_base, "POST", "/_fake/config", {"webhook_url": f"{url}/webhooks/stripe/"})
        yield url


def delivered_marketing_message(wamid: str) -> dict:
    """Meta's status webhook for a delivered, paid marketing template."""
    return {
        "id": wamid,
        "status": "delivered",
        "timestamp": str(int(timezone.now().timestamp())),
        "recipient_id": "6281234567890",
        "pricing": {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"},
    }


@pytest.fixture(scope="module")
def people(committed):
    """A new shop on the trial plan with an empty balance, its owner, and an operator of the platform."""
    shop, owner = create_shop(shop_name="Toko Saldo", subdomain="toko-saldo")
    operator = UserFactory(email="finance@warung.test", is_staff=True, is_superuser=True)
    return shop, owner, operator


@pytest.fixture(scope="module")
def marketing_message(people):
    """One delivered marketing template, metered before the test's transaction so that the web server sees it."""
    shop = people[0]
    with tenant_context(shop):
        metering.record_statuses([delivered_marketing_message("wamid.journey-1")])
    return shop


def test_owner_tops_up_the_whatsapp_balance_through_stripe(browser, billing_url, people, screenshots):
    shop, owner, _ = people
    port = billing_url.rsplit(":", 1)[1]
    base = f"http://{shop.primary_host}:{port}"

    # 1. The owner logs in and opens Settings > Billing: an empty balance.
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base}/login")
    page.fill("#email", owner.email)
    page.fill("#password", PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(r"/inbox"))
    page.goto(f"{base}/settings/billing")
    balance = page.get_by_test_id("billing-balance")
    expect(balance).to_have_text(re.compile(r"^Rp\s?0$"))

    # 2. Chooses Rp100.000 and goes to Stripe's hosted checkout.
    page.get_by_test_id("billing-preset-100000").click()
    expect(page.get_by_test_id("billing-top-up")).to_contain_text("100.000")
    screenshots.take(page, "billing-before-top-up")
    page.get_by_test_id("billing-top-up").click()
    expect(page.get_by_test_id("stripe-pay")).to_be_visible(timeout=15_000)
    expect(page.get_by_test_id("stripe-amount")).to_contain_text("100")
    screenshots.take(page, "stripe-checkout")

    # 3. Pays, is sent back to the billing page, and the webhook credits the balance.
    page.get_by_test_id("stripe-pay").click()
    page.wait_for_url(re.compile(rf"^{re.escape(base)}/settings/billing"), timeout=15_000)
    expect(balance).to_have_text(re.compile(r"^Rp\s?100\.000$"), timeout=20_000)
    screenshots.take(page, "billing-topped-up")

    page.context.close()


def test_operator_sees_the_margin_on_a_marketing_message(browser, billing_url, people, marketing_message, screenshots):
    """Meta's Rp678,15 for a marketing template, billed at the trial plan's 20% markup: Rp813,78."""
    shop, _, operator = people
    # The operator's revenue page shows the shop's cost, billed amount and margin, in whole rupiah.
    ops = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    ops.goto(f"{billing_url}/console/")
    ops.fill("#id_username", operator.email)
    ops.fill("#id_password", PASSWORD)
    ops.click("input[type=submit]")
    ops.goto(f"{billing_url}/console/billing/revenue/")
    row = ops.locator(f'tr[data-shop="{shop.slug}"]')
    expect(row).to_contain_text("Toko Saldo")
    expect(row.locator("td.meta-cost")).to_have_text("Rp678")
    expect(row.locator("td.billed")).to_have_text("Rp814")
    expect(row.locator("td.margin")).to_have_text("Rp136")  # 813,78 - 678,15
    expect(row.locator("td.margin-percent")).to_have_text("16.67%")
    screenshots.take(ops, "console-revenue")
    ops.context.close()
