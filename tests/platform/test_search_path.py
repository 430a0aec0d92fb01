"""With TENANT_LIMIT_SET_CALLS on, a rolled-back savepoint must not leave queries in another shop's schema."""

import pytest
from django.db import connection, transaction
from django_tenants.utils import schema_context

from tenants.activity.models import ActivityEvent

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def test_a_savepoint_rollback_never_leaves_the_search_path_in_the_wrong_shop(shop_a, shop_b, settings):
    assert settings.TENANT_LIMIT_SET_CALLS
    with schema_context(shop_b.shop.schema_name):
        ActivityEvent.objects.create(action="marker", summary="only in B")
    with transaction.atomic():
        connection.set_schema(shop_a.shop.schema_name)
        assert not ActivityEvent.objects.filter(summary="only in B").exists()  # SET search_path to A
        with pytest.raises(Boom), transaction.atomic():  # a savepoint
            connection.set_schema(shop_b.shop.schema_name)
            assert ActivityEvent.objects.filter(summary="only in B").exists()  # SET to B, inside the savepoint
            raise Boom
        # PostgreSQL has reverted the SET to A with the savepoint; the connection still says B.
        assert connection.schema_name == shop_b.shop.schema_name
        assert ActivityEvent.objects.filter(summary="only in B").exists(), "a query ran in shop A's schema"
    connection.set_schema_to_public()


def test_switching_shops_switches_the_search_path(shop_a, shop_b):
    with schema_context(shop_b.shop.schema_name):
        ActivityEvent.objects.create(action="marker", summary="B's row")
    with schema_context(shop_a.shop.schema_name):
        assert not ActivityEvent.objects.filter(summary="B's row").exists()
    with schema_context(shop_b.shop.schema_name):
        assert ActivityEvent.objects.filter(summary="B's row").exists()
