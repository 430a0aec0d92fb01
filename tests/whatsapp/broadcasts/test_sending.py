"""Sending with the real processes: the simulator as WhatsApp (with its throughput limit and status webhooks),
gunicorn taking the webhooks, Celery workers sending and processing. Everything here is committed data."""

import os
import signal

import httpx
import pytest
from django_tenants.utils import schema_context
from prometheus_client.parser import text_string_to_metric_families

from billing.models import Reservation
from crm.models import Contact
from tests.support.servers import METRICS_TOKEN, eventually, sim_call
from whatsapp.broadcasts import results
from whatsapp.broadcasts.models import Broadcast


def test_a_broadcast_reaches_everyone_once_and_the_ledger_charges_exactly_the_estimate(sending_stack):
    stack = sending_stack
    number = stack.number(throughput_mps=1000)
    broadcast = stack.broadcast(300, "8111")

    with stack.broadcast_worker("broadcasts-1"):
        started = stack.start(broadcast)
        assert stack.finish(broadcast, timeout=60) == "completed"

    assert stack.stats(number) == {"accepted": 300, "rate_limited": 0}
    sent = stack.recipients(broadcast, wamid__isnull=False)
    assert len(sent) == 300 and len({r.wamid for r in sent}) == 300

    def funnel():
        with schema_context(stack.world.shop.schema_name):
            found = results.summary(broadcast)
        return found if found["funnel"]["read"] == 300 and found["cost"]["actual"] == started.estimated_cost else None

    summary = eventually(funnel, timeout=60, interval=1)
    assert summary, "every message was read and priced"
    assert summary["funnel"] == {"sent": 300, "delivered": 300, "read": 300, "replied": 0, "ordered": 0}
    assert summary["cost"]["actual"] == started.estimated_cost > 0
    held = Reservation.objects.get(account__shop=stack.world.shop, reference=broadcast.hold_reference)
    assert eventually(lambda: Reservation.objects.get(pk=held.pk).remaining == 0, timeout=30)


def test_two_workers_on_one_number_stay_under_its_limit_and_close_to_it(sending_stack):
    stack = sending_stack
    number = stack.number(throughput_mps=80)
    broadcast = stack.broadcast(1200, "8112")

    with stack.broadcast_worker("broadcasts-1"), stack.broadcast_worker("broadcasts-2"):
        stack.start(broadcast)
        assert stack.finish(broadcast, timeout=90) == "completed"

    # WhatsApp (the simulator) is the judge of "never above the limit": it answers 130429 to any excess.
    assert stack.stats(number) == {"accepted": 1200, "rate_limited": 0}
    times = sorted(r.sent_at for r in stack.recipients(broadcast))
    achieved = (len(times) - 1) / (times[-1] - times[0]).total_seconds()
    assert achieved >= 0.9 * 80, achieved
    assert len({r.wamid for r in stack.recipients(broadcast)}) == 1200


@pytest.mark.fault  # the fault suite's "worker SIGKILLed mid-broadcast" (see tests/faults/)
def test_a_worker_killed_mid_broadcast_leaves_nobody_messaged_twice_and_nobody_out(sending_stack):
    stack = sending_stack
    number = stack.number(throughput_mps=1000)
    broadcast = stack.broadcast(10_000, "8113")

    with stack.broadcast_worker("doomed") as doomed:
        stack.start(broadcast)
        assert eventually(lambda: stack.stats(number)["accepted"] >= 2000, timeout=60, interval=0.1)
        os.killpg(os.getpgid(doomed.pid), signal.SIGKILL)
    assert 0 < stack.stats(number)["accepted"] < 10_000

    with stack.broadcast_worker("rescuer"):
        assert stack.finish(broadcast, timeout=180) == "completed"

    assert stack.stats(number) == {"accepted": 10_000, "rate_limited": 0}
    sent = stack.recipients(broadcast, wamid__isnull=False)
    assert len(sent) == 10_000 and len({r.wamid for r in sent}) == 10_000


def test_a_number_whatsapp_does_not_know_fails_with_its_reason_is_marked_undeliverable_and_costs_nothing(
    sending_stack,
):
    stack = sending_stack
    number = stack.number(throughput_mps=1000)
    broadcast = stack.broadcast(4, "899")  # the simulator's 62899… customers are not on WhatsApp

    with stack.broadcast_worker("broadcasts-1"):
        stack.start(broadcast)
        assert stack.finish(broadcast, timeout=60) == "completed"

    failed = eventually(lambda: stack.recipients(broadcast, status="failed", error_code=131026), timeout=30)
    assert len(failed) == 4
    assert {r.error_reason for r in failed} == {"Nomor ini tidak dapat menerima pesan WhatsApp."}
    with schema_context(stack.world.shop.schema_name):
        assert Contact.objects.filter(pk__in=[r.contact_id for r in failed], undeliverable=True).count() == 4
    held = Reservation.objects.get(account__shop=stack.world.shop, reference=broadcast.hold_reference)
    assert held.remaining == 0 and held.amount > 0
    assert stack.stats(number)["accepted"] == 4


def test_a_template_whatsapp_paused_stops_the_broadcast_with_the_reason_and_sends_nothing(sending_stack):
    stack = sending_stack
    number = stack.number(throughput_mps=1000)
    sim_call(stack.sim, "POST", "/_sim/templates", {"waba_id": f"WABA-{number}", "name": "koleksi_baru",
                                                    "language": "id", "status": "PAUSED"})  # fmt: skip
    broadcast = stack.broadcast(20, "8114")

    with stack.broadcast_worker("broadcasts-1"):
        stack.start(broadcast)
        assert eventually(lambda: stack.status(broadcast) == "stopped", timeout=30)

    with schema_context(stack.world.shop.schema_name):
        assert Broadcast.objects.get(pk=broadcast.pk).status_reason == "Template ini dijeda oleh WhatsApp."
    assert len(stack.recipients(broadcast, status="queued")) == 20
    assert stack.stats(number)["accepted"] == 0


def test_the_operator_sees_the_broadcast_rate_and_the_limiter_waits_in_metrics(sending_stack):
    """A broadcast on a number of 80 messages a second: every send is counted as a broadcast send, and the
    send loops' waits for the number's limiter are counted too (the web's /metrics adds up every process)."""
    stack = sending_stack
    stack.number(throughput_mps=80)
    broadcast = stack.broadcast(120, "8119")

    def scrape() -> dict:
        response = httpx.get(f"{stack.web}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10)
        assert response.status_code == 200
        return {
            (sample.name, *sorted(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
        }

    def moved(scraped: dict, result: str) -> float:
        key = ("warung_messages_sent_total", ("channel", "broadcast"), ("result", result))
        return scraped.get(key, 0) - before.get(key, 0)

    def all_counted() -> dict | None:
        """The sender writes its answers a few times a second: status webhooks may complete the broadcast first."""
        scraped = scrape()
        return scraped if moved(scraped, "sent") + moved(scraped, "in_doubt") >= 120 else None

    before = scrape()
    with stack.broadcast_worker("broadcasts-1"):
        stack.start(broadcast)
        assert stack.finish(broadcast, timeout=60) == "completed"
        after = eventually(all_counted, timeout=30)
    # Each recipient is sent once; a call left without an answer (a loaded machine) is counted in doubt, and
    # only such a call may be sent again.
    assert after, "every answer is written back (and counted)"
    assert moved(after, "sent") <= 120 + moved(after, "in_doubt")
    assert after["warung_limiter_waits_total",] > before.get(("warung_limiter_waits_total",), 0)
