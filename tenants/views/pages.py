"""HTML: the single-page app's shell on every host, and friendly error pages."""

import json
from functools import lru_cache

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from ..serializers import ShopSerializer

CONFIG_PLACEHOLDER = "<!--app-config-->"


@lru_cache(maxsize=1)
def _built_index() -> str | None:
    index = settings.FRONTEND_DIST / "index.html"
    return index.read_text() if index.exists() else None


def _index_html() -> str | None:
    return _built_index() if not settings.DEBUG else (_built_index.cache_clear() or _built_index())


@ensure_csrf_cookie
def spa(request, **_):
    """Serves the dashboard (shop host) or the signup portal (bare host) with its config inlined."""
    shop = request.tenant if request.tenant.schema_name != "public" else None
    config = {
        "mode": "shop" if shop else "portal",
        "platformDomain": settings.PLATFORM_DOMAIN,
        "shop": ShopSerializer(shop).data if shop else None,
    }
    html = _index_html()
    if html is None:
        return HttpResponse(
            "The dashboard is not built yet: run `make frontend`.", status=503, content_type="text/plain"
        )
    # `</` is escaped so a shop name can never close the script tag; the nonce lets it past the CSP.
    payload = json.dumps(config).replace("</", "<\\/")
    script = f'<script nonce="{request.csp_nonce}">window.__WARUNG__ = {payload};</script>'
    return HttpResponse(html.replace(CONFIG_PLACEHOLDER, script))


def unknown_shop(request, **_):
    """A host that is no shop: a friendly page, not a stack trace."""
    return render(
        request,
        "unknown_shop.html",
        {
            "host": request.get_host().split(":")[0],
            "portal": f"{settings.PLATFORM_SCHEME}://{settings.PLATFORM_DOMAIN}/",
        },
        status=404,
    )
