"""Data rights in a real browser: the owner exports the shop from Settings > Data, downloads the zip, and
the operator's restore of that file is a new shop where the owner finds the same customers."""

import json
import re
import subprocess
import sys
import zipfile

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from crm.models import Contact
from tests.factories import PASSWORD
from tests.support.servers import ROOT, celery_worker, process_env

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db]


@pytest.fixture(scope="session")
def data_shop(committed):
    from tests.conftest import ShopWorld

    world = ShopWorld("data")
    with schema_context(world.shop.schema_name):
        Contact.objects.create(name="Bu Ratna Langganan", phone="+6281299990000", wa_id="6281299990000")
    return world


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_test_id("lang-switch").select_option("en")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(r"/inbox"))


def test_owner_downloads_the_shop_and_its_restore_holds_the_same_customers(
    browser, live_url, data_shop, screenshots, tmp_path
):
    port = live_url.rsplit(":", 1)[1]
    base = f"http://{data_shop.host}:{port}"
    page = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True).new_page()
    log_in(page, base, data_shop.owner.email)

    with celery_worker(queues="default"):
        page.goto(f"{base}/settings/data")
        page.get_by_test_id("data-export-start").click()
        expect(page.get_by_test_id("data-export-ready")).to_be_visible(timeout=90_000)
    screenshots.take(page, "export-ready")
    with page.expect_download() as download_info:
        page.get_by_test_id("data-export-download").click()
    archive = tmp_path / "export.zip"
    download_info.value.save_as(archive)
    with zipfile.ZipFile(archive) as zf:
        assert json.loads(zf.read("manifest.json"))["shop"]["slug"] == data_shop.shop.slug
        assert "Bu Ratna Langganan" in zf.read("csv/contacts.csv").decode("utf-8-sig")

    # The operator restores it from a shell, as a process of its own.
    restore = subprocess.run(
        [sys.executable, "manage.py", "restore_shop", str(archive), "--subdomain", f"{data_shop.shop.slug}-pulih"],
        cwd=ROOT, env=process_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert restore.returncode == 0, restore.stderr
    restored = f"http://{data_shop.shop.slug}-pulih.localhost:{port}"
    log_in(page, restored, data_shop.owner.email)
    page.goto(f"{restored}/contacts")
    expect(page.get_by_test_id("contacts-table")).to_contain_text("Bu Ratna Langganan")
    screenshots.take(page, "restored-contacts")
