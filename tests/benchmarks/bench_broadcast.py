"""Benchmark `broadcast`: a promotion to 100,000 recipients against the simulator limited to 1,000 messages/s,
with its status webhooks on, sent by the real broadcast workers.

Run by `make bench NAME=broadcast` (devserver sets DATABASE_URL, REDIS_URL, PYTHONPATH and
DJANGO_SETTINGS_MODULE). Each run signs up a fresh shop with a fresh number and BENCH_RECIPIENTS contacts.

Processes, as `make run` starts them: the simulator (WhatsApp, its throughput limit set to BENCH_LIMIT_MPS,
sent/delivered/read status webhooks for every message, batched BENCH_WEBHOOK_BATCH changes to a POST),
gunicorn taking those webhooks, a Celery worker processing them (interactive, default queues) and
BENCH_WORKERS broadcast workers (queue `broadcasts`). The sweeper runs in this process every 5 s, as beat
would.

Measured:
- freeze_s: `services.start`: the audience resolved with its exclusions and frozen into one recipient row
  each (one INSERT … SELECT), its cost reserved.
- achieved_mps: recipients / (last acceptance - start), from the simulator's acceptance counter, polled;
  fraction_of_limit = achieved_mps / limit.
- duplicates: messages the simulator accepted beyond one per recipient; lost: recipients without a
  WhatsApp message id once the broadcast completed; rate_limited_responses: the simulator's 130429 count.
- worker_peak_rss_mb: each broadcast worker's peak resident memory (VmHWM), the largest reported.

Progress goes to stderr; the last stdout line is the JSON result.
"""

import contextlib
import json
import os
import secrets
import sys
import time
from pathlib import Path

from tests.benchmarks.common import prepare_database

