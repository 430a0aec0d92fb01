"""In a real Chromium: the dashboard, the operator console and the API docs work under the Content-Security-
Policy (no violation, no blocked script or style), and markup a customer or a colleague typed (a contact's
name, an inbound WhatsApp message) shows as plain text: nothing runs, no dialog opens."""

import re

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from crm.models import Contact
from tests.factories import PASSWORD, UserFactory
from whatsapp.models import Conversation, Message

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

EVIL_NAME = '<img src=x onerror="alert(1)">Budi<script>alert(2)</script>'
EVIL_TEXT = '<script>alert("xss")</script><img src=x onerror=alert(3)> mau pesan'

# Every CSP violation and every console error of the page is collected before the page's own scripts run.
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture(scope="session")
def hostile_shop(committed):
    from tests.conftest import ShopWorld

    world = ShopWorld("xss")
    with schema_context(world.shop.schema_name):
        contact = Contact.objects.create(name=EVIL_NAME, phone="+6281299990001", wa_id="6281299990001",
                                         last_inbound_at=timezone.now())  # fmt: skip
        world.conversation = Conversation.objects.create(contact=contact, last_message_at=timezone.now())
        Message.objects.create(conversation=world.conversation, direction="in", text=EVIL_TEXT, status="received")
        world.contact = contact
    # An operator for the console, committed so that the server sees them.
    world.operator = UserFactory(is_staff=True, is_superuser=True)
    return world


def watched_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(WATCH)
    page = context.new_page()
    page.dialogs, page.errors = [], []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page


def violations(page) -> list[str]:
    return page.evaluate("window.__violations")


def test_the_dashboard_shows_hostile_text_inert_under_the_policy(browser, live_url, hostile_shop, screenshots):
    port = live_url.rsplit(":", 1)[1]
    base = f"http://{hostile_shop.host}:{port}"
    page = watched_page(browser)
    page.goto(f"{base}/login")
    page.get_by_test_id("lang-switch").select_option("en")
    page.fill("#email", hostile_shop.owner.email)
    page.fill("#password", PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(r"/inbox"))

    page.goto(f"{base}/inbox/{hostile_shop.conversation.pk}")
    thread = page.get_by_test_id("thread")
    expect(thread).to_contain_text('<script>alert("xss")</script><img src=x onerror=alert(3)> mau pesan', timeout=20000)
    expect(thread).to_contain_text("Budi<script>alert(2)</script>")
    screenshots.take(page, "inbox-inert")

    page.goto(f"{base}/contacts")
    expect(page.get_by_test_id("contacts-table")).to_contain_text(EVIL_NAME, timeout=20000)
    page.goto(f"{base}/contacts/{hostile_shop.contact.pk}")
    expect(page.get_by_test_id("contact-title")).to_contain_text(EVIL_NAME, timeout=20000)
    page.goto(f"{base}/settings/tokens")
    expect(page.get_by_test_id("token-permissions")).to_be_visible()
    screenshots.take(page, "contact-inert")

    assert page.dialogs == []
    assert page.locator("img[src=x]").count() == 0
    assert violations(page) == []
    assert [error for error in page.errors if "Content Security Policy" in error] == []


def test_the_console_and_the_api_docs_work_under_the_policy(browser, live_url, hostile_shop, screenshots):
    port = live_url.rsplit(":", 1)[1]
    operator = hostile_shop.operator
    page = watched_page(browser)
    page.goto(f"http://localhost:{port}/console/")
    page.fill("#id_username", operator.email)
    page.fill("#id_password", PASSWORD)
    page.locator("input[type=submit]").click()
    page.goto(f"http://localhost:{port}/console/tenants/shop/")
    expect(page.locator("#result_list")).to_contain_text(hostile_shop.shop.name, timeout=20000)
    screenshots.take(page, "console")
    assert violations(page) == []

    page.goto(f"http://{hostile_shop.host}:{port}/api/docs/")
    expect(page.locator(".swagger-ui .info")).to_contain_text("Warung CRM API", timeout=15000)
    expect(page.locator(".opblock").first).to_be_visible()
    screenshots.take(page, "api-docs")
    assert violations(page) == []
    assert [error for error in page.errors if "Content Security Policy" in error] == []
    assert page.dialogs == []
