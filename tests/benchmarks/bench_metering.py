"""Benchmark `metering`: pricing events through the real status-processing path into the usage ledger.

Run by `make bench NAME=metering`. Measured in one run:
- ledger rows per second through the path a status webhook takes after the intake answered Meta: BENCH_EVENTS
  status dicts (each message: `sent` and `delivered` with Meta's pricing object, `read` without; plus
  BENCH_DUP_RATE of them repeated, shuffled) packed BENCH_BATCH to a webhook body and stored as intake rows
  (as `whatsapp.channel.intake.accept` stores them), queued with `queue_processing`, and processed by
  BENCH_WORKERS real Celery worker processes (`whatsapp.tasks.process_intake`: status events, message updates,
  ledger, rollups, balance settlement). The rate is ledger rows over the span from queueing the first row (once
  every worker is ready) to the last row processed; storing the rows is the intake's work, measured by its bench.
  The workers run at normal CPU priority (CELERY_BACKGROUND_NICE=0): on a shared box, nice 19 would measure the
  neighbours. The statuses are for messages the shop's inbox does not hold, so moving a message's status finds
  nothing to update: the ledger's cost is what is measured, not the inbox's.
- metering alone: as many fresh messages' statuses through `billing.metering.record_statuses` in this process,
  BENCH_BATCH per call (metering_only_rows_per_s: what billing adds to the path, per call, without batching);
- month-to-date read: `billing.metering.month_to_date` for that shop with BENCH_LEDGER_ROWS ledger rows
  present (background rows of another shop are generated in SQL once and reused by later runs), p95;
- exactness: ledger rows vs delivered messages (missing), rows per wamid (double_billed), rollups vs ledger,
  balance debited by exactly the ledger's price.
The database is DATABASE_URL's (the runner's embedded one when unset): the background rows stay there for the
next run; the run's intake rows are deleted at the end. Progress goes to stderr; the last stdout line is the
JSON result.
"""

import contextlib
import json
import os
import random
import secrets
import statistics
import sys
import time

from tests.benchmarks.common import prepare_database

