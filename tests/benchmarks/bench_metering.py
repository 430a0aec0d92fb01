"""Benchmark `metering`: pricing events through the real status-processing path into the usage ledger.

Run by `make bench NAME=metering`. Measured in one run:
- ledger rows per second: BENCH_EVENTS status dicts (each message: `sent` and `delivered` with Meta's pricing
  object, `read` without; plus BENCH_DUP_RATE of them repeated, shuffled) applied in webhook-sized batches
  through `whatsapp.inbound.apply_statuses` inside the shop's schema, as the Celery task does (status
  events, message updates, ledger, rollups, balance settlement);
- month-to-date read: `billing.metering.month_to_date` for that shop with BENCH_LEDGER_ROWS ledger rows
  present (background rows of another shop are generated in SQL once and reused by later runs), p95;
- exactness: ledger rows vs delivered messages (missing), rows per wamid (double_billed), rollups vs ledger.
Progress goes to stderr; the last stdout line is the JSON result.
"""

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
READS = 50


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


def main() -> int:
    prepare_database(log)
    from django.db.models import Count, Sum
    from django_tenants.utils import tenant_context

    from billing import metering, wallet
    from billing.models import LedgerEntry, UsageRollup
    from tests.factories import create_shop
    from whatsapp.inbound import apply_statuses

    present = background_ledger(LEDGER_ROWS)
    shop, _ = create_shop(shop_name="Toko Metering")
    wallet.credit_top_up(shop.pk, 2_000_000_000, "bench:top-up")
    run = secrets.token_hex(3)
    messages = int(EVENTS / (3 * (1 + DUP_RATE)))
    events = events_for(messages, run)
    events += random.Random(1).sample(events, k=int(len(events) * DUP_RATE))
    rng = random.Random(2)
    rng.shuffle(events)
    log(f"{len(events):,} status events for {messages:,} messages, batches of {BATCH}")

    started = time.perf_counter()
    with tenant_context(shop):
        for start in range(0, len(events), BATCH):
            apply_statuses(events[start : start + BATCH])
            if start and start % (BATCH * 2000) == 0:
                log(f"  {start:,} events, {time.perf_counter() - started:.0f}s")
    elapsed = time.perf_counter() - started

    ledger = LedgerEntry.objects.filter(shop=shop)
    written = ledger.count()
    per_wamid = ledger.values("wamid").annotate(n=Count("id")).filter(n__gt=1).count()
    rollup = UsageRollup.objects.filter(shop=shop).aggregate(messages=Sum("messages"), price=Sum("price"))
    ledger_price = ledger.aggregate(price=Sum("price"))["price"]
    log(f"rollups {rollup['messages']} messages {rollup['price']}; ledger {written} rows {ledger_price}")

    today = wallet.local_today(shop)
    reads = []
    for _ in range(READS):
        begun = time.perf_counter()
        usage = metering.month_to_date(shop.pk, today)
        reads.append((time.perf_counter() - begun) * 1000)
    assert usage["total"]["messages"] == written
    reads.sort()
    result = {
        "bench": "metering",
        "events": len(events),
        "messages": messages,
        "ledger_rows_written": written,
        "elapsed_s": round(elapsed, 2),
        "ledger_rows_per_s": round(written / elapsed, 1),
        "events_per_s": round(len(events) / elapsed, 1),
        "ledger_rows_present": present + written,
        "mtd_read_ms": round(reads[int(len(reads) * 0.95) - 1], 2),
        "mtd_read_p50_ms": round(statistics.median(reads), 2),
        "double_billed": per_wamid,
        "missing": messages - written,
        "rollups_match_ledger": rollup["messages"] == written and rollup["price"] == ledger_price,
    }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
