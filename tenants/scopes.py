"""What an API token may do: one permission per area of the API, read or write (write includes read).

The area of a request comes from its route, so a new endpoint under a known prefix is covered at once;
a route under no prefix here is closed to every token (tests/tenants/test_token_scopes.py lists them).
"""

from django.utils.translation import gettext_lazy as _

# area: (label shown in Settings > API tokens, the verb of its write permission)
AREAS = {
    "contacts": (_("Contacts, labels, fields, segments and imports"), "write"),
    "orders": (_("Products and orders"), "write"),
    "deals": (_("Pipeline and deals"), "write"),
    "messages": (_("Inbox conversations and messages"), "send"),
    "broadcasts": (_("Broadcasts"), "write"),
    "whatsapp": (_("WhatsApp settings, auto-replies and templates"), "write"),
    "analytics": (_("Analytics"), None),
    "billing": (_("Billing"), None),
    "team": (_("Team members (read only)"), None),
}

# Route prefixes (after `api/`), longest first when they overlap.
PREFIXES = {
    "crm/contacts/": "contacts",
    "crm/labels/": "contacts",
    "crm/attributes/": "contacts",
    "crm/segments/": "contacts",
    "crm/rfm/": "contacts",
    "crm/imports/": "contacts",
    "crm/products/": "orders",
    "crm/variants/": "orders",
    "crm/orders/": "orders",
    "crm/order-notifications/": "orders",
    "crm/stages/": "deals",
    "crm/deals/": "deals",
    "crm/pipeline/": "deals",
    "crm/analytics/": "analytics",
    "inbox/": "messages",
    "broadcasts/": "broadcasts",
    "whatsapp/": "whatsapp",
    "billing/": "billing",
    "team/": "team",
}

# POSTs that only compute an answer from the body and change nothing.
READING_POSTS = {"api/crm/segments/preview/", "api/whatsapp/auto-replies/test/"}


def read_scope(area: str) -> str:
    return f"{area}:read"


def write_scope(area: str) -> str | None:
    verb = AREAS[area][1]
    return f"{area}:{verb}" if verb else None


ALL_SCOPES = [scope for area in AREAS for scope in (read_scope(area), write_scope(area)) if scope]


def area_of(route: str) -> str | None:
    path = route.removeprefix("api/")
    for prefix, area in PREFIXES.items():
        if path.startswith(prefix):
            return area
    return None


def required_scope(route: str, method: str) -> str | None:
    """The permission a token needs for this call, or None if no token may make it."""
    area = area_of(route)
    if area is None:
        return None
    if method in ("GET", "HEAD", "OPTIONS") or route in READING_POSTS:
        return read_scope(area)
    return write_scope(area)


def grants(scopes: list[str], required: str) -> bool:
    """Write includes read."""
    if required in scopes:
        return True
    area, verb = required.split(":")
    return verb == "read" and write_scope(area) in scopes
