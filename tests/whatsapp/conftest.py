"""WhatsApp fixtures: connected numbers for the two look-alike shops, and processing helpers."""

import pytest
from django_tenants.utils import schema_context

from whatsapp.channel.models import WebhookIntake, WhatsAppAccount
from whatsapp.channel.services import connect
from whatsapp.tasks import process_intake

NUMBER_A, SECRET_A, TOKEN_A = "106540000000001", "app-secret-a", "token-a"
NUMBER_B, SECRET_B, TOKEN_B = "106540000000002", "app-secret-b", "token-b"


def _connect(world, number, secret, token):
    account = WhatsAppAccount.objects.filter(phone_number_id=number).first()
    if account is None:
        with schema_context(world.shop.schema_name):
            account = connect(
                world.shop, world.owner.pk, phone_number_id=number, waba_id=f"WABA-{number}",
                display_phone_number=f"62811{number[-6:]}", access_token=token, app_secret=secret,
            )  # fmt: skip
    world.number, world.secret, world.token = number, secret, token
    return world


@pytest.fixture(scope="session")
def wa_a(shop_a):
    return _connect(shop_a, NUMBER_A, SECRET_A, TOKEN_A)


@pytest.fixture(scope="session")
def wa_b(shop_b):
    return _connect(shop_b, NUMBER_B, SECRET_B, TOKEN_B)


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
