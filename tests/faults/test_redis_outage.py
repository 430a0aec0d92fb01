"""Redis stopped for 30 s while WhatsApp's webhooks arrive at 100 a second, then started again, empty (a Redis
without persistence comes back so): Meta is answered 200 throughout, since the intake only needs PostgreSQL,
and once Redis is back every event is processed exactly once, by the same Celery workers, reconnected by
themselves. The rows whose processing could not be queued are found by the sweeper (beat) or taken by the
first task queued for their shop after the outage."""

import time
from collections import Counter

import pytest

from tests.support.servers import eventually, redis_server

from .conftest import FaultShop, fault_channel

pytestmark = [pytest.mark.fault, pytest.mark.worker, pytest.mark.django_db]

RATE = 100  # webhooks a second
BEFORE, OUTAGE, AFTER = 3, 30, 3  # seconds of sending around and during the outage
SHOPS = 3


TOTAL = RATE * (BEFORE + OUTAGE + AFTER)
PER_SHOP = TOTAL // SHOPS  # half customers' messages, half statuses (sent, delivered, read) of our messages


@pytest.fixture(scope="module")
def shops(committed) -> list[FaultShop]:
    return [FaultShop("redis", customers=100, outbound=PER_SHOP // 6, greeting=(n == 0)) for n in range(SHOPS)]


def test_webhooks_arriving_while_redis_is_down_are_all_accepted_and_processed_exactly_once(shops):
    per_shop = PER_SHOP
    # The shops' webhooks interleaved, as Meta delivers a platform's traffic.
    mixes = [shop.mixed_deliveries(per_shop) for shop in shops]
    deliveries = [delivery for row in zip(*mixes, strict=True) for delivery in row]

    with redis_server() as redis, fault_channel(shops, {"REDIS_URL": redis.url}) as channel:
        sending = channel.meta.send_in_background(deliveries, RATE)
        time.sleep(BEFORE)
        redis.stop()
        stopped_at = time.monotonic()
        time.sleep(OUTAGE)
        redis.start()
        outage = time.monotonic() - stopped_at
        sending.join(timeout=BEFORE + OUTAGE + AFTER + 60)
        assert not sending.is_alive()

        # Never refused: every answer was a 200. (One that came too late for Meta on this shared machine is
        # retried as Meta retries it, and must then be harmless.)
        answers = Counter(answer for delivery in deliveries for answer in delivery.answers)
        assert set(answers) <= {200, "TimeoutError"}, answers
        for _ in range(3):
            if all(delivery.accepted for delivery in deliveries):
                break
            channel.meta.retry_unaccepted(deliveries)
        assert all(delivery.accepted for delivery in deliveries), Counter(d.answers[-1] for d in deliveries)

        def all_processed() -> bool:
            return sum(shop.unprocessed_intake() for shop in shops) == 0

        assert eventually(all_processed, timeout=180, interval=2), [shop.unprocessed_intake() for shop in shops]
        greeted = shops[0]
        assert eventually(lambda: channel.stats()["messages_accepted"].get(greeted.number, 0) >= 100, timeout=60)
        assert channel.processes_alive(), "no process was restarted"
        greetings_sent = channel.stats()["messages_accepted"][greeted.number]

    assert outage >= OUTAGE
    for shop in shops:
        # Each customer message stored once; each status applied once.
        assert shop.intake_rows() >= per_shop
        stored = shop.stored_customer_messages()
        assert len(stored) == len(shop.sent_messages)
        assert set(stored) == set(shop.sent_messages)
        assert shop.outbound_statuses() == {"read": len(shop.outbound)}
        assert shop.status_events() == per_shop // 2
    # Every customer who wrote to the greeting shop got its greeting once, whenever their message came in.
    assert greeted.greetings_by_customer() == dict.fromkeys(greeted.customers, 1)
    assert greetings_sent == 100
