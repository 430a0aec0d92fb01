"""The console's Health page: the intake's lag and backlog, what waits in each Celery queue, and the shops that
are failing (expired WhatsApp tokens, refused or failed webhooks, failed messages), for operators only."""

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from config.redis import redis_client
from tests.factories import PASSWORD, UserFactory
from tests.whatsapp import webhooks
from whatsapp.channel.models import DeliveryFailure, WebhookIntake, WhatsAppAccount

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(portal):
    portal.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert portal.login(email=UserFactory(is_staff=True).email, password=PASSWORD)
    return portal


def health(client) -> str:
    response = client.get("/console/health/")
    assert response.status_code == 200
    return response.content.decode()


def shop_row(page: str, shop) -> str:
    found = re.search(rf'<tr id="shop-{shop.pk}">(.*?)</tr>', page, re.S)
    assert found, f"{shop.name} is not among the failing shops"
    return found.group(1)


def cells(row: str) -> list[str]:
    return [re.sub(r"<[^>]+>|\s+", " ", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_only_operators_see_it(portal, shop_a):
    assert portal.get("/console/health/").status_code == 302  # to the console's login
    assert portal.login(email=shop_a.owner.email, password=PASSWORD)
    assert portal.get("/console/health/").status_code == 302
    on_shop_domain = shop_a.client(shop_a.owner).get("/console/health/").content
    assert b"intake-backlog" not in on_shop_domain  # only the dashboard lives on a shop's domain


def test_the_home_page_links_to_it(operator):
    assert 'href="/console/health/"' in operator.get("/console/").content.decode()


def test_it_speaks_the_operators_language(operator):
    operator.defaults["HTTP_ACCEPT_LANGUAGE"] = "id"
    page = health(operator)
    assert "Toko bermasalah" in page and "Menunggu diproses" in page


def test_intake_lag_and_backlog(operator):
    WebhookIntake.objects.create(received_at=timezone.now() - timedelta(minutes=12), body=b"{}")
    WebhookIntake.objects.create(body=b"{}")
    page = health(operator)
    backlog = re.search(r'id="intake-backlog">.*?<strong>(\d+)</strong>', page, re.S)
    lag = re.search(r'id="intake-lag">.*?<strong>([^<]+)</strong>', page, re.S)
    assert backlog and int(backlog.group(1)) >= 2
    assert lag and seconds(lag.group(1)) >= 12 * 60  # the oldest row waiting (or an older one left by others)


def seconds(age: str) -> float:
    number, unit = age.split()
    return float(number) * {"s": 1, "min": 60, "h": 3600}[unit]


def test_queue_depth_per_celery_queue(operator):
    markers = [json.dumps({"health-marker": n}) for n in range(3)]

    def waiting(page: str, queue: str) -> int:
        return int(re.search(rf'data-queue="{queue}">(\d+)<', page).group(1))

    before = waiting(health(operator), "broadcasts")
    redis_client().lpush("broadcasts", *markers)
    try:
        page = health(operator)
    finally:
        for marker in markers:
            redis_client().lrem("broadcasts", 0, marker)
    assert waiting(page, "broadcasts") == before + 3
    assert {"interactive", "default"} <= set(re.findall(r'data-queue="(\w+)"', page))


def test_failing_shops_show_expired_tokens_refused_webhooks_and_failed_messages(operator, wa_a, wa_b):
    WhatsAppAccount.objects.filter(phone_number_id=wa_a.number).update(
        status=WhatsAppAccount.Status.ERROR, last_error_code=190, last_error_reason="Token expired"
    )
    for n in range(3):
        DeliveryFailure.objects.create(
            shop=wa_b.shop, message_id=900 + n, error_code=131026, reason="Nomor ini tidak memakai WhatsApp."
        )
    DeliveryFailure.objects.create(
        shop=wa_b.shop, message_id=800, error_code=131026, reason="old", occurred_at=timezone.now() - timedelta(days=2)
    )
    refused_before = _refused(health(operator), wa_b.shop)
    forged = webhooks.inbound_text(wa_b.number, "6281299990000", "halo")
    response = webhooks.post(Client(HTTP_HOST=operator.defaults["HTTP_HOST"]), forged, "not-the-app-secret")
    assert response.status_code == 401

    page = health(operator)
    expired = shop_row(page, wa_a.shop)
    assert "access token expired" in expired and 'class="token-expired"' in expired
    row = cells(shop_row(page, wa_b.shop))
    assert row[0] == wa_b.shop.name
    assert int(row[2]) == refused_before + 1  # refused webhooks
    assert int(row[4]) == 3  # failed messages in the last 24 hours, not the one from two days ago
    assert row[5] == "Nomor ini tidak memakai WhatsApp."
    assert page.index(f'id="shop-{wa_a.shop.pk}"') < page.index(f'id="shop-{wa_b.shop.pk}"')  # expired token first


def _refused(page: str, shop) -> int:
    found = re.search(rf'<tr id="shop-{shop.pk}">(.*?)</tr>', page, re.S)
    return int(cells(found.group(1))[2]) if found else 0
