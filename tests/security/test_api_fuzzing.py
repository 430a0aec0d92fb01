"""Schemathesis fuzzes the shop API from its own OpenAPI schema, logged in as the shop's owner on a real
gunicorn (with the WhatsApp simulator and the Stripe stand-in behind it): no call may end in a server error
(500) and every documented answer must match its schema."""

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.factories import PASSWORD
from tests.support.servers import ARTIFACTS, simulator, web_server
from tests.support.stripe import stripe_fake

pytestmark = pytest.mark.django_db

# Logging out or resetting the password would end the fuzzer's own session (tests/tenants/test_auth.py covers
# them, the throttles included).
SESSION_ENDERS = "/api/auth/"


@pytest.fixture(scope="module")
def fuzzed_shop(committed):
    from tests.conftest import ShopWorld

    return ShopWorld("fuzz")


def test_the_shop_api_answers_every_generated_call_without_a_server_error(fuzzed_shop):
    with (
        simulator() as graph,
        stripe_fake() as stripe,
        web_server(WHATSAPP_GRAPH_BASE_URL=graph, STRIPE_API_BASE=stripe) as url,
    ):
        port = url.rsplit(":", 1)[1]
        # Logged in through the real server, so that the session is committed where gunicorn reads it.
        shop_url = f"http://127.0.0.1:{port}"
        browser = httpx.Client(base_url=shop_url, headers={"Host": f"{fuzzed_shop.host}:{port}"}, timeout=20)
        browser.get("/api/auth/csrf/")
        csrf = browser.cookies["csrftoken"]
        login = browser.post("/api/auth/login/", json={"email": fuzzed_shop.owner.email, "password": PASSWORD},
                             headers={"X-CSRFToken": csrf})  # fmt: skip
        assert login.status_code == 200, login.text
        csrf = browser.cookies["csrftoken"]
        cookie = f"sessionid={browser.cookies['sessionid']}; csrftoken={csrf}"
        # The schema as the shop serves it; calls go to 127.0.0.1 with the shop's Host (no resolver needed).
        schema = ARTIFACTS / "shop-openapi.yaml"
        schema.write_bytes(browser.get("/api/schema/").content)
        report = ARTIFACTS / "schemathesis"
        command = [
                str(Path(sys.executable).parent / "st"), "run", str(schema), "--url", shop_url,
                "--header", f"Host: {fuzzed_shop.host}:{port}",
                "--checks", "not_a_server_error,response_schema_conformance",
                "--phases", "examples,fuzzing", "--max-examples", "8", "--seed", "20261202", "--workers", "2",
                "--exclude-path-regex", SESSION_ENDERS,
                "--header", f"Cookie: {cookie}", "--header", f"X-CSRFToken: {csrf}",
                "--request-timeout", "20", "--no-shrink", "--continue-on-failure", "--generation-database", "none",
                "--report", "junit", "--report-dir", str(report),
            ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        still_in = browser.get("/api/auth/session/").status_code
    (ARTIFACTS / "schemathesis.log").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout[-20000:]
    assert "Authentication failed" not in result.stdout, "the fuzzer was not logged in throughout"
    assert still_in == 200
