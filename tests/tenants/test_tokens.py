"""API tokens for integrations: shown once, valid on their shop only, revocable, never managing people."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def create_token(world, name="Spreadsheet sync", scopes=("team:read", "contacts:write")):
    response = world.client(world.owner).post(
        "/api/tokens/", {"name": name, "scopes": list(scopes)}, content_type="application/json"
    )
    assert response.status_code == 201
    return response.json()


def bearer(world, secret: str) -> Client:
    return Client(HTTP_HOST=world.host, HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_a_token_is_shown_once_and_works_on_its_shop(shop_a):
    created = create_token(shop_a)
    assert created["token"].startswith("wrg_")
    listed = shop_a.client(shop_a.owner).get("/api/tokens/").json()
    assert [t["token"] for t in listed if t["id"] == created["id"]] == [None]
    members = bearer(shop_a, created["token"]).get("/api/team/members/")
    assert members.status_code == 200
    assert {m["email"] for m in members.json()} >= {shop_a.owner.email}


def test_a_token_is_worthless_on_another_shop_and_after_revocation(shop_a, shop_b):
    created = create_token(shop_a)
    assert bearer(shop_b, created["token"]).get("/api/team/members/").status_code == 401
    shop_a.client(shop_a.owner).delete(f"/api/tokens/{created['id']}/")
    assert bearer(shop_a, created["token"]).get("/api/team/members/").status_code == 401


def test_a_token_cannot_manage_people_or_tokens(shop_a):
    secret = create_token(shop_a)["token"]
    client = bearer(shop_a, secret)
    assert (
        client.post(
            "/api/team/invitations/", {"email": "a@b.test", "role": "owner"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert client.post("/api/tokens/", {"name": "more"}, content_type="application/json").status_code == 403


def test_agents_cannot_create_tokens(shop_a):
    response = shop_a.client(shop_a.agent).post(
        "/api/tokens/", {"name": "x", "scopes": ["contacts:read"]}, content_type="application/json"
    )
    assert response.status_code == 403
