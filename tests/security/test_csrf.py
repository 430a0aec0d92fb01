"""A logged-in browser session cannot be made to write by another site: every unsafe API call of the shop
without the CSRF token is refused, whatever its body; the operator console likewise."""

import re

import pytest
from django.test import Client

from tests.factories import PASSWORD, UserFactory
from tests.tenants.test_isolation import api_routes

pytestmark = pytest.mark.django_db

UNSAFE = ["post", "put", "patch", "delete"]
BODIES = [
    {"data": {"name": "x"}, "content_type": "application/json"},
    {"data": {"name": "x"}},  # a form, as a cross-site <form> would send it
]


def concrete(route: str) -> str:
    """Any id will do: the CSRF check comes before the object is looked up."""
    return "/" + re.sub(r"<int:\w+>", "1", re.sub(r"<str:\w+>", "x", route))


def enforcing(client: Client) -> Client:
    """The logged-in client, now checking CSRF as a browser's request is checked."""
    client.handler.enforce_csrf_checks = True
    return client


def refused(response) -> bool:
    """403 for the missing token; a body the route cannot even parse (415) is refused before the check."""
    if response.status_code == 415:
        return True
    if response.status_code != 403:
        return False
    return b"CSRF" in response.content or not response["Content-Type"].startswith("application/json")


def test_every_unsafe_shop_route_refuses_a_session_without_the_csrf_token(shop_a):
    session = enforcing(shop_a.client(shop_a.owner))
    accepted = []
    for route in api_routes():
        for method in UNSAFE:
            for body in BODIES if method == "post" else BODIES[:1]:
                response = getattr(session, method)(concrete(route), **body)
                if not refused(response):
                    accepted.append((method.upper(), route, body.get("content_type", "form"), response.status_code))
    assert accepted == [], "\n".join(map(str, accepted))


def test_with_the_token_the_same_session_writes(shop_a):
    session = enforcing(shop_a.client(shop_a.owner))
    token = session.get("/api/auth/csrf/").cookies["csrftoken"].value
    refused = session.post(
        "/api/team/invitations/", {"email": "csrf@example.test", "role": "agent"}, content_type="application/json"
    )
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    response = session.post(
        "/api/team/invitations/",
        {"email": "csrf@example.test", "role": "agent"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 201


def test_the_console_refuses_an_operator_form_without_the_csrf_token(portal, shop_b):
    operator = UserFactory(is_staff=True, is_superuser=True)
    assert portal.login(email=operator.email, password=PASSWORD)
    enforcing(portal)
    response = portal.post(f"/console/tenants/shop/{shop_b.shop.pk}/change/", {"name": "Hijacked"})
    assert response.status_code == 403
    shop_b.shop.refresh_from_db()
    assert shop_b.shop.name != "Hijacked"
