"""The load test's harness, small and short: five shops for twenty seconds through every real process."""

import threading

import pytest
from django.conf import settings
from django.db import connections

from tests.load.harness import Options, run

pytestmark = [pytest.mark.worker, pytest.mark.django_db]


def run_committed(options: Options) -> dict:
    """The harness on a connection of its own, outside the test's transaction: the servers must see its shops."""
    outcome: dict = {}

    def target():
        try:
            outcome["summary"] = run(options)
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["summary"]


def test_five_shops_at_once_lose_nothing_and_see_no_error(committed):
    # The servers get a Redis database of their own: no worker another test left running takes their tasks.
    redis_url = settings.REDIS_URL.rsplit("/", 1)[0] + "/9"
    summary = run_committed(
        Options(shops=5, seconds=20, webhook_rps=2, staff_rounds_per_s=0.5, drain_timeout=180, redis_url=redis_url)
    )

    assert summary["problems"] == []
    assert summary["failures"] == 0
    assert summary["broadcasts_completed"] == summary["broadcasts"] == 1
    assert summary["replies_sent"] == summary["replies"] > 0
    assert summary["inbound_messages"] > 0 and summary["status_events"] > 0
    assert set(summary["p95_ms"]) >= {"POST /webhooks/whatsapp/ [message]", "GET /api/inbox/conversations/"}
