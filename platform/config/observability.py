"""Request ids and shop context on every log line; logs and Sentry without phone numbers, tokens or messages.

What leaves the machine (Sentry events) and what is written to logs goes through the same `redact()`:
phone numbers in any format (E.164, 62…, 0812…, with spaces or dashes) become `[phone]`, credentials
`[token]`. Sentry events lose in addition everything that may carry a customer's words: request bodies
and query strings, logged arguments, values of variables and keys named like message content, and the
row values PostgreSQL quotes in its error messages. The shop tag stays: it says whose error it is.
"""

import contextvars
import logging
import re
import uuid

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import connection
from django.dispatch import receiver
from pythonjsonlogger.json import JsonFormatter

from config.redaction import redact

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def request_id_for(environ: dict) -> str:
    """A proxy's X-Request-ID when it is sane, else a new one."""
    incoming = environ.get("HTTP_X_REQUEST_ID", "")
    return incoming if 0 < len(incoming) <= 64 else uuid.uuid4().hex


@receiver(request_started)
def _request_started(sender, environ=None, **kwargs):
    """From the first line a request logs to its last (Django logs "Not Found" after the middleware)."""
    request_id_var.set(request_id_for(environ or {}))


@receiver(request_finished)
def _request_finished(sender, **kwargs):
    request_id_var.set("-")


class RequestIdMiddleware:
    """Returns the request's id in X-Request-ID, the one on its log lines and error reports."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request_id_var.get() == "-":  # a handler that does not send request_started
            request_id_var.set(request_id_for(request.META))
        response = self.get_response(request)
        response["X-Request-ID"] = request_id_var.get()
        return response


class RequestContextFilter(logging.Filter):
    """Adds `request_id` and `shop` (the active schema) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.shop = getattr(connection, "schema_name", "-")
        return True


class RedactingJsonFormatter(JsonFormatter):
    """JSON log lines with phone numbers and credentials masked, wherever they are in the line (message,
    exception, extra fields). The record itself is left alone: Sentry's handler reads it too."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


FILTERED = "[Filtered]"
# Keys whose values are a customer's words or number, wherever they appear in an event (sentry's own
# EventScrubber removes them, with its default list of credentials).
SENSITIVE_KEYS = [
    "text", "body", "caption", "message_text", "reply_text", "preview", "last_message_preview", "payload",
    "raw", "note", "content", "phone", "wa_id", "to", "from", "recipient", "recipient_id", "display_phone_number",
    "access_token", "app_secret", "verify_token", "x_hub_signature_256", "x-hub-signature-256",
]  # fmt: skip
# Top-level parts of an event made by the SDK itself (timestamps, versions): nothing of a customer's in them.
_SDK_KEYS = {"event_id", "timestamp", "start_timestamp", "level", "platform", "sdk", "modules", "release",
             "environment", "server_name", "tags", "type", "transaction_info"}  # fmt: skip
# PostgreSQL quotes the row it refused: `Failing row contains (…)`, `Key (wa_id)=(628…) already exists`.
_ROW_VALUES = re.compile(r"(Failing row contains |\)=)\(.*?\)(?= already exists|\.|$)", re.M)


# Sentry's own identifiers, hex strings that may hold a run of digits.
_IDS = {"trace_id", "span_id", "parent_span_id", "event_id"}


def _scrub(value):
    if isinstance(value, str):
        return redact(_ROW_VALUES.sub(lambda m: m.group(1) + "(" + FILTERED + ")", value))
    if isinstance(value, dict):
        return {key: item if key in _IDS else _scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def scrub_event(event: dict, hint=None) -> dict:
    """Sentry's before_send: tags the shop, then removes what may carry a customer's number or words."""
    event.setdefault("tags", {})["shop"] = getattr(connection, "schema_name", "public")
    request = event.get("request")
    if isinstance(request, dict):
        for part in ("data", "query_string", "cookies"):
            if request.get(part):
                request[part] = FILTERED
    logentry = event.get("logentry")
    if isinstance(logentry, dict) and logentry.get("params"):
        logentry["params"] = [FILTERED for _param in logentry["params"]]
        logentry["formatted"] = logentry.get("message", "")
    for key, value in event.items():
        if key not in _SDK_KEYS:
            event[key] = _scrub(value)
    return event


def scrub_breadcrumb(crumb: dict, hint=None) -> dict:
    """Breadcrumbs (log lines, HTTP calls, queries before the error) are scrubbed the same way; a log line keeps
    its template, not the values put into it."""
    record = (hint or {}).get("log_record")
    if record is not None and record.args:
        crumb["message"] = str(record.msg)
    if crumb.get("category") == "query":
        crumb.pop("data", None)  # query parameters
    return _scrub(crumb)


def sentry_options(dsn: str) -> dict:
    """The SDK's settings: the one place that decides what an error report may carry."""
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

    return {
        "dsn": dsn,
        "environment": settings.DJANGO_ENV,
        "send_default_pii": False,
        "integrations": [DjangoIntegration(), CeleryIntegration()],
        "event_scrubber": EventScrubber(denylist=DEFAULT_DENYLIST + SENSITIVE_KEYS, recursive=True),
        "before_send": scrub_event,
        "before_breadcrumb": scrub_breadcrumb,
        "max_request_body_size": "never",
        "traces_sample_rate": 0.0,
    }


def init_sentry() -> None:
    """Starts Sentry when SENTRY_DSN is set; personal data stays home."""
    if not settings.SENTRY_DSN:
        return
    import sentry_sdk

    sentry_sdk.init(**sentry_options(settings.SENTRY_DSN))
