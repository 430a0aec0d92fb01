"""The web server's entry point: Django, except that WhatsApp's webhook POSTs are answered before its middleware.

Meta sends every message and status of every shop to one URL on the platform domain. On that request
nothing in the middleware stack applies (no session, user, CSRF, language, shop lookup: the platform
domain has no shop to find), and the stack was most of the request's cost. So gunicorn serves
`application` (infra/gunicorn.conf.py): a POST to the intake URL on the platform host runs the same
`intake.answer()` as the Django view, with Django's per-request connection handling around it;
everything else, the GET handshake and other hosts included, goes to Django unchanged.
"""

import logging
import uuid

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import InterfaceError, OperationalError, connection
from django_tenants.utils import get_public_schema_name

from config.wsgi import application as django_application

from . import intake

logger = logging.getLogger(__name__)

PATH = "/webhooks/whatsapp/"
STATUS_LINES = {200: "200 OK", 400: "400 Bad Request", 401: "401 Unauthorized", 500: "500 Internal Server Error"}


def application(environ, start_response):
    if environ.get("PATH_INFO") == PATH and environ.get("REQUEST_METHOD") == "POST" and _on_platform_host(environ):
        return _webhook(environ, start_response)
    return django_application(environ, start_response)


def _on_platform_host(environ) -> bool:
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    return host.rsplit(":", 1)[0].lower() == settings.PLATFORM_HOST.lower()


def _webhook(environ, start_response):
    request_started.send(sender=__name__, environ=environ)  # connection age, as Django does
    # Django would ask the database `SELECT 1` before the request's first query (CONN_HEALTH_CHECKS): here the
    # intake's own statements are the check, and a broken connection is replaced and the request answered again
    # (`_answer`), so the one round trip the intake needs is not two.
    connection.health_check_done = True
    try:
        status, content_type, body = _handle(environ)
    finally:
        request_finished.send(sender=__name__)
    incoming = environ.get("HTTP_X_REQUEST_ID", "")
    start_response(
        STATUS_LINES.get(status, str(status)),
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("X-Request-ID", incoming if 0 < len(incoming) <= 64 else uuid.uuid4().hex),
        ],
    )
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
    except Exception:
        logger.exception("webhook intake failed")  # Meta retries a 500
        return intake.render(500, "Server error.")


def _answer(raw: bytes, signature: str | None) -> tuple[int, str, bytes]:
    """The intake's answer; once more on a new connection if the kept one turns out broken."""
    try:
        return _answer_in_public(raw, signature)
    except (InterfaceError, OperationalError):
        if connection.in_atomic_block:
            raise
        logger.warning("database connection lost; answering the webhook on a new one")
        connection.close()
        return _answer_in_public(raw, signature)


def _answer_in_public(raw: bytes, signature: str | None) -> tuple[int, str, bytes]:
    if connection.schema_name != get_public_schema_name():
        connection.set_schema_to_public()  # the routing table and intake live in the public schema
    return intake.answer(raw, signature)
