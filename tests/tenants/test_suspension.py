"""A suspended shop: staff see a clear page, the API refuses, data keeps flowing in."""

import pytest

from tenants.models import Shop
from tenants.services.lifecycle import reactivate_shop, suspend_shop
from tests.factories import UserFactory, create_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def suspended():
    shop, owner = create_shop()
    suspend_shop(shop, UserFactory(is_staff=True), reason="unpaid")
    return shop, owner


def test_the_dashboard_shows_the_suspended_page(suspended, client):
    shop, _ = suspended
    page = client.get("/inbox", HTTP_HOST=shop.primary_host)
    assert page.status_code == 403
    assert b"ditangguhkan" in page.content and b"is suspended" in page.content


def test_the_api_refuses_with_a_reason(suspended, client):
    shop, owner = suspended
    response = client.post(
        "/api/auth/login/", {"email": owner.email, "password": "x"}, content_type="application/json",
        HTTP_HOST=shop.primary_host, HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip
    assert response.status_code == 403
    assert response.json()["code"] == "shop_suspended"
    assert "suspended" in response.json()["detail"]


def test_health_probes_and_webhook_paths_stay_open(suspended, client):
    shop, _ = suspended
    assert client.get("/healthz", HTTP_HOST=shop.primary_host).status_code == 200


def test_reactivation_restores_access(suspended, client):
    shop, _ = suspended
    reactivate_shop(shop, UserFactory(is_staff=True))
    assert Shop.objects.get(pk=shop.pk).status == Shop.Status.TRIAL
    assert client.get("/inbox", HTTP_HOST=shop.primary_host).status_code == 200
