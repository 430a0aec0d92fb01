"""Request ids and shop context on every log line; Sentry without personal data."""

import contextvars
import logging
import uuid

from django.conf import settings
from django.db import connection

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestIdMiddleware:
    """Tags the request (and its log lines and response) with an id, reusing a proxy's X-Request-ID."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if 0 < len(incoming) <= 64 else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestContextFilter(logging.Filter):
    """Adds `request_id` and `shop` (the active schema) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.shop = getattr(connection, "schema_name", "-")
        return True


def init_sentry() -> None:
    """Starts Sentry when SENTRY_DSN is set; personal data stays home."""
    if not settings.SENTRY_DSN:
        return
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    def tag_shop(event, hint):
        event.setdefault("tags", {})["shop"] = getattr(connection, "schema_name", "public")
        return event

    sentry_sdk.init(
        dsn=settings.SENTRY_DSN,
        environment=settings.DJANGO_ENV,
        send_default_pii=False,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        before_send=tag_shop,
        traces_sample_rate=0.0,
    )
