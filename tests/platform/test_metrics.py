"""/metrics: the operator's Prometheus endpoint. Counters move with real traffic through the real web server and
Celery worker (each process keeps its own, a scrape adds them up); platform gauges are read from PostgreSQL and
Redis at scrape time; nobody but an operator can read any of it."""

import json
from datetime import timedelta

import httpx
import pytest
from django.test import Client, override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from config.redis import redis_client
from tenants.scopes import ALL_SCOPES
from tests.factories import PASSWORD, UserFactory
from tests.support.channel import NUMBER, SECRET
from tests.support.servers import METRICS_TOKEN, celery_worker, eventually, free_port
from tests.whatsapp import webhooks
from whatsapp import rate_limit
from whatsapp.channel.models import WebhookIntake

pytestmark = pytest.mark.django_db


def samples(exposition: str) -> dict[tuple, float]:
    """{(sample name, (label, value), …): value} of a Prometheus text exposition."""
    return {
        (sample.name, *sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def value(scraped: dict, name: str, **labels) -> float:
    return scraped.get((name, *sorted(labels.items())), 0.0)


# --- who may read it


def test_anonymous_visitors_and_shop_people_are_refused(portal, shop_a):
    anonymous = portal.get("/metrics")
    assert anonymous.status_code == 401 and b"warung_" not in anonymous.content

    assert portal.login(email=shop_a.owner.email, password=PASSWORD)  # a shop owner is no operator
    owner = portal.get("/metrics")
    assert owner.status_code == 403 and b"warung_" not in owner.content

    created = shop_a.client(shop_a.owner).post(
        "/api/tokens/", {"name": "metrics?", "scopes": list(ALL_SCOPES)}, content_type="application/json"
    )
    token = created.json()["token"]
    with_shop_token = Client(HTTP_HOST=shop_a.host).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert b"warung_" not in with_shop_token.content  # a shop's domain has no /metrics at all
    on_platform = Client().get("/metrics", HTTP_HOST=portal.defaults["HTTP_HOST"], HTTP_AUTHORIZATION=f"Bearer {token}")
    assert on_platform.status_code == 403 and b"warung_" not in on_platform.content

    on_shop_domain = shop_a.client(shop_a.owner).get("/metrics")
    assert b"warung_" not in on_shop_domain.content


@override_settings(METRICS_TOKEN="s3cret-scrape-token")
def test_prometheus_with_the_token_and_operators_signed_in_may_read_it(portal):
    wrong = portal.get("/metrics", HTTP_AUTHORIZATION="Bearer guessed")
    assert wrong.status_code == 403
    scraped = portal.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")
    assert scraped.status_code == 200 and scraped["Content-Type"].startswith("text/plain")
    assert b"warung_intake_lag_seconds" in scraped.content

    operator = UserFactory(is_staff=True)
    assert portal.login(email=operator.email, password=PASSWORD)
    assert portal.get("/metrics").status_code == 200


@override_settings(METRICS_TOKEN="")
def test_without_a_configured_token_no_bearer_gets_in(portal):
    assert portal.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403


# --- gauges read at scrape time


@pytest.fixture
def operator_scrape(portal):
    operator = UserFactory(is_staff=True)
    assert portal.login(email=operator.email, password=PASSWORD)

    def scrape() -> dict:
        response = portal.get("/metrics")
        assert response.status_code == 200
        return samples(response.content.decode())

    return scrape


def test_intake_lag_is_the_age_of_the_oldest_unprocessed_webhook(operator_scrape):
    before = operator_scrape()
    WebhookIntake.objects.create(received_at=timezone.now() - timedelta(minutes=5), body=b"{}", phone_number_ids=["1"])
    after = operator_scrape()
    assert value(after, "warung_intake_lag_seconds") >= 300
    assert value(after, "warung_intake_backlog") == value(before, "warung_intake_backlog") + 1


def test_queue_depth_is_what_waits_in_each_celery_queue(operator_scrape):
    """Two entries in the broadcasts queue (no worker of this test session serves it now); removed after."""
    markers = [json.dumps({"marker": n}) for n in range(2)]
    before = value(operator_scrape(), "warung_queue_depth", queue="broadcasts")
    redis_client().lpush("broadcasts", *markers)
    try:
        after = operator_scrape()
    finally:
        for marker in markers:
            redis_client().lrem("broadcasts", 0, marker)
    assert value(after, "warung_queue_depth", queue="broadcasts") == before + 2
    assert ("warung_queue_depth", ("queue", "interactive")) in after


def test_a_sender_that_waits_for_its_number_is_counted(operator_scrape):
    before = operator_scrape()
    number = f"metrics-{timezone.now().timestamp()}"
    for _ in range(3):  # a burst of one at one message a second: the second and third wait
        rate_limit.acquire(number, 1.0)
    after = operator_scrape()
    assert value(after, "warung_limiter_waits_total") >= value(before, "warung_limiter_waits_total") + 2
    assert value(after, "warung_limiter_wait_seconds_total") >= value(before, "warung_limiter_wait_seconds_total") + 1


# --- counters, through the real server and worker


@pytest.mark.worker
def test_webhooks_messages_and_latency_are_counted_across_processes(whatsapp_stack):
    stack = whatsapp_stack

    def scrape() -> dict:
        response = httpx.get(f"{stack.web}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10)
        assert response.status_code == 200, response.text
        return samples(response.text)

    before = scrape()
    anonymous = httpx.get(f"{stack.web}/metrics", timeout=10)
    assert anonymous.status_code == 401 and "warung_" not in anonymous.text
    # Prometheus scrapes each pod at its address, which is no domain of ours: the token is what counts.
    by_address = {"Host": "10.1.2.3:8000"}
    scraped = httpx.get(f"{stack.web}/metrics", headers=by_address | {"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert scraped.status_code == 200 and "warung_queue_depth" in scraped.text
    assert "warung_" not in httpx.get(f"{stack.web}/metrics", headers=by_address).text

    # A customer writes (the simulator posts the signed webhook); a forger and a stranger's number follow.
    stack.say("6281277770001", "berapa harganya kak?")
    forged = webhooks.body_bytes(webhooks.inbound_text(NUMBER, "6281277770002", "halo"))
    unknown = webhooks.body_bytes(webhooks.inbound_text("555000999", "6281277770003", "halo"))
    for raw, secret in ((forged, "not-the-secret"), (unknown, SECRET)):
        signed = {"Content-Type": "application/json", "X-Hub-Signature-256": webhooks.signature(raw, secret)}
        httpx.post(f"{stack.web}/webhooks/whatsapp/", content=raw, headers=signed, timeout=10)

    def moved(name: str, by: float, **labels) -> dict | None:
        scraped = scrape()
        return scraped if value(scraped, name, **labels) >= value(before, name, **labels) + by else None

    # The auto-reply to "harga" leaves through the outbound sender in the worker, against the simulator.
    after = eventually(lambda: moved("warung_messages_sent_total", 1, result="sent", channel="direct"), timeout=30)
    assert after, "the worker's send is counted"
    assert (
        value(after, "warung_webhooks_total", outcome="refused")
        == value(before, "warung_webhooks_total", outcome="refused") + 1
    )
    assert (
        value(after, "warung_webhooks_total", outcome="quarantined")
        == value(before, "warung_webhooks_total", outcome="quarantined") + 1
    )
    assert (
        value(after, "warung_webhooks_total", outcome="accepted")
        >= value(before, "warung_webhooks_total", outcome="accepted") + 1
    )
    assert value(after, "warung_webhooks_received_total") >= value(before, "warung_webhooks_received_total") + 3
    webhook_latency = ("warung_http_request_duration_seconds_count", ("view", "whatsapp-webhook"))
    assert after.get(webhook_latency, 0) >= before.get(webhook_latency, 0) + 3
    # The reply's delivered/read statuses are priced into the ledger by the worker.
    assert eventually(lambda: moved("warung_ledger_rows_total", 1), timeout=30), "ledger rows are counted"


@pytest.mark.worker
def test_a_worker_serves_its_counters_on_its_own_port_to_the_token_only(committed):
    """A worker's pod has no web server: its main process answers Prometheus on METRICS_PORT."""
    port = free_port()
    with celery_worker("metrics-worker", queues="metrics-test", METRICS_PORT=str(port)):
        url = f"http://127.0.0.1:{port}/metrics"

        def answer():
            try:
                return httpx.get(url, headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=5)
            except httpx.TransportError:
                return None

        scraped = eventually(answer, timeout=60)
        assert scraped and scraped.status_code == 200
        assert "warung_limiter_waits_total" in scraped.text
        assert httpx.get(url, timeout=5).status_code == 401
        assert httpx.get(url, headers={"Authorization": "Bearer guessed"}, timeout=5).status_code == 401
