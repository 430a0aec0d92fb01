"""Probes for load balancers and Kubernetes, answered on every host."""

from django.db import connection
from django.http import JsonResponse

from config.redis import redis_client


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
