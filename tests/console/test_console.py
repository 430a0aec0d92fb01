"""The operator console: only platform staff; shops searchable; suspension with an audit trail."""

import pytest
from django.test import Client

from console.models import OperatorAction
from tenants.models import Shop
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(portal):
    operator = UserFactory(is_staff=True, is_superuser=True)
    assert portal.login(email=operator.email, password=PASSWORD)
    return portal, operator


def test_only_platform_staff_get_in(portal, shop_a):
    assert portal.get("/console/").status_code == 302  # to the console's login
    assert portal.login(email=shop_a.owner.email, password=PASSWORD)  # a shop owner is no operator
    assert portal.get("/console/tenants/shop/").status_code == 302
    on_shop_domain = Client(HTTP_HOST=shop_a.host).get("/console/").content
    assert b"operator console" not in on_shop_domain  # only the dashboard lives on a shop's domain


def test_shops_are_listed_searchable_and_filterable(operator_client, shop_a, shop_b):
    client, _ = operator_client
    page = client.get("/console/tenants/shop/", {"q": shop_a.owner.email}).content.decode()
    assert shop_a.shop.name in page and shop_b.shop.name not in page
    active = client.get("/console/tenants/shop/", {"status": "active"}).content.decode()
    assert shop_a.shop.name in active
    assert shop_a.shop.name not in client.get("/console/tenants/shop/", {"status": "trial"}).content.decode()
    detail = client.get(f"/console/tenants/shop/{shop_a.shop.pk}/change/").content.decode()
    assert shop_a.agent.email in detail  # members at a glance
    assert "messages in" in detail  # and usage


def test_pool_schemas_are_not_shown_as_shops(operator_client):
    client, _ = operator_client
    page = client.get("/console/tenants/shop/").content.decode()
    pool = Shop.objects.filter(status=Shop.Status.POOL).first()
    assert pool is not None and f"/console/tenants/shop/{pool.pk}/change/" not in page


def test_suspending_and_reactivating_is_audited(operator_client, shop_a):
    client, operator = operator_client
    response = client.post(
        "/console/tenants/shop/", {"action": "suspend", "_selected_action": [shop_a.shop.pk]}, follow=True
    )
    assert response.status_code == 200
    shop_a.shop.refresh_from_db()
    assert shop_a.shop.status == Shop.Status.SUSPENDED
    client.post("/console/tenants/shop/", {"action": "reactivate", "_selected_action": [shop_a.shop.pk]})
    shop_a.shop.refresh_from_db()
    assert shop_a.shop.status == Shop.Status.ACTIVE  # back to what its paid plan makes it
    actions = list(OperatorAction.objects.filter(shop=shop_a.shop).values_list("action", "operator"))
    assert actions == [("shop.reactivated", operator.pk), ("shop.suspended", operator.pk)]


def test_the_operator_sees_quarantined_webhooks_and_refusals_but_no_secrets(operator_client, wa_a):
    from tests.whatsapp import webhooks

    client, _ = operator_client
    webhooks.post(client, webhooks.inbound_text("555000111", "6281234567890", "halo"), "x")
    webhooks.post(client, webhooks.inbound_text(wa_a.number, "6281234567890", "halo"), "forged")
    page = client.get("/console/whatsapp_channel/webhookintake/", {"status": "quarantined"}).content.decode()
    assert "555000111" in page and "refused" in page
    account_page = client.get("/console/whatsapp_channel/whatsappaccount/", {"q": wa_a.number}).content.decode()
    assert wa_a.shop.name in account_page
    detail = client.get(f"/console/whatsapp_channel/whatsappaccount/{_account_id(wa_a)}/change/").content.decode()
    assert wa_a.number in detail
    assert wa_a.secret not in detail and wa_a.token not in detail


def _account_id(world) -> int:
    from whatsapp.channel.models import WhatsAppAccount

    return WhatsAppAccount.objects.get(phone_number_id=world.number).pk