EVENTS = int(os.environ.get("BENCH_EVENTS", "1000000"))
LEDGER_ROWS = int(os.environ.get("BENCH_LEDGER_ROWS", "10000000"))
DUP_RATE = float(os.environ.get("BENCH_DUP_RATE", "0.1"))
BATCH = int(os.environ.get("BENCH_BATCH", "100"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
DRAIN_TIMEOUT = float(os.environ.get("BENCH_DRAIN_TIMEOUT", "1800"))
READS = 50
PHONE_NUMBER_ID = "109000000000001"


def log(message: str) -> None:
    print(f"[metering] {message}", file=sys.stderr, flush=True)


def background_ledger(rows: int) -> int:
    """Fills the ledger to `rows` with a background shop's messages over the last year (SQL, once)."""
    from django.db import connection

    from billing.models import LedgerEntry
    from tests.factories import create_shop

    present = LedgerEntry.objects.count()
    if present >= rows:
        return present
    shop, _ = create_shop(shop_name="Latar Metering")
    missing = rows - present
    log(f"generating {missing:,} background ledger rows ...")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO billing_ledgerentry (shop_id, wamid, occurred_at, day, category, market, pricing_type,
                billable, priced_from, rate_currency, rate, fx_rate, currency, meta_cost, price)
            SELECT %s, 'wamid.bg' || %s || '.' || n, now() - (n %% 365) * interval '1 day',
                   (now() - (n %% 365) * interval '1 day')::date, 'marketing', '62', 'regular', true, 'webhook',
                   'USD', 0.0411, 16500, 'IDR', 678.15, 813.78
            FROM generate_series(1, %s) AS n
            """,
            [shop.pk, secrets.token_hex(3), missing],
        )
        cursor.execute(
            """
            INSERT INTO billing_usagerollup (shop_id, day, category, currency, messages, billable_messages,
                meta_cost, price)
            SELECT shop_id, day, category, 'IDR', count(*), count(*), sum(meta_cost), sum(price)
            FROM billing_ledgerentry WHERE shop_id = %s GROUP BY shop_id, day, category
            ON CONFLICT (shop_id, day, category) DO UPDATE SET messages = EXCLUDED.messages,
                billable_messages = EXCLUDED.billable_messages, meta_cost = EXCLUDED.meta_cost,
                price = EXCLUDED.price
            """,
            [shop.pk],
        )
    log(f"  done in {time.perf_counter() - started:.0f}s")
    return LedgerEntry.objects.count()


def events_for(messages: int, run: str) -> list[dict]:
    now = str(int(time.time()))
    categories = ["marketing", "utility", "authentication", "service"]
    events = []
    for n in range(messages):
        category = categories[n % 4]
        kind = "free_customer_service" if category == "service" else "regular"
        pricing = {"billable": kind == "regular", "pricing_model": "PMP", "type": kind, "category": category}
        base = {"id": f"wamid.m{run}.{n}", "timestamp": now, "recipient_id": f"62812{n:08d}"}
        events += [
            {**base, "status": "sent", "pricing": pricing},
            {**base, "status": "delivered", "pricing": pricing},
            {**base, "status": "read"},
        ]
    return events


def store_intake(shop, events: list[dict]) -> list[int]:
    """Webhook bodies of BATCH statuses each, stored as the intake stores a verified POST; their ids in order."""
    from whatsapp.channel.models import WebhookIntake

    ids = []
    for start in range(0, len(events), BATCH * 500):
        rows = []
        for offset in range(start, min(start + BATCH * 500, len(events)), BATCH):
            value = {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "6281100000001", "phone_number_id": PHONE_NUMBER_ID},
                "statuses": events[offset : offset + BATCH],
            }
            body = {"object": "whatsapp_business_account",
                    "entry": [{"id": "waba-bench", "changes": [{"field": "messages", "value": value}]}]}  # fmt: skip
            rows.append(WebhookIntake(shop=shop, phone_number_ids=[PHONE_NUMBER_ID], body=json.dumps(body).encode()))
        ids += [row.pk for row in WebhookIntake.objects.bulk_create(rows)]
    return ids


def drain(intake_ids: list[int]) -> dict[str, int]:
    from django.db.models import Count

    from whatsapp.channel.models import WebhookIntake

    started = time.monotonic()
    last_log = 0.0
    while True:
        rows = WebhookIntake.objects.filter(pk__in=intake_ids).values("status").annotate(n=Count("id"))
        counts = {row["status"]: row["n"] for row in rows}
        waited = time.monotonic() - started
        if not counts.get("pending") or waited > DRAIN_TIMEOUT:
            return counts
        if waited - last_log >= 10:
            log(f"  {counts} ({waited:.0f}s)")
            last_log = waited
        time.sleep(0.5)


def metering_rate(shop, messages: int) -> float:
    """Ledger rows per second of `record_statuses` alone, called per webhook-sized batch in this process: the
    billing share of the path above, apart from the status events and message updates around it."""
    from django_tenants.utils import tenant_context

    from billing import metering

    events = events_for(messages, secrets.token_hex(3))
    random.Random(3).shuffle(events)
    written = 0
    started = time.perf_counter()
    with tenant_context(shop):
        for start in range(0, len(events), BATCH):
            written += metering.record_statuses(events[start : start + BATCH])
    return round(written / (time.perf_counter() - started), 1)


def main() -> int:
    prepare_database(log)
    from django.db.models import Count, Max, Sum
    from django.utils import timezone

    from billing import metering, wallet
    from billing.models import BillingAccount, LedgerEntry, UsageRollup
    from tests.benchmarks.bench_webhook_intake import wait_ready
    from tests.factories import create_shop
    from tests.support.servers import celery_worker
    from whatsapp.channel.intake import queue_processing
    from whatsapp.channel.models import WebhookIntake

    present = background_ledger(LEDGER_ROWS)
    shop, _ = create_shop(shop_name="Toko Metering")
    top_up = 2_000_000_000
    wallet.credit_top_up(shop.pk, top_up, "bench:top-up")
    run = secrets.token_hex(3)
    messages = int(EVENTS / (3 * (1 + DUP_RATE)))
    events = events_for(messages, run)
    events += random.Random(1).sample(events, k=int(len(events) * DUP_RATE))
    rng = random.Random(2)
    rng.shuffle(events)
    intake_ids = store_intake(shop, events)
    log(f"{len(events):,} status events for {messages:,} messages in {len(intake_ids):,} intake rows of {BATCH}")

    # Nothing here sends; the workers must never reach graph.facebook.com all the same.
    env = {"WHATSAPP_GRAPH_BASE_URL": "http://127.0.0.1:9", "CELERY_BACKGROUND_NICE": "0"}
    names = [f"bench-metering-{run}-{n}" for n in range(WORKERS)]
    with contextlib.ExitStack() as workers:
        for name in names:
            workers.enter_context(celery_worker(name, queues="default", **env))
        wait_ready(names)
        log(f"{WORKERS} workers ready; queueing and processing ...")
        started_at = timezone.now()  # queued only now: no worker starts ahead of the others
        for intake_id in intake_ids:
            queue_processing(intake_id, shop.schema_name, customer_waiting=False)
        counts = drain(intake_ids)
    processed = WebhookIntake.objects.filter(pk__in=intake_ids, status="processed")
    elapsed = (processed.aggregate(last=Max("processed_at"))["last"] - started_at).total_seconds()

    ledger = LedgerEntry.objects.filter(shop=shop)
    written = ledger.count()
    per_wamid = ledger.values("wamid").annotate(n=Count("id")).filter(n__gt=1).count()
    rollup = UsageRollup.objects.filter(shop=shop).aggregate(messages=Sum("messages"), price=Sum("price"))
    ledger_price = ledger.aggregate(price=Sum("price"))["price"]
    balance = BillingAccount.objects.get(shop=shop).balance
    log(f"intake {counts}; rollups {rollup}; ledger {written} rows, {ledger_price}")

    today = wallet.local_today(shop)
    reads = []
    for _ in range(READS):
        begun = time.perf_counter()
        usage = metering.month_to_date(shop.pk, today)
        reads.append((time.perf_counter() - begun) * 1000)
    assert usage["total"]["messages"] == written
    reads.sort()
    WebhookIntake.objects.filter(pk__in=intake_ids).delete()
    metering_only = metering_rate(shop, messages)
    result = {
        "bench": "metering",
        "events": len(events),
        "messages": messages,
        "intake_rows": len(intake_ids),
        "workers": WORKERS,
        "ledger_rows_written": written,
        "elapsed_s": round(elapsed, 2),
        "ledger_rows_per_s": round(written / elapsed, 1),
        "events_per_s": round(len(events) / elapsed, 1),
        "metering_only_rows_per_s": metering_only,
        "ledger_rows_present": present + written,
        "mtd_read_ms": round(reads[int(len(reads) * 0.95) - 1], 2),
        "mtd_read_p50_ms": round(statistics.median(reads), 2),
        "double_billed": per_wamid,
        "missing": messages - written,
        "rollups_match_ledger": rollup["messages"] == written and rollup["price"] == ledger_price,
        "balance_matches_ledger": balance == top_up - ledger_price,
    }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
