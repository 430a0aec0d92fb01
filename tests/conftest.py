"""Shared fixtures: a migrated platform with a pool, two committed look-alike shops, clients per host."""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django_tenants.utils import schema_context

from billing import wallet
from billing.models import Plan
from config.redis import redis_client
from tenants import provisioning
from tenants.models import Membership, Role, Shop
from tenants.services.lifecycle import apply_plan
from tests.factories import PASSWORD, UserFactory, create_shop
from tests.support.channel import wa_a, wa_b, whatsapp_stack  # noqa: F401 - session fixtures shared by test folders


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database as `make run` would leave it: platform tenant, plans and ready schemas.

    pytest-django creates the test database only when some collected test is marked `django_db`;
    every test module that touches the database carries that mark, and this guard keeps a
    session fixture from ever writing to a real database.
    """
    from django.db import connection

    assert connection.settings_dict["NAME"].startswith("test_"), "tests must never touch a real database"
    with django_db_blocker.unblock():
        call_command("bootstrap_platform", skip_migrate=True, pool=4, verbosity=0)


@pytest.fixture(scope="session")
def committed(django_db_setup, django_db_blocker):
    """Lets a fixture or test write data that other processes (servers, workers) can see."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture(autouse=True)
def _public_schema_between_tests():
    """Every test starts, and leaves, the connection in the public schema (as a request does)."""
    from django.db import connection

    connection.set_schema_to_public()
    yield
    connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _fresh_throttles():
    client = redis_client()
    for key in client.scan_iter(match="*throttle*"):
        client.delete(key)


class ShopWorld:
    """One committed shop with an owner, an admin, an agent, their passwords and a WhatsApp balance."""

    def __init__(self, label: str):
        self.shop, self.owner = create_shop(shop_name=f"Butik {label}", subdomain=f"butik-{label}")
        self.admin = UserFactory(email=f"admin@{label}.test")
        self.agent = UserFactory(email=f"agent@{label}.test")
        Membership.objects.create(user=self.admin, shop=self.shop, role=Role.ADMIN)
        Membership.objects.create(user=self.agent, shop=self.shop, role=Role.AGENT)
        self.host = self.shop.primary_host
        # The Growth plan (10 seats, so invitations have room) and a prepaid WhatsApp balance, so paid
        # templates (order notifications, inbox) can be sent.
        apply_plan(self.shop, Plan.objects.get(code="growth"))
        wallet.credit_top_up(self.shop.pk, 5_000_000, f"test-top-up:{label}")

    def membership(self, user) -> Membership:
        return Membership.objects.get(user=user, shop=self.shop)

    def client(self, user=None) -> Client:
        """A browser-like client on this shop's host, logged in as `user` through the real login API."""
        client = Client(HTTP_HOST=self.host)
        if user is not None:
            response = client.post(
                "/api/auth/login/", {"email": user.email, "password": PASSWORD}, content_type="application/json"
            )
            assert response.status_code == 200, response.content
        return client


@pytest.fixture(scope="session")
def shop_a(committed) -> ShopWorld:
    provisioning.refill_pool(4)
    return ShopWorld("a")


@pytest.fixture(scope="session")
def shop_b(committed) -> ShopWorld:
    provisioning.refill_pool(4)
    return ShopWorld("b")


@pytest.fixture
def portal() -> Client:
    return Client(HTTP_HOST=settings.PLATFORM_HOST)


@pytest.fixture
def in_shop():
    """`with in_shop(shop):` reads a shop's own schema."""

    def enter(shop: Shop):
        return schema_context(shop.schema_name)

    return enter
