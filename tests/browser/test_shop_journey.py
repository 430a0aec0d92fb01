"""A shop's first day, in a real browser: signup, dashboard, language, team, and a suspension."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture(scope="session")
def operator(committed):
    return UserFactory(email="ops@warung.test", is_staff=True, is_superuser=True)


def test_owner_signs_up_invites_an_agent_and_gets_suspended(browser, live_url, operator, screenshots):
    port = live_url.rsplit(":", 1)[1]
    owner = browser.new_context(viewport={"width": 1280, "height": 860})
    page = owner.new_page()

    # 1. The portal: sign up a shop.
    page.goto(f"{live_url}/")
    page.fill("#shop_name", "Gamis Sari")
    page.fill("#subdomain", "gamis-sari")
    expect(page.get_by_test_id("subdomain-status")).to_be_visible()
    page.fill("#owner_name", "Sari Wulandari")
    page.fill("#email", "sari@gamis.test")
    page.fill("#password", PASSWORD)
    page.fill("#phone", "0812 3456 7890")
    screenshots.take(page, "signup-filled")
    page.get_by_test_id("signup-submit").click()

    # 2. Lands logged in on its own subdomain's dashboard, in Indonesian.
    page.wait_for_url(f"http://gamis-sari.localhost:{port}/inbox", timeout=15_000)
    expect(page.get_by_test_id("shop-name")).to_contain_text("Gamis Sari")
    expect(page.get_by_test_id("user-role")).to_be_visible()
    indonesian_nav = page.get_by_test_id("nav-contacts").inner_text()
    screenshots.take(page, "dashboard-id")

    # 3. Switches to English: the navigation changes at once, and stays after a reload.
    page.get_by_test_id("lang-switch").select_option("en")
    expect(page.get_by_test_id("nav-contacts")).to_have_text(re.compile("Contacts"))
    assert indonesian_nav != page.get_by_test_id("nav-contacts").inner_text()
    page.reload()
    expect(page.get_by_test_id("nav-contacts")).to_have_text(re.compile("Contacts"))
    screenshots.take(page, "dashboard-en")

    # 4. Invites an agent from Settings > Team.
    page.get_by_test_id("nav-settings").click()
    page.fill("#invite_email", "dewi@gamis.test")
    page.select_option("#invite_role", "agent")
    page.get_by_test_id("invite-submit").click()
    invite_link = page.get_by_test_id("invite-link")
    expect(invite_link).to_have_value(re.compile(r"/invite/"))
    link = invite_link.input_value()
    screenshots.take(page, "team-invited")

    # 5. The agent accepts in their own browser and is logged in; then logs out and back in.
    agent = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    agent_page = agent.new_page()
    agent_page.goto(link)
    agent_page.fill("#name", "Dewi")
    agent_page.fill("#password", PASSWORD)
    agent_page.get_by_test_id("invite-accept").click()
    expect(agent_page).to_have_url(re.compile(r"/inbox$"))
    screenshots.take(agent_page, "agent-joined-phone")
    agent_page.goto(f"http://gamis-sari.localhost:{port}/settings/team")
    expect(agent_page.get_by_test_id("members-table")).to_contain_text("dewi@gamis.test")
    expect(agent_page.get_by_test_id("invite-form")).to_have_count(0)  # agents cannot invite
    if not agent_page.get_by_test_id("logout").is_visible():
        agent_page.get_by_test_id("nav-toggle").click()
    expect(agent_page.get_by_test_id("logout")).to_be_visible()  # the phone's menu has slid open
    agent_page.get_by_test_id("logout").click()
    expect(agent_page).to_have_url(re.compile(r"/login"), timeout=15_000)
    agent_page.fill("#email", "dewi@gamis.test")
    agent_page.fill("#password", PASSWORD)
    agent_page.get_by_test_id("login-submit").click()
    expect(agent_page).to_have_url(re.compile(r"/(inbox|settings/team)$"))  # back where they were
    expect(agent_page.get_by_test_id("user-name")).to_have_text("Dewi")

    # 6. The operator suspends the shop in the console.
    ops = browser.new_context(viewport={"width": 1280, "height": 860})
    ops_page = ops.new_page()
    ops_page.goto(f"{live_url}/console/")
    ops_page.fill("#id_username", operator.email)
    ops_page.fill("#id_password", PASSWORD)
    ops_page.click("input[type=submit]")
    ops_page.goto(f"{live_url}/console/tenants/shop/?q=gamis-sari")
    ops_page.check("input[name=_selected_action]")
    ops_page.select_option("select[name=action]", "suspend")
    ops_page.click("button[name=index]")
    expect(ops_page.locator(".messagelist")).to_contain_text("Suspended 1 shop")
    screenshots.take(ops_page, "console-suspended")

    # 7. The owner's dashboard now shows the suspended page.
    page.reload()
    expect(page.get_by_test_id("suspended")).to_be_visible()
    expect(page.get_by_test_id("suspended")).to_contain_text("ditangguhkan")
    screenshots.take(page, "owner-sees-suspended")
    for context in (owner, agent, ops):
        context.close()
