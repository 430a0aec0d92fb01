"""Error reports and logs: they say which shop and which request, and never carry a customer's phone number, a
message's words or a credential.

Sentry is the real SDK with the production options (`sentry_options`); only its transport is ours, the SDK's
own extension point, so the envelopes that would have left the machine are kept here and read whole.
"""

import io
import json
import logging
from wsgiref.util import setup_testing_defaults

import httpx
import pytest
import sentry_sdk
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django_tenants.utils import schema_context
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from config.observability import RedactingJsonFormatter, sentry_options
from config.redaction import redact
from config.wsgi import application as django_application
from tests.support.servers import ARTIFACTS, eventually

pytestmark = pytest.mark.django_db

PHONES = ["6281234567890", "+62 812-3456-7890", "0812 3456 7890", "081234567890"]
DIGITS = ["81234567890", "812-3456-7890", "812 3456 7890", "3456-7890", "3456 7890"]
WORDS = "gamis hitam ukuran XL buat lebaran"
TOKEN = "EAAGm0PX4ZCpsBAKZBxyzSECRETaccessTOKEN1234"


class KeptEnvelopes(Transport):
    """A Sentry transport that keeps what it would have sent."""

    def __init__(self, options=None):
        super().__init__(options)
        self.sent: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.sent.append(envelope)

    def text(self) -> str:
        return "\n".join(envelope.serialize().decode() for envelope in self.sent)

    def events(self) -> list[dict]:
        return [item.payload.json for envelope in self.sent for item in envelope.items if item.type == "event"]


@pytest.fixture
def sentry():
    transport = KeptEnvelopes()
    options = sentry_options("https://public@sentry.example.invalid/1") | {"transport": transport}
    with sentry_sdk.init(**options):
        yield transport
        sentry_sdk.flush()


def assert_nothing_personal(text: str) -> None:
    for secret in [*PHONES, *DIGITS, WORDS, "lebaran", TOKEN]:
        assert secret not in text, f"{secret!r} left the machine"


def place_order(text: str, wa_id: str, payload: dict):
    """A function whose local variables hold a customer's words and number when it fails."""
    body, phone, note = text, wa_id, f"from {wa_id}: {text}"  # noqa: F841 - they are what the report must not carry
    raise ValueError(f"could not send to {wa_id} with {TOKEN}")


def test_an_error_report_keeps_the_shop_and_loses_numbers_words_and_tokens(sentry, shop_a):
    logger = logging.getLogger("tests.sentry")
    with schema_context(shop_a.shop.schema_name):
        logger.info("customer %s wrote %s", PHONES[1], WORDS)  # becomes a breadcrumb
        logger.warning("retrying %s", PHONES[2])  # a breadcrumb too
        try:
            place_order(WORDS, PHONES[0], {"text": {"body": WORDS}, "to": PHONES[3]})
        except ValueError:
            sentry_sdk.capture_exception()
        logger.error("sending to %s failed: %s", PHONES[0], WORDS)  # an event of its own

    sentry_sdk.flush()
    events = sentry.events()
    assert len(events) == 2
    assert {event["tags"]["shop"] for event in events} == {shop_a.shop.schema_name}
    exception = events[0]["exception"]["values"][-1]
    assert exception["type"] == "ValueError" and "could not send to [phone]" in exception["value"]
    frame = exception["stacktrace"]["frames"][-1]
    assert frame["function"] == "place_order" and set(frame["vars"]) >= {"body", "phone", "note", "payload"}
    assert any(crumb.get("message") for crumb in events[0]["breadcrumbs"]["values"])  # breadcrumbs still there
    assert_nothing_personal(sentry.text())


def test_a_failed_request_reports_no_body_query_or_cookie(sentry):
    """A webhook whose number PostgreSQL cannot store fails inside the intake: Django's integration reports it
    with the request, which carried a customer's message. Served by the production WSGI handler."""
    payload = {
        "entry": [{"changes": [{"value": {
            "metadata": {"phone_number_id": "\u0000" + PHONES[0]},
            "messages": [{"from": PHONES[0], "type": "text", "text": {"body": WORDS}}],
        }}]}],
    }  # fmt: skip
    raw = json.dumps(payload).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/webhooks/whatsapp/",
        "QUERY_STRING": f"from={PHONES[3]}&access_token={TOKEN}",
        "HTTP_HOST": settings.PLATFORM_DOMAIN,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(raw)),
        "HTTP_COOKIE": f"note={WORDS.replace(' ', '_')}",
        "wsgi.input": io.BytesIO(raw),
    }
    setup_testing_defaults(environ)
    statuses = []
    # The test's database connection sits in a transaction: keep Django from closing it around the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        b"".join(django_application(environ, lambda status, headers: statuses.append(status)))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    assert statuses == ["500 Internal Server Error"]

    sentry_sdk.flush()
    [event] = sentry.events()
    assert event["request"]["url"].endswith("/webhooks/whatsapp/") and event["request"]["method"] == "POST"
    assert event["tags"]["shop"] == "public"
    assert_nothing_personal(sentry.text())


