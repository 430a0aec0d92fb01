"""Per-request shop rules that must hold before any view runs."""

from django.db import DatabaseError
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django_tenants.middleware.main import TenantMainMiddleware

ALWAYS_OPEN_PREFIXES = ("/healthz", "/readyz", "/static/", "/webhooks/")
# What a read-only shop (trial over, payment overdue) may still do: log in, pay, and take its data out.
READ_ONLY_OPEN_PREFIXES = ("/api/auth/", "/api/billing/", "/api/data/")
# What a shop waiting for its deletion may still do: log in, take its data out, and cancel the deletion.
DELETION_PENDING_OPEN_PREFIXES = ("/api/auth/", "/api/data/", "/api/shop/deletion/")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ShopLookupMiddleware(TenantMainMiddleware):
    """django-tenants' host → shop → search_path, except that the health probes answer while PostgreSQL is away.

    The shop lookup reads the database before any view runs; without this, a database outage turned /healthz
    into a 500 (Kubernetes' liveness probe would then restart every healthy web pod, which then could not even
    answer Meta's webhooks with the 500 Meta retries) and /readyz into a 500 that does not say what is missing.
    """

    def process_request(self, request):
        try:
            return super().process_request(request)
        except DatabaseError:
            from config.health import healthz, readyz

            probe = {"/healthz": healthz, "/readyz": readyz}.get(request.path_info)
            if probe is None:
                raise
            return probe(request)


class ShopAccessMiddleware:
    """A suspended shop's staff pages and API answer 403 with a clear message; webhooks still flow.

    A read-only shop (see billing.access) can read everything but change only its billing (402).
    A shop waiting for its deletion (tenants.services.deletion) can read and export, and cancel (409).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        shop = getattr(request, "tenant", None)
        suspended = shop is not None and shop.schema_name != "public" and shop.is_suspended
        if suspended and not request.path.startswith(ALWAYS_OPEN_PREFIXES):
            return self._suspended(request, shop)
        writing = (
            shop is not None
            and shop.schema_name != "public"
            and request.method not in SAFE_METHODS
            and request.path.startswith("/api/")
        )
        if writing and shop.is_deletion_pending and not request.path.startswith(DELETION_PENDING_OPEN_PREFIXES):
            detail = _("This shop is scheduled for deletion: cancel the deletion in Settings > Shop to change it.")
            return JsonResponse({"detail": detail, "code": "deletion_pending"}, status=409)
        if writing and not request.path.startswith(READ_ONLY_OPEN_PREFIXES):
            from billing.access import read_only_reason

            reason = read_only_reason(shop)
            if reason:
                return JsonResponse({"detail": reason, "code": "read_only"}, status=402)
        return self.get_response(request)

    @staticmethod
    def _suspended(request, shop):
        detail = _("This shop is suspended. Contact Warung CRM support to reactivate it.")
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": detail, "code": "shop_suspended"}, status=403)
        return render(request, "shop_suspended.html", {"shop": shop, "detail": detail}, status=403)
