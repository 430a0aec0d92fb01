"""Celery: a task runs in the schema of the shop that queued it, on a real worker."""

import pytest
from django_tenants.utils import schema_context

from tenants.activity.models import ActivityEvent
from tenants.activity.tasks import record_activity_task
from tests.support.servers import celery_worker, eventually

pytestmark = [pytest.mark.worker, pytest.mark.django_db]


def events(world, action):
    with schema_context(world.shop.schema_name):
        return list(ActivityEvent.objects.filter(action=action).values_list("summary", flat=True))


def test_a_task_queued_from_shop_a_runs_in_shop_a(shop_a, shop_b):
    with celery_worker():
        with schema_context(shop_a.shop.schema_name):
            record_activity_task.delay(actor_id=None, action="celery.check", summary="queued from A")
        with schema_context(shop_b.shop.schema_name):
            record_activity_task.delay(actor_id=None, action="celery.check", summary="queued from B")

        assert eventually(lambda: events(shop_a, "celery.check") and events(shop_b, "celery.check"))
    assert events(shop_a, "celery.check") == ["queued from A"]
    assert events(shop_b, "celery.check") == ["queued from B"]
