"""Headless Debian Chromium driven by Playwright against a real gunicorn on the test database."""

import os
import shutil
from pathlib import Path

import pytest

from tests.support.servers import ARTIFACTS, web_server

# Playwright's sync API keeps an event loop running in this thread; the test's own ORM calls are
# still plain synchronous code, which Django would otherwise refuse.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def live_url(committed):
    with web_server() as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: .ci/run installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Screenshots:
    def __init__(self, name: str):
        self.folder = ARTIFACTS / "screenshots" / name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def take(self, page, label: str) -> None:
        self.count += 1
        page.screenshot(path=str(self.folder / f"{self.count:02d}-{label}.png"), full_page=True)


@pytest.fixture
def screenshots(request):
    return Screenshots(request.node.name)
