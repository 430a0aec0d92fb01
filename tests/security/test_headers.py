"""Under production settings every page and API answer carries the browser protections: HTTPS only (HSTS,
redirect), secure cookies, a Content-Security-Policy without 'unsafe-inline', no framing, no sniffing."""

import json
import sys
import urllib.request

import pytest

from tests.factories import PASSWORD
from tests.support.servers import ROOT, eventually, free_port, process_env, running

pytestmark = pytest.mark.django_db

PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "production-like-secret-" + "x" * 40,
    "FIELD_ENCRYPTION_KEYS": "ZGV2LW9ubHktZmllbGQtZW5jcnlwdGlvbi1rZXktMDA=",
    "STRIPE_SECRET_KEY": "sk_test_warung_local",
    "STRIPE_WEBHOOK_SECRET": "whsec_warung_local",
}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture(scope="module")
def production_url(committed):
    """Gunicorn as deployed, behind a TLS proxy that the requests below imitate with X-Forwarded-Proto."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "infra" / "gunicorn.conf.py"),
               "-b", f"127.0.0.1:{port}"]  # fmt: skip
    with running("web-production", command, process_env(PLATFORM_DOMAIN=f"localhost:{port}", **PRODUCTION)):
        url = f"http://localhost:{port}"
        assert eventually(lambda: answers(url + "/healthz", f"localhost:{port}"))
        yield url


def answers(url: str, host: str) -> bool:
    try:
        return fetch(url, host).status == 200
    except OSError:
        return False


def host_of(world, url: str) -> str:
    """The shop's Host header on the server's port."""
    return f"{world.host}:{url.rsplit(':', 1)[1]}"


def fetch(url: str, host: str, https: bool = True):
    headers = {"Host": host, "Content-Type": "application/json"}
    if https:
        headers["X-Forwarded-Proto"] = "https"
    try:
        return urllib.request.build_opener(NoRedirect).open(urllib.request.Request(url, headers=headers), timeout=10)
    except urllib.error.HTTPError as error:
        return error


def test_plain_http_is_sent_to_https(production_url, shop_a):
    response = fetch(f"{production_url}/inbox", host_of(shop_a, production_url), https=False)
    assert response.status == 301
    assert response.headers["Location"].startswith("https://")


@pytest.mark.parametrize("path", ["/inbox", "/api/auth/csrf/", "/api/docs/"])
def test_shop_pages_and_api_carry_the_protections(production_url, shop_a, path):
    host = host_of(shop_a, production_url)
    response = fetch(production_url + path, host)
    assert response.status == 200
    headers = response.headers
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    policy = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in headers["Content-Security-Policy"]
    if path != "/api/auth/csrf/":
        # Inline code runs only with this response's nonce.
        nonce = policy["script-src"].split("'nonce-")[1].split("'")[0]
        assert f'nonce="{nonce}"' in response.read().decode()


def test_the_console_login_carries_the_protections(production_url):
    host = "localhost:" + production_url.rsplit(":", 1)[1]
    response = fetch(production_url + "/console/login/", host)
    assert response.status == 200
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def cookie_attributes(response, name: str) -> tuple[str, list[str]]:
    header = next(c for c in response.headers.get_all("Set-Cookie") if c.startswith(f"{name}="))
    value, *attributes = [part.strip() for part in header.split(";")]
    return value.split("=", 1)[1], [attribute.lower() for attribute in attributes]


def test_session_and_csrf_cookies_are_secure_and_host_only(production_url, shop_a):
    host = host_of(shop_a, production_url)
    csrf, csrf_attributes = cookie_attributes(fetch(production_url + "/api/auth/csrf/", host), "csrftoken")
    assert "secure" in csrf_attributes
    request = urllib.request.Request(
        production_url + "/api/auth/login/",
        method="POST",
        data=json.dumps({"email": shop_a.owner.email, "password": PASSWORD}).encode(),
        headers={"Host": host, "X-Forwarded-Proto": "https", "Content-Type": "application/json",
                 "X-CSRFToken": csrf, "Referer": f"https://{host}/login", "Cookie": f"csrftoken={csrf}"},
    )  # fmt: skip
    response = urllib.request.build_opener(NoRedirect).open(request, timeout=10)
    assert response.status == 200
    _, attributes = cookie_attributes(response, "sessionid")
    assert "secure" in attributes and "httponly" in attributes and "samesite=lax" in attributes
    assert not any(attribute.startswith("domain=") for attribute in attributes)
