"""PostgreSQL restarted (a fast shutdown, as a restart or a failover does: every session cut) while webhooks and
dashboard reads flow: during the outage requests are answered at once with a 503 and Retry-After, never hang,
and /readyz says so; once it is back, the same gunicorn workers and Celery workers serve again, nobody
restarting them, and the webhooks Meta retried are processed exactly once.

The cluster is the test's own (with its own Redis), so stopping it leaves the rest of the suite alone."""

import time
from collections import Counter

import httpx
import pytest
from django.core.management import call_command

from tests.support.servers import eventually, postgres_server, redis_server

from .conftest import FaultShop, Poller, database_at, fault_channel, on_own_connection

pytestmark = [pytest.mark.fault, pytest.mark.worker, pytest.mark.django_db]

RATE = 24  # webhooks a second (a multiple of 6: half messages, half three statuses of each of ours)
BEFORE, OUTAGE, AFTER = 5, 10, 10  # seconds of sending around and during the outage
TOTAL = RATE * (BEFORE + OUTAGE + AFTER)
RECOVERY_SECONDS = 10  # from PostgreSQL answering again to every request served again
TIMEOUT = 10  # what "never hangs" means: an answer within this, whatever it is


@pytest.fixture(scope="module")
def cluster(committed):
    """A migrated platform on a cluster of the test's own, with a shop whose number receives webhooks."""
    with postgres_server() as postgres:
        postgres.create_database("test_faults")
        with database_at(postgres.url("test_faults")):
            call_command("bootstrap_platform", pool=0, verbosity=0)
            yield postgres, FaultShop("pg", customers=50, outbound=TOTAL // 6)


def test_postgres_restarted_under_load_the_app_recovers_by_itself(cluster):
    postgres, shop = cluster
    deliveries = shop.mixed_deliveries(TOTAL)

    with redis_server() as redis, fault_channel([shop], {"REDIS_URL": redis.url}) as channel:
        agent = channel.staff(shop)
        agent.timeout = TIMEOUT
        probe = httpx.Client(base_url=channel.web, headers={"Host": channel.meta.host}, timeout=TIMEOUT)
        web_workers = channel.web_workers()

        with (
            Poller(lambda: agent.get("/api/inbox/conversations/"), interval=0.2) as reads,
            Poller(lambda: probe.get("/readyz"), interval=0.5) as ready,
            Poller(lambda: probe.get("/healthz"), interval=1) as alive,
        ):
            sending = channel.meta.send_in_background(deliveries, RATE)
            time.sleep(BEFORE)
            postgres.stop()  # returns once it is down
            down_from = time.monotonic()
            time.sleep(1)
            away = agent.get("/api/inbox/conversations/", headers={"Accept-Language": "en"})
            time.sleep(OUTAGE - 1)
            down_until = time.monotonic()
            postgres.start()  # returns once it accepts connections
            back_at = time.monotonic()
            sending.join(timeout=AFTER + 60)
            assert not sending.is_alive()
            time.sleep(max(0.0, back_at + RECOVERY_SECONDS + 3 - time.monotonic()))

        # Meta: answered at once throughout, a 503 while the database was away (Meta retries those), else 200.
        answers = Counter(answer for delivery in deliveries for answer in delivery.answers)
        assert set(answers) <= {200, 503}, answers
        assert answers[503] > 0, "the outage was felt"
        assert max(max(delivery.seconds) for delivery in deliveries) < TIMEOUT
        # The dashboard: "unavailable, try again" during the outage (not a server error), never a hang; served
        # again once it is back.
        assert (away.status_code, away.headers.get("Retry-After")) == (503, "5"), away.text
        assert away.json() == {
            "detail": "Warung CRM is briefly unavailable. Try again in a few seconds.",
            "code": "unavailable",
        }
        assert set(reads.between(down_from, down_until)) == {503}, reads.answers
        assert set(reads.between(back_at + RECOVERY_SECONDS, time.monotonic())) == {200}, reads.answers
        # The readiness probe takes the web process out of the load balancer meanwhile; the liveness probe
        # still passes (a failing one would have Kubernetes restart every web pod).
        assert set(ready.between(down_from, down_until)) == {503}, ready.answers
        assert set(ready.between(back_at + RECOVERY_SECONDS, time.monotonic())) == {200}, ready.answers
        assert {answer for _, answer, _ in alive.answers} == {200}, alive.answers

        for _ in range(3):
            if all(delivery.accepted for delivery in deliveries):
                break
            channel.meta.retry_unaccepted(deliveries)
        assert all(delivery.accepted for delivery in deliveries)

        def all_processed() -> bool:
            return on_own_connection(shop.unprocessed_intake) == 0

        assert eventually(all_processed, timeout=120, interval=2), on_own_connection(shop.unprocessed_intake)
        assert channel.web_workers() == web_workers, "gunicorn's workers were not restarted"
        assert channel.processes_alive(), "no Celery process was restarted"

    stored = on_own_connection(shop.stored_customer_messages)
    assert len(stored) == len(shop.sent_messages)
    assert set(stored) == set(shop.sent_messages)
    assert on_own_connection(shop.outbound_statuses) == {"read": len(shop.outbound)}
    assert on_own_connection(shop.status_events) == TOTAL // 2
