"""The web server's entry point: Django, except that WhatsApp's webhook POSTs are answered before its middleware.

Meta sends every message and status of every shop to one URL on the platform domain. On that request
nothing in the middleware stack applies (no session, user, CSRF, language, shop lookup: the platform
domain has no shop to find), and the stack was most of the request's cost. So gunicorn serves
`application` (infra/gunicorn.conf.py): a POST to the intake URL on the platform host runs the same
`intake.answer()` as the Django view, with Django's per-request connection handling around it;
everything else, the GET handshake and other hosts included, goes to Django unchanged. Prometheus's
scrape of /metrics with the operator's token is answered here too, on any Host (see `_metrics`).
"""

import logging
import time

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import connection
from django_tenants.utils import get_public_schema_name

from config.health import DATABASE_AWAY, RETRY_AFTER_SECONDS
from config.metrics import CONTENT_TYPE_LATEST, REQUEST_LATENCY, exposition, token_matches
from config.observability import request_id_var
from config.wsgi import application as django_application

from . import intake

logger = logging.getLogger(__name__)

PATH = "/webhooks/whatsapp/"
WEBHOOK_VIEW = "whatsapp-webhook"  # the Django route's name, so both entry points share one latency series
STATUS_LINES = {
    200: "200 OK", 400: "400 Bad Request", 401: "401 Unauthorized", 500: "500 Internal Server Error",
    503: "503 Service Unavailable",
}  # fmt: skip


def application(environ, start_response):
    if environ.get("PATH_INFO") == PATH and environ.get("REQUEST_METHOD") == "POST" and _on_platform_host(environ):
        return _webhook(environ, start_response)
    if environ.get("PATH_INFO") == "/metrics" and token_matches(environ.get("HTTP_AUTHORIZATION", "")):
        return _metrics(environ, start_response)
    return django_application(environ, start_response)


def _metrics(environ, start_response):
    """Prometheus, with METRICS_TOKEN, scrapes each web pod at its own address (it cannot send the platform's
    Host); anyone else asks Django, where /metrics exists on the platform domain only."""
    request_started.send(sender=__name__, environ=environ)
    try:
        body = exposition()
    finally:
        request_finished.send(sender=__name__)
    start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))])
    return [body]


def _on_platform_host(environ) -> bool:
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    return host.rsplit(":", 1)[0].lower() == settings.PLATFORM_HOST.lower()


def _webhook(environ, start_response):
    started = time.perf_counter()
    # As Django does: connection age, and the request id on its log lines.
    request_started.send(sender=__name__, environ=environ)
    request_id = request_id_var.get()
    # Django would ask the database `SELECT 1` before the request's first query (CONN_HEALTH_CHECKS): here the
    # intake's own statements are the check, and a broken connection is replaced and the request answered again
    # (`_answer`), so the one round trip the intake needs is not two.
    connection.health_check_done = True
    try:
        status, content_type, body = _handle(environ)
    finally:
        request_finished.send(sender=__name__)
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), ("X-Request-ID", request_id)]
    if status == 503:
        headers.append(("Retry-After", str(RETRY_AFTER_SECONDS)))
    start_response(STATUS_LINES.get(status, str(status)), headers)
    REQUEST_LATENCY.labels(view=WEBHOOK_VIEW).observe(time.perf_counter() - started)
    return [body]


def _handle(environ) -> tuple[int, str, bytes]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = -1
    if length < 0:
        return intake.render(400, "Bad Content-Length.")
    if length > intake.MAX_BODY_BYTES:
        return intake.render(400, "Body larger than 3 MB.")
    try:
        return _answer(environ["wsgi.input"].read(length), environ.get("HTTP_X_HUB_SIGNATURE_256"))
    except DATABASE_AWAY:
        logger.exception("webhook intake failed: the database is away")  # Meta retries it, as any 5xx
        return intake.render(503, "Database unavailable; retry later.")
    except Exception:
        logger.exception("webhook intake failed")  # Meta retries a 500
        return intake.render(500, "Server error.")


def _answer(raw: bytes, signature: str | None) -> tuple[int, str, bytes]:
    """The intake's answer; once more on a new connection if the kept one turns out broken."""
    try:
        return _answer_in_public(raw, signature)
    except DATABASE_AWAY:
        if connection.in_atomic_block:
            raise
        logger.warning("database connection lost; answering the webhook on a new one")
        connection.close()
        return _answer_in_public(raw, signature)


def _answer_in_public(raw: bytes, signature: str | None) -> tuple[int, str, bytes]:
    if connection.schema_name != get_public_schema_name():
        connection.set_schema_to_public()  # the routing table and intake live in the public schema
    return intake.answer(raw, signature)
