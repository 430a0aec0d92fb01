"""The customer side of a shop, in a real browser: contacts, an order from the chat, the pipeline's
closing rate, a segment's live count and the analytics page."""

import re

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from crm.models import Contact, Deal, Product, Stage, Variant
from tests.factories import PASSWORD
from whatsapp.models import Conversation, Message

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture(scope="session")
def crm_shop(committed):
    """A shop of its own with a product, a customer who wrote on WhatsApp, and a contacted prospect."""
    from tests.conftest import ShopWorld

    world = ShopWorld("crm")
    with schema_context(world.shop.schema_name):
        product = Product.objects.create(name="Gamis Rayon")
        Variant.objects.create(product=product, sku="GR-M", size="M", color="Hitam", price=150_000, stock=10)
        rina = Contact.objects.create(name="Rina Chat", phone="+6281288881111", wa_id="6281288881111",
                                      last_inbound_at=timezone.now())  # fmt: skip
        world.conversation = Conversation.objects.create(contact=rina, last_message_at=timezone.now())
        Message.objects.create(conversation=world.conversation, direction="in", text="mau gamis M hitam 1",
                               status="received")  # fmt: skip
        contacted = Stage.objects.get(name="Dihubungi")
        world.deal = Deal.objects.create(title="Seragam kantor 20 pcs", contact=rina, stage=contacted,
                                         value=3_000_000, contacted_at=timezone.now())  # fmt: skip
    return world


def test_a_shop_owner_runs_the_customer_side(browser, live_url, crm_shop, screenshots):
    port = live_url.rsplit(":", 1)[1]
    base = f"http://{crm_shop.host}:{port}"
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base}/login")
    page.get_by_test_id("lang-switch").select_option("en")
    page.fill("#email", crm_shop.owner.email)
    page.fill("#password", PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(r"/inbox"))

    # A contact typed in by hand; the phone is normalised.
    page.goto(f"{base}/contacts")
    page.get_by_test_id("contact-new").click()
    page.get_by_test_id("contact-name").fill("Sari Baru")
    page.get_by_test_id("contact-phone").fill("0812-7777-0000")
    page.get_by_test_id("contact-save").click()
    expect(page.get_by_test_id("contacts-table")).to_contain_text("+6281277770000")
    screenshots.take(page, "contacts")

    # An order recorded from the conversation, in a couple of clicks.
    page.goto(f"{base}/inbox/{crm_shop.conversation.pk}")
    page.get_by_test_id("inbox-create-order").click()
    page.get_by_test_id("order-variant-search").fill("Gamis")
    page.locator("[data-testid^=order-variant-option-]").first.click()
    page.get_by_test_id("order-save").click()
    expect(page.get_by_test_id("inbox-contact-orders")).to_contain_text("150", timeout=5000)
    screenshots.take(page, "order-from-chat")
    with schema_context(crm_shop.shop.schema_name):
        assert Contact.objects.get(name="Rina Chat").order_count == 1

    # The pipeline: winning the contacted deal moves the closing rate.
    page.goto(f"{base}/pipeline")
    rate = page.get_by_test_id("pipeline-closing-rate")
    expect(rate).to_be_visible()
    before = rate.inner_text()
    with schema_context(crm_shop.shop.schema_name):
        won_id = Stage.objects.get(kind="won").pk
    page.get_by_test_id(f"deal-move-{crm_shop.deal.pk}").select_option(str(won_id))
    expect(rate).not_to_have_text(before, timeout=5000)
    expect(rate).to_contain_text("100")
    screenshots.take(page, "pipeline-won")

    # A segment's count previews live as the rule changes.
    page.goto(f"{base}/contacts/segments")
    page.get_by_test_id("rule-add").click()
    page.get_by_test_id("rule-field-0").select_option("order_count")
    page.get_by_test_id("rule-operator-0").select_option("gt")
    page.get_by_test_id("rule-value-0").fill("0")
    expect(page.get_by_test_id("segment-count")).to_have_text("1", timeout=5000)
    screenshots.take(page, "segment-count")

    # Analytics with charts.
    page.goto(f"{base}/analytics")
    expect(page.get_by_test_id("analytics-trend-chart")).to_be_visible()
    expect(page.get_by_test_id("kpi-orders")).to_contain_text("1")
    screenshots.take(page, "analytics")
