"""Per-request shop rules that must hold before any view runs."""

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

ALWAYS_OPEN_PREFIXES = ("/healthz", "/readyz", "/static/", "/webhooks/")


class ShopAccessMiddleware:
    """A suspended shop's staff pages and API answer 403 with a clear message; webhooks still flow."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        shop = getattr(request, "tenant", None)
        suspended = shop is not None and shop.schema_name != "public" and shop.is_suspended
        if suspended and not request.path.startswith(ALWAYS_OPEN_PREFIXES):
            return self._suspended(request, shop)
        return self.get_response(request)

    @staticmethod
    def _suspended(request, shop):
        detail = _("This shop is suspended. Contact Warung CRM support to reactivate it.")
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": detail, "code": "shop_suspended"}, status=403)
        return render(request, "shop_suspended.html", {"shop": shop, "detail": detail}, status=403)
