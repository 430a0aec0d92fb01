"""Probes for load balancers and Kubernetes, answered on every host; and what a request gets while the
database is away."""

import sys

from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views import defaults

from config.redis import redis_client

# A restart or failover of PostgreSQL: connections refused or cut (Django's wrappers of the driver's errors).
DATABASE_AWAY = (InterfaceError, OperationalError)
RETRY_AFTER_SECONDS = 5


def healthz(request):
    """The process is up."""
    return JsonResponse({"status": "ok"})


def readyz(request):
    """The process can serve: PostgreSQL and Redis answer."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        redis_client().ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {exc.__class__.__name__}"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


def server_error(request):
    """handler500. A database that is away (a restart, a failover) is a 503 with Retry-After: a moment's wait,
    not a bug, and the dashboard and API clients can say so and try again. Anything else is Django's 500."""
    if not isinstance(sys.exc_info()[1], DATABASE_AWAY):
        return defaults.server_error(request)
    # The language middleware may not have run (the shop's lookup needs the database): the browser's language.
    with translation.override(translation.get_language_from_request(request)):
        message = _("Warung CRM is briefly unavailable. Try again in a few seconds.")
    if request.path.startswith("/api/") or "text/html" not in request.headers.get("Accept", ""):
        response = JsonResponse({"detail": message, "code": "unavailable"}, status=503)
    else:
        response = HttpResponse(f"<!doctype html><title>503</title><p>{escape(message)}</p>", status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