RECIPIENTS = int(os.environ.get("BENCH_RECIPIENTS", "100000"))
LIMIT_MPS = int(os.environ.get("BENCH_LIMIT_MPS", "1000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
WEBHOOK_BATCH = int(os.environ.get("BENCH_WEBHOOK_BATCH", "50"))
TIMEOUT = float(os.environ.get("BENCH_TIMEOUT", "600"))
PASSWORD = "Kopi-Susu-2026!"
ROOT = Path(__file__).resolve().parents[2]


def log(message: str) -> None:
    print(f"[broadcast] {message}", file=sys.stderr, flush=True)


def peak_rss_mb(pid: int) -> float:
    """The peak resident memory of a process and its children (a worker's pool), in MB."""
    import psutil

    peak = 0.0
    process = psutil.Process(pid)
    for member in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.Error, OSError), open(f"/proc/{member.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
    return round(peak, 1)


def make_shop(run_id: str):
    from django_tenants.utils import schema_context

    from billing import wallet
    from billing.models import Plan
    from tenants import provisioning
    from tenants.services.lifecycle import apply_plan
    from tenants.services.signup import SignupForm, sign_up

    provisioning.refill_pool()
    shop, owner = sign_up(
        SignupForm(shop_name=f"Toko Siaran {run_id}", subdomain=f"bc-{run_id}", owner_name="Sari Wulandari",
                   email=f"owner-bc-{run_id}@bench.test", password=PASSWORD)
    )  # fmt: skip
    apply_plan(shop, Plan.objects.get(code="scale"))
    wallet.credit_top_up(shop.pk, 10_000_000_000, f"bench-top-up:{run_id}")
    with schema_context(shop.schema_name):
        from whatsapp.models import AutoReplyRule

        AutoReplyRule.objects.update(active=False)
    return shop, owner


def fill_audience(shop, run_num: int) -> list[int]:
    """RECIPIENTS contacts in bulk, as an import would leave them."""
    from django_tenants.utils import schema_context

    from crm.models import Contact

    ids = []
    with schema_context(shop.schema_name):
        for start in range(0, RECIPIENTS, 10_000):
            batch = [
                Contact(name=f"Pelanggan {n}", wa_id=f"628{run_num:03d}{n:07d}", phone=f"+628{run_num:03d}{n:07d}")
                for n in range(start, min(RECIPIENTS, start + 10_000))
            ]
            ids += [contact.pk for contact in Contact.objects.bulk_create(batch)]
    return ids


def main() -> None:
    prepare_database(log)
    from django.db import connection
    from django_tenants.utils import schema_context

    from crm.models import Segment
    from tests.support.servers import celery_worker, eventually, sim_call, simulator, web_server
    from whatsapp.broadcasts import services
    from whatsapp.broadcasts.models import Broadcast, Recipient
    from whatsapp.broadcasts.tasks import sweep_broadcasts
    from whatsapp.channel.models import WhatsAppAccount
    from whatsapp.channel.services import connect
    from whatsapp.models import MessageTemplate

    run_id, run_num = secrets.token_hex(3), secrets.randbelow(900) + 100
    shop, owner = make_shop(run_id)
    started = time.perf_counter()
    audience = fill_audience(shop, run_num)
    log(f"shop {shop.schema_name}: {len(audience)} contacts in {time.perf_counter() - started:.1f}s")
    number, waba = f"18{run_num:03d}{secrets.randbelow(10**9):09d}", f"WABA-bc-{run_id}"
    with schema_context(shop.schema_name):
        connect(shop, owner.pk, phone_number_id=number, waba_id=waba, display_phone_number=f"62811{run_num}",
                access_token=f"token-{run_id}", app_secret=f"secret-{run_id}")  # fmt: skip
        template = MessageTemplate.objects.create(
            name="koleksi_baru", language="id", category="MARKETING", status="APPROVED", parameter_count=1,
            body_text="Halo {{1}}, koleksi baru sudah datang!", components=[],
        )  # fmt: skip
        everyone = Segment.objects.create(name="Semua pelanggan", rules={})
        broadcast = Broadcast.objects.create(
            name="Koleksi baru", template=template, audience={"segments": [everyone.pk]}, frequency_cap_hours=0,
            variables=[{"source": "field", "value": "first_name", "fallback": "Kak"}],
        )  # fmt: skip
    WhatsAppAccount.objects.filter(phone_number_id=number).update(throughput_level="HIGH")
    connection.set_schema_to_public()

    with simulator() as sim:
        env = {"WHATSAPP_GRAPH_BASE_URL": sim}
        with web_server(**env) as web:
            sim_call(sim, "POST", "/_sim/faults", {"webhook_batch_size": WEBHOOK_BATCH})
            sim_call(sim, "POST", "/_sim/numbers", {
                "phone_number_id": number, "waba_id": waba, "display_phone_number": f"62811{run_num}",
                "verified_name": "Toko Siaran", "access_token": f"token-{run_id}", "app_secret": f"secret-{run_id}",
                "callback_url": f"{web}/webhooks/whatsapp/", "throughput_mps": LIMIT_MPS,
            })  # fmt: skip
            template_at_meta = {"waba_id": waba, "name": "koleksi_baru", "language": "id", "category": "MARKETING",
                                "body_text": "Halo {{1}}, koleksi baru sudah datang!"}  # fmt: skip
            sim_call(sim, "POST", "/_sim/templates", template_at_meta)
            with contextlib.ExitStack() as workers:
                workers.enter_context(celery_worker(name="bench-processing", **env))
                senders = [
                    # One send loop per process, as in production: each loop has a core's worth of GIL.
                    workers.enter_context(
                        celery_worker(name=f"bench-broadcasts-{n}", queues="broadcasts", concurrency=1, **env)
                    )
                    for n in range(WORKERS)
                ]
                time.sleep(3)  # workers up and connected

                def accepted() -> int:
                    return sim_call(sim, "GET", "/_sim/stats")["messages_accepted"].get(number, 0)

                with schema_context(shop.schema_name):
                    freeze_started = time.perf_counter()
                    services.start(broadcast)
                    freeze_s = time.perf_counter() - freeze_started
                connection.set_schema_to_public()
                log(f"audience frozen in {freeze_s:.2f}s; sending")
                send_started, last_count, last_change, next_sweep = time.perf_counter(), 0, time.perf_counter(), 0.0
                while time.perf_counter() - send_started < TIMEOUT:
                    count = accepted()
                    if count != last_count:
                        last_count, last_change = count, time.perf_counter()
                    if count >= RECIPIENTS:
                        break
                    if time.perf_counter() > next_sweep:
                        sweep_broadcasts()
                        next_sweep = time.perf_counter() + 5
                    time.sleep(0.2)
                send_s = last_change - send_started
                log(f"{last_count} accepted in {send_s:.1f}s")

                def completed() -> bool:
                    sweep_broadcasts()
                    with schema_context(shop.schema_name):
                        return Broadcast.objects.get(pk=broadcast.pk).status == "completed"

                eventually(completed, timeout=120, interval=2)
                rss = max(peak_rss_mb(worker.pid) for worker in senders)
            stats = sim_call(sim, "GET", "/_sim/stats")
    with schema_context(shop.schema_name):
        with_wamid = Recipient.objects.filter(broadcast=broadcast, wamid__isnull=False).count()
        recipients = Recipient.objects.filter(broadcast=broadcast).count()
    accepted_total = stats["messages_accepted"].get(number, 0)
    achieved = accepted_total / send_s if send_s else 0.0
    print(
        json.dumps(
            {
                "bench": "broadcast",
                "recipients": recipients,
                "limit_mps": LIMIT_MPS,
                "achieved_mps": round(achieved, 1),
                "fraction_of_limit": round(achieved / LIMIT_MPS, 3),
                "freeze_s": round(freeze_s, 2),
                "duplicates": max(0, accepted_total - with_wamid),
                "lost": recipients - with_wamid,
                "rate_limited_responses": stats["rate_limited_by_number"].get(number, 0),
                "worker_peak_rss_mb": rss,
                "send_s": round(send_s, 1),
                "workers": WORKERS,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
