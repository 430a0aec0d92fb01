"""A customer writes from the simulator's phone page; staff answer from the live inbox, in real browsers."""

import base64
import re
import time

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD
from tests.support.channel import NUMBER

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db]
CUSTOMER = "6281298765432"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def test_customer_gets_the_greeting_and_the_agent_answers_live(browser, whatsapp_stack, screenshots):
    stack = whatsapp_stack
    port = stack.web.rsplit(":", 1)[1]

    # The customer's phone (the simulator's page), on a phone-sized screen.
    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    phone.goto(f"{stack.sim}/")
    expect(phone.get_by_test_id("phone-business").locator(f"option[value='{NUMBER}']")).to_have_count(1)
    phone.get_by_test_id("phone-business").select_option(NUMBER)
    phone.get_by_test_id("phone-customer").fill(CUSTOMER)
    phone.get_by_test_id("phone-name").fill("Sari")
    phone.get_by_test_id("phone-text").fill("halo")
    started = time.monotonic()
    phone.get_by_test_id("phone-send").click()
    greeting = phone.locator("[data-testid=phone-msg][data-direction=in]", has_text="Halo kak! Ada yang bisa dibantu?")
    expect(greeting).to_be_visible(timeout=5000)
    greeting_after = time.monotonic() - started
    screenshots.take(phone, "customer-greeted")

    # The agent logs in and finds the conversation in the inbox.
    dashboard = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    dashboard.goto(f"http://{stack.world.host}:{port}/login")
    dashboard.fill("#email", stack.world.agent.email)
    dashboard.fill("#password", PASSWORD)
    dashboard.get_by_test_id("login-submit").click()
    expect(dashboard).to_have_url(re.compile(r"/inbox"))
    row = dashboard.locator("[data-testid^=conversation-row-]", has_text="Sari")
    expect(row).to_be_visible()
    row.click()
    expect(dashboard.get_by_test_id("thread")).to_contain_text("halo")

    # A new customer message appears live, without reloading.
    phone.get_by_test_id("phone-text").fill("ada gamis hitam ukuran L?")
    phone.get_by_test_id("phone-send").click()
    expect(dashboard.get_by_test_id("thread")).to_contain_text("ada gamis hitam ukuran L?", timeout=3000)
    screenshots.take(dashboard, "agent-sees-it-live")

    # The agent replies; the customer gets it, and the agent sees the ticks.
    dashboard.get_by_test_id("reply-text").fill("Ada kak, 175rb. Mau dikirim ke mana?")
    dashboard.get_by_test_id("reply-send").click()
    reply = phone.locator("[data-testid=phone-msg][data-direction=in]", has_text="Ada kak, 175rb")
    expect(reply).to_be_visible(timeout=5000)
    expect(reply).to_have_attribute("data-status", re.compile("delivered|read"), timeout=5000)
    ours = dashboard.locator("[data-testid^=message-][data-direction=out]", has_text="Ada kak, 175rb")
    expect(ours).to_have_attribute("data-status", re.compile("delivered|read"), timeout=5000)
    screenshots.take(phone, "customer-sees-reply")
    screenshots.take(dashboard, "agent-sees-ticks")

    # A photo with a caption, from the paperclip.
    dashboard.get_by_test_id("reply-text").fill("Ini fotonya kak")
    dashboard.get_by_test_id("reply-attach-file").set_input_files(
        {"name": "gamis.png", "mimeType": "image/png", "buffer": PNG}
    )
    photo = phone.locator("[data-testid=phone-msg][data-direction=in][data-type=image]")
    expect(photo).to_contain_text("Ini fotonya kak", timeout=5000)
    screenshots.take(phone, "customer-gets-photo")

    assert greeting_after < 2.0, f"the greeting took {greeting_after:.2f} s"
