"""WhatsApp fixtures: processing helpers (the connected numbers `wa_a`, `wa_b` come from tests/support/channel.py)."""

import pytest
from django_tenants.utils import schema_context

from whatsapp.channel.models import WebhookIntake
from whatsapp.tasks import process_intake


@pytest.fixture
def process():
    """Runs the processing task for a shop's pending intake rows, as a worker would."""

    def run(world) -> int:
        handled = 0
        pending = WebhookIntake.objects.filter(shop=world.shop, status=WebhookIntake.Status.PENDING).order_by("pk")
        with schema_context(world.shop.schema_name):
            for intake in pending:
                handled += process_intake(intake.pk)
        return handled

    return run


@pytest.fixture
def in_schema():
    def enter(world):
        return schema_context(world.shop.schema_name)

    return enter