def test_postgresql_row_values_in_error_messages_are_hidden(sentry, shop_a):
    """PostgreSQL quotes the refused row; the report keeps the reason, not the customer's data."""
    from django.db import IntegrityError, transaction

    from crm.models import Contact

    with schema_context(shop_a.shop.schema_name):
        try:
            with transaction.atomic():
                Contact.objects.create(wa_id=PHONES[0], name="Sari", phone="+6281234567890")
                Contact.objects.create(wa_id=PHONES[0], name="Sari lagi", phone="+6281234567890")
        except IntegrityError:
            sentry_sdk.capture_exception()
    sentry_sdk.flush()
    value = sentry.events()[0]["exception"]["values"][-1]["value"]
    assert "already exists" in value
    assert_nothing_personal(sentry.text())


# --- logs


@pytest.fixture
def log_lines():
    """The JSON lines the configured console handler writes (its formatter and filters), kept for reading."""
    [configured] = [h for h in logging.getLogger().handlers if isinstance(h.formatter, RedactingJsonFormatter)]
    kept = io.StringIO()
    handler = logging.StreamHandler(kept)
    handler.setFormatter(configured.formatter)
    for log_filter in configured.filters:
        handler.addFilter(log_filter)
    logging.getLogger().addHandler(handler)
    yield lambda: [json.loads(line) for line in kept.getvalue().splitlines()]
    logging.getLogger().removeHandler(handler)


def test_log_lines_carry_the_request_id_and_the_shop_and_never_a_number_or_token(shop_a, log_lines):
    missing = shop_a.client().get(
        f"/api/crm/contacts/by-phone/{PHONES[0]}/wrg_{TOKEN}/", HTTP_X_REQUEST_ID="req-obs-1"
    )  # an unknown URL: Django logs "Not Found" with the path
    assert missing.status_code == 404 and missing["X-Request-ID"] == "req-obs-1"
    lines = [line for line in log_lines() if line.get("request_id") == "req-obs-1"]
    assert lines and lines[0]["shop"] == shop_a.shop.schema_name and lines[0]["message"].startswith("Not Found")
    assert "[phone]" in lines[0]["message"] and "[token]" in lines[0]["message"]
    assert_nothing_personal(json.dumps(lines))


def test_a_logged_exception_is_redacted_too(log_lines):
    logger = logging.getLogger("tests.logs")
    try:
        raise RuntimeError(f"Graph refused {PHONES[1]} with Bearer {TOKEN}")
    except RuntimeError:
        logger.exception("send failed for %s", PHONES[2])
    [line] = [line for line in log_lines() if line.get("logger") == "tests.logs"]
    assert line["message"] == "send failed for [phone]" and "RuntimeError" in line["exc_info"]
    assert line["request_id"] == "-" and line["shop"] == "public"  # outside a request, in no shop
    assert_nothing_personal(json.dumps(line))


def test_dates_and_amounts_survive_redaction():
    assert redact("paid 150000 on 2026-12-02 21:38:40") == "paid 150000 on 2026-12-02 21:38:40"
    assert redact("to +62 812-3456-7890 and 0812 3456 7890") == "to [phone] and [phone]"


def json_or_none(line: str) -> dict | None:
    """A log line as JSON; None for one that another process's write cut into (the servers share one file)."""
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        return None


@pytest.mark.worker
def test_the_web_servers_access_log_is_json_with_the_request_id_and_shop_and_nothing_secret(whatsapp_stack):
    stack = whatsapp_stack
    shop = {"Host": stack.world.host}
    httpx.get(f"{stack.web}/api/crm/contacts/", params={"search": PHONES[3]}, timeout=10,
              headers=shop | {"X-Request-ID": "req-access-1"})  # fmt: skip
    httpx.get(f"{stack.web}/auth/handoff/one-time-ticket-4242/", headers=shop | {"X-Request-ID": "req-access-2"})

    def lines() -> list[dict]:
        text = (ARTIFACTS / "web.log").read_text(errors="replace")
        found = [parsed for line in text.splitlines() if '"gunicorn.access"' in line and (parsed := json_or_none(line))]
        return found if {"req-access-1", "req-access-2"} <= {line["request_id"] for line in found} else []

    found = eventually(lines, timeout=10)
    assert found, "both requests are in the access log"
    search = next(line for line in found if line["request_id"] == "req-access-1")
    assert search["shop"] == stack.world.shop.schema_name and search["message"].startswith("GET /api/crm/contacts/")
    text = (ARTIFACTS / "web.log").read_text(errors="replace")
    assert PHONES[3] not in text and "one-time-ticket-4242" not in text
