"""Benchmark `webhook_intake`: signed WhatsApp webhooks through gunicorn into the durable intake, processed by Celery.

Run by `make bench NAME=webhook_intake` (devserver sets DATABASE_URL, REDIS_URL, PYTHONPATH and
DJANGO_SETTINGS_MODULE), or directly with those set. Every run signs up fresh shops with fresh
phone_number_ids, wamids and customers, so reruns work; the shops stay in the database.

Measured, all in one run, against one gunicorn started with infra/gunicorn.conf.py (`web_server()`),
PostgreSQL and Redis as configured:
- intake: POST /webhooks/whatsapp/ with pre-built bodies signed with each shop's app secret (one inbound
  text per three status updates (sent/delivered/read of outbound messages created beforehand, so the
  statuses apply), plus BENCH_DUP_RATE of them re-sent to exercise deduplication), from an aiohttp
  client in this process. Per-request latency and throughput.
- bare: GET /healthz (the closest existing "does nothing" endpoint, same middleware stack) from the same
  client at the same concurrency and count, against the same server.
  The two are interleaved over BENCH_ROUNDS rounds (bare, intake, bare, intake, ...); rps figures are
  medians over the rounds, latency percentiles are over every request of a kind.
- correctness, once real Celery workers have processed every intake row: every accepted event stored
  exactly once (inbound messages and status events), nothing lost, nothing doubled.

Concurrency (BENCH_CONCURRENCY, default 8): the load is closed-loop, so latency is about in-flight / rps
(Little's law) and a larger in-flight count only lengthens the queue in front of gunicorn's threads. What
matters is the concurrency a real sender uses: Meta delivers a WhatsApp app's webhooks over a handful of
connections at a time (it does not publish a figure; it slows down and retries when an endpoint lags
rather than opening more), so 8 in flight stands for a couple of busy apps/numbers at once. The same
run repeats the measurement at BENCH_ALSO_CONCURRENCY (default 48, a burst far above that) with fresh
bodies, reported under `at_<n>`.

Celery workers (BENCH_PROCESS_DURING_LOAD, default 0): in production web and workers run on different
machines; on this 2-core box a worker processing rows during the rounds takes CPU from gunicorn and
the figure would measure the box, not the intake. So by default the workers start once the rounds are
over, drain the backlog (their rate is `processing_rows_per_s`), and the correctness checks cover every
accepted event. BENCH_PROCESS_DURING_LOAD=1 runs them during the rounds instead.

Progress goes to stderr; the last stdout line is the JSON result.
"""

import asyncio
import json
import os
import random
import secrets
import statistics
import sys
import time
from pathlib import Path

from tests.benchmarks.common import percentile, prepare_database

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "4000"))  # unique webhook bodies (duplicates come on top)
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
ALSO_CONCURRENCY = int(os.environ.get("BENCH_ALSO_CONCURRENCY", "48"))  # 0: skip the second set
PROCESS_DURING_LOAD = os.environ.get("BENCH_PROCESS_DURING_LOAD", "0") == "1"
DUP_RATE = float(os.environ.get("BENCH_DUP_RATE", "0.05"))
SHOPS = int(os.environ.get("BENCH_SHOPS", "2"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "200"))
DRAIN_TIMEOUT = float(os.environ.get("BENCH_DRAIN_TIMEOUT", "420"))
SINGLE_UNITS = 50  # x4 webhooks sent one at a time after the load
CUSTOMERS_PER_SHOP = 300
PASSWORD = "Kopi-Susu-2026!"
BARE_PATH = "/healthz"
ROOT = Path(__file__).resolve().parents[2]


def log(message: str) -> None:
    print(f"[webhook_intake] {message}", file=sys.stderr, flush=True)


# --- setup ---------------------------------------------------------------------------------------------


class BenchShop:
    def __init__(self, shop, phone_number_id: str, secret: str, outbound: list[str], customers: list[str]):
        self.shop, self.phone_number_id, self.secret = shop, phone_number_id, secret
        self.outbound, self.customers = outbound, customers


def make_shops(run_id: str, run_num: int, units_per_shop: int) -> list[BenchShop]:
    """Signs up SHOPS shops, connects a number to each, creates outbound messages whose statuses will come in."""
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from crm.models import Contact
    from tenants import provisioning
    from tenants.services.signup import SignupForm, sign_up
    from whatsapp.channel.services import connect
    from whatsapp.models import AutoReplyRule, Conversation, Message

    provisioning.refill_pool()
    shops = []
    for number in range(SHOPS):
        shop, owner = sign_up(
            SignupForm(
                shop_name=f"Toko Webhook {run_id} {number}",
                subdomain=f"wh-{run_id}-{number}",
                owner_name="Sari Wulandari",
                email=f"owner-wh-{run_id}-{number}@bench.test",
                password=PASSWORD,
            )
        )
        pnid = f"19{run_num:06d}{number:04d}"
        secret = f"app-secret-{run_id}-{number}-{secrets.token_hex(8)}"
        with schema_context(shop.schema_name):
            # No auto-replies here: this benchmark is about intake and processing, not sending.
            AutoReplyRule.objects.update(active=False)
            connect(shop, owner.pk, phone_number_id=pnid, waba_id=f"WABA-{run_id}-{number}",
                    display_phone_number=f"62811{run_num:06d}{number}", access_token=f"token-{run_id}-{number}",
                    app_secret=secret)  # fmt: skip
            wa_id = f"6282{run_num:06d}{number:03d}"
            contact = Contact.objects.create(wa_id=wa_id, phone=f"+{wa_id}", name="Pelanggan Lama",
                                             last_inbound_at=timezone.now())  # fmt: skip
            conversation = Conversation.objects.create(contact=contact)
            wamids = [f"wamid.BENCHOUT.{run_id}.{number}.{i}" for i in range(units_per_shop)]
            Message.objects.bulk_create(
                [
                    Message(
                        conversation=conversation,
                        direction=Message.Direction.OUTBOUND,
                        wamid=wamid,
                        type="text",
                        text="Terima kasih kak",
                        status=Message.Status.ACCEPTED,
                        payload={"to": wa_id},
                    )
                    for wamid in wamids
                ],
                batch_size=1000,
            )
        connection.set_schema_to_public()
        customers = [f"6281{run_num:06d}{number}{i:03d}" for i in range(CUSTOMERS_PER_SHOP)]
        shops.append(BenchShop(shop, pnid, secret, wamids, customers))
        log(f"shop {shop.schema_name}: number {pnid}, {len(wamids)} outbound messages awaiting statuses")
    # sign_up() queued a pool refill for the workers; doing it now keeps schema building out of the run.
    provisioning.refill_pool()
    return shops


class Body:
    __slots__ = ("headers", "key", "kind", "raw")

    def __init__(self, raw: bytes, headers: dict, kind: str, key: tuple):
        self.raw, self.headers, self.kind, self.key = raw, headers, kind, key


def build_bodies(shops: list[BenchShop], run_id: str, host: str, start: int, units: int) -> list[Body]:
    """`units` x (1 inbound text + sent/delivered/read of one outbound message), spread over the shops."""
    from tests.whatsapp import webhooks

    now = int(time.time())
    bodies = []
    for unit in range(start, start + units):
        shop = shops[unit % len(shops)]
        index = unit // len(shops)
        customer = shop.customers[index % len(shop.customers)]
        message_id = f"wamid.BENCHIN.{run_id}.{unit}"
        payloads = [
            (
                "inbound",
                ("in", message_id),
                webhooks.inbound_text(
                    shop.phone_number_id,
                    customer,
                    f"Kak, gamis no {unit} ada warna lain?",
                    name=f"Pelanggan {index}",
                    message_id=message_id,
                    timestamp=now,
                ),
            )
        ]
        wamid = shop.outbound[index]
        for name in ("sent", "delivered", "read"):
            payloads.append(
                (
                    "status",
                    ("st", wamid, name),
                    webhooks.status(shop.phone_number_id, wamid, name, "628", timestamp=now),
                )
            )
        for kind, key, payload in payloads:
            raw = webhooks.body_bytes(payload)
            headers = {
                "Host": host,
                "Content-Type": "application/json",
                "X-Hub-Signature-256": webhooks.signature(raw, shop.secret),
            }
            bodies.append(Body(raw, headers, kind, key))
    return bodies


# --- load ----------------------------------------------------------------------------------------------


async def blast(session, url: str, bodies: list[Body] | None, count: int, host: str, concurrency: int = 0) -> dict:
    """`count` requests at CONCURRENCY: POSTs of `bodies` in order, or GETs of `url` when bodies is None."""
    latencies: list[float] = []
    codes: dict[int, int] = {}
    accepted: list[tuple] = []
    errors = 0
    cursor = iter(range(count))
    get_headers = {"Host": host}

    async def worker():
        nonlocal errors
        for i in cursor:
            started = time.perf_counter()
            try:
                if bodies is None:
                    async with session.get(url, headers=get_headers) as response:
                        await response.read()
                else:
                    body = bodies[i]
                    async with session.post(url, data=body.raw, headers=body.headers) as response:
                        await response.read()
            except Exception:
                errors += 1
                continue
            latencies.append(time.perf_counter() - started)
            codes[response.status] = codes.get(response.status, 0) + 1
            if bodies is not None and response.status == 200:
                accepted.append(bodies[i].key)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency or CONCURRENCY)))
    elapsed = time.perf_counter() - started
    return {"latencies": latencies, "codes": codes, "errors": errors, "elapsed": elapsed, "accepted": accepted}


async def run_load(base: str, warmup: list[Body], sets: dict[int, list[list[Body]]]) -> dict:
    """Warm-up, then for each concurrency its rounds: bare, intake, bare, intake, ..."""
    import aiohttp

    port = base.rsplit(":", 1)[1]
    host = f"localhost:{port}"
    origin = f"http://127.0.0.1:{port}"  # skip localhost's IPv6 attempt; Host says localhost:<port>
    connector = aiohttp.TCPConnector(limit=max(sets), force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)
    out = {"sets": {}, "accepted": []}
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        bare_url, intake_url = origin + BARE_PATH, origin + "/webhooks/whatsapp/"
        await blast(session, bare_url, None, WARMUP, host)
        warm = await blast(session, intake_url, warmup, len(warmup), host)
        out["accepted"] += warm["accepted"]
        log(f"warm-up done ({WARMUP} GET {BARE_PATH}, {len(warmup)} webhooks: {warm['codes']})")
        for concurrency, rounds in sets.items():
            measured = out["sets"][concurrency] = {"bare": [], "intake": []}
            for number, bodies in enumerate(rounds, 1):
                bare = await blast(session, bare_url, None, len(bodies), host, concurrency)
                intake = await blast(session, intake_url, bodies, len(bodies), host, concurrency)
                measured["bare"].append(bare)
                measured["intake"].append(intake)
                out["accepted"] += intake["accepted"]
                log(
                    f"concurrency {concurrency}, round {number}/{len(rounds)}: "
                    f"bare {len(bodies) / bare['elapsed']:.0f} rps "
                    f"(p50 {statistics.median(bare['latencies']) * 1000:.1f} ms, codes {bare['codes']}), "
                    f"intake {len(bodies) / intake['elapsed']:.0f} rps "
                    f"(p50 {statistics.median(intake['latencies']) * 1000:.1f} ms, "
                    f"p99 {percentile(intake['latencies'], 0.99) * 1000:.1f} ms, codes {intake['codes']}, "
                    f"errors {intake['errors']})"
                )
    return out


def summarise(measured: dict) -> dict:
    """Throughput (median of the rounds) and latency (every request) of one concurrency's rounds."""
    intake_lat = [x for r in measured["intake"] for x in r["latencies"]]
    bare_lat = [x for r in measured["bare"] for x in r["latencies"]]
    intake_rps = [len(r["latencies"]) / r["elapsed"] for r in measured["intake"]]
    bare_rps = [len(r["latencies"]) / r["elapsed"] for r in measured["bare"]]
    return {
        "intake_rps": round(statistics.median(intake_rps), 1),
        "bare_rps": round(statistics.median(bare_rps), 1),
        "ratio": round(statistics.median(intake_rps) / statistics.median(bare_rps), 3),
        "p50_ms": round(statistics.median(intake_lat) * 1000, 2),
        "p99_ms": round(percentile(intake_lat, 0.99) * 1000, 2),
        "bare_p50_ms": round(statistics.median(bare_lat) * 1000, 2),
        "bare_p99_ms": round(percentile(bare_lat, 0.99) * 1000, 2),
        "intake_rps_rounds": [round(x, 1) for x in intake_rps],
        "bare_rps_rounds": [round(x, 1) for x in bare_rps],
    }


async def run_single(base: str, single: list[Body]) -> dict:
    """One request at a time, workers idle: the service time without queueing in front of gunicorn's threads."""
    import aiohttp

    port = base.rsplit(":", 1)[1]
    host, origin = f"localhost:{port}", f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        bare = await blast(session, origin + BARE_PATH, None, len(single), host, concurrency=1)
        intake = await blast(session, origin + "/webhooks/whatsapp/", single, len(single), host, concurrency=1)
    return {"single": intake, "single_bare": bare, "accepted_single": intake["accepted"]}


# --- processing and correctness -----------------------------------------------------------------------


def wait_ready(names: list[str], timeout: float = 90) -> None:
    """Celery logs `... ready.` once it consumes; waiting keeps worker start-up out of the measurements."""
    deadline = time.monotonic() + timeout
    pending = set(names)
    while pending and time.monotonic() < deadline:
        for name in list(pending):
            path = ROOT / "test-artifacts" / f"{name}.log"
            if path.exists() and b" ready." in path.read_bytes():
                pending.discard(name)
        time.sleep(0.3)
    if pending:
        log(f"workers not ready after {timeout:.0f}s: {sorted(pending)} (going on)")


def intake_counts(shop_ids: list[int], since) -> dict[str, int]:
    from django.db.models import Count

    from whatsapp.channel.models import WebhookIntake

    rows = (
        WebhookIntake.objects.filter(shop_id__in=shop_ids, received_at__gte=since)
        .values("status")
        .annotate(n=Count("id"))
    )
    return {row["status"]: row["n"] for row in rows}


def drain(shop_ids: list[int], since) -> tuple[dict[str, int], float]:
    started = time.monotonic()
    last_log = 0.0
    while True:
        counts = intake_counts(shop_ids, since)
        waited = time.monotonic() - started
        if not counts.get("pending") or waited > DRAIN_TIMEOUT:
            return counts, waited
        if waited - last_log >= 5:
            log(f"  waiting for the workers: {counts} ({waited:.0f}s)")
            last_log = waited
        time.sleep(0.25)


def processing_span(shop_ids: list[int], since, workers_from) -> tuple[float, int]:
    """From the first row the workers could take (receipt, or their start) to the last processed: their rate."""
    from django.db.models import Max, Min

    from whatsapp.channel.models import WebhookIntake

    span = WebhookIntake.objects.filter(shop_id__in=shop_ids, received_at__gte=since, status="processed").aggregate(
        first=Min("received_at"), last=Max("processed_at")
    )
    rows = WebhookIntake.objects.filter(shop_id__in=shop_ids, received_at__gte=since, status="processed").count()
    if not span["first"] or not span["last"]:
        return 0.0, rows
    return (span["last"] - max(span["first"], workers_from)).total_seconds(), rows


def check(shops: list[BenchShop], expected: set[tuple], accepted: set[tuple]) -> dict:
    """What the shop schemas hold for every event we sent."""
    from django.db.models import Count
    from django_tenants.utils import schema_context

    from whatsapp.models import Message, StatusEvent

    inbound_ids = {key[1] for key in expected if key[0] == "in"}
    status_keys = {(key[1], key[2]) for key in expected if key[0] == "st"}
    outbound_ids = {key[0] for key in status_keys}
    stored: dict[str, int] = {}
    events: dict[tuple, int] = {}
    final_read = 0
    for bench_shop in shops:
        with schema_context(bench_shop.shop.schema_name):
            for row in (
                Message.objects.filter(wamid__in=inbound_ids, direction="in")
                .values("wamid")
                .annotate(n=Count("id"))
                .iterator()
            ):
                stored[row["wamid"]] = stored.get(row["wamid"], 0) + row["n"]
            for row in (
                StatusEvent.objects.filter(wamid__in=bench_shop.outbound)
                .values("wamid", "status")
                .annotate(n=Count("id"))
                .iterator()
            ):
                key = (row["wamid"], row["status"])
                events[key] = events.get(key, 0) + row["n"]
            final_read += Message.objects.filter(wamid__in=outbound_ids, status="read").count()
    accepted_in = {key[1] for key in accepted if key[0] == "in"}
    accepted_st = {(key[1], key[2]) for key in accepted if key[0] == "st"}
    return {
        "inbound_once": sum(1 for wamid in inbound_ids if stored.get(wamid) == 1),
        "statuses_once": sum(1 for key in status_keys if events.get(key) == 1),
        "lost_inbound": sum(1 for wamid in accepted_in if not stored.get(wamid)),
        "lost_statuses": sum(1 for key in accepted_st if not events.get(key)),
        "duplicated_inbound": sum(1 for n in stored.values() if n > 1),
        "duplicated_statuses": sum(1 for n in events.values() if n > 1),
        "outbound_read": final_read,
        "outbound_expected": len(outbound_ids),
        "never_accepted": len(expected - accepted),
    }


def gunicorn_restarts() -> int:
    path = ROOT / "test-artifacts" / "web.log"
    if not path.exists():
        return 0
    return path.read_text(errors="replace").count("Autorestarting worker")


# --- main ----------------------------------------------------------------------------------------------


def main() -> int:
    prepare_database(log)
    from contextlib import ExitStack

    from django.utils import timezone

    from tests.support.servers import celery_worker, web_server

    run_id = secrets.token_hex(3)
    run_num = secrets.randbelow(10**6)
    concurrencies = [CONCURRENCY] + ([ALSO_CONCURRENCY] if ALSO_CONCURRENCY not in (0, CONCURRENCY) else [])
    units = max(ROUNDS, REQUESTS // 4)  # per concurrency
    warmup_units = max(1, WARMUP // 4)
    total_units = units * len(concurrencies) + warmup_units + SINGLE_UNITS
    shops = make_shops(run_id, run_num, total_units // SHOPS + 2)
    shop_ids = [s.shop.pk for s in shops]

    # The workers must never reach graph.facebook.com; nothing here sends, this only makes sure.
    env = {"WHATSAPP_GRAPH_BASE_URL": "http://127.0.0.1:9"}
    worker_names = [f"bench-intake-{run_id}-{n}" for n in range(WORKERS)]
    since = timezone.now()
    with web_server(**env) as base, ExitStack() as workers:
        log(f"gunicorn at {base} (infra/gunicorn.conf.py, workers/threads from GUNICORN_* as web_server() sets)")

        def start_workers():
            for name in worker_names:
                workers.enter_context(celery_worker(name, **env))
            wait_ready(worker_names)
            return timezone.now()

        workers_from = start_workers() if PROCESS_DURING_LOAD else None
        host_header = f"localhost:{base.rsplit(':', 1)[1]}"
        bodies, duplicates, sets = [], [], {}
        for index, concurrency in enumerate(concurrencies):
            fresh = build_bodies(shops, run_id, host_header, index * units, units)
            again = random.Random(7 + index).sample(fresh, int(len(fresh) * DUP_RATE))
            sent_bodies = fresh + again
            random.Random(11 + index).shuffle(sent_bodies)
            size = -(-len(sent_bodies) // ROUNDS)
            sets[concurrency] = [sent_bodies[i : i + size] for i in range(0, len(sent_bodies), size)]
            bodies += fresh
            duplicates += again
        start = units * len(concurrencies)
        warmup = build_bodies(shops, run_id, host_header, start, warmup_units)
        single = build_bodies(shops, run_id, host_header, start + warmup_units, SINGLE_UNITS)
        log(
            f"{len(bodies)} unique webhooks ({len(bodies) // 4} inbound, {len(bodies) // 4 * 3} statuses) + "
            f"{len(duplicates)} re-sent, over {len(shops)} shops, concurrency {concurrencies}, {ROUNDS} rounds each; "
            f"Celery workers {'during' if PROCESS_DURING_LOAD else 'after'} the load"
        )
        load = asyncio.run(run_load(base, warmup, sets))
        if workers_from is None:
            workers_from = start_workers()
        log("load done; waiting for every intake row to be processed ...")
        counts, drain_s = drain(shop_ids, since)
        log(f"intake rows: {counts} (drained {drain_s:.1f}s after the load)")
        span_s, processed_rows = processing_span(shop_ids, since, workers_from)
        load.update(asyncio.run(run_single(base, single)))
        load["accepted"] += load.pop("accepted_single", [])
        counts, _ = drain(shop_ids, since)
    restarts = gunicorn_restarts()

    expected = {b.key for b in bodies + warmup + single}
    accepted = set(load["accepted"])
    result_check = check(shops, expected, accepted)
    log(f"database check: {result_check}")

    main_set = summarise(load["sets"][CONCURRENCY])
    codes: dict[str, int] = {}
    client_errors = 0
    for measured in load["sets"].values():
        for r in measured["intake"]:
            client_errors += r["errors"]
            for code, n in r["codes"].items():
                codes[str(code)] = codes.get(str(code), 0) + n
    result = {
        "bench": "webhook_intake",
        "sent": sum(len(r) for r in sets[CONCURRENCY]),
        **{k: main_set[k] for k in ("intake_rps", "bare_rps", "ratio", "p50_ms", "p99_ms")},
        "processed_once": result_check["inbound_once"] + result_check["statuses_once"],
        "lost": result_check["lost_inbound"] + result_check["lost_statuses"],
        "duplicated": result_check["duplicated_inbound"] + result_check["duplicated_statuses"],
        "concurrency": CONCURRENCY,
        "bare_endpoint": f"GET {BARE_PATH}",
        "latency_note": "closed loop: p50/p99 at `concurrency` in flight (Little: ~concurrency / rps); "
        "c1_* are one request at a time",
        **{k: v for k, v in main_set.items() if k not in ("intake_rps", "bare_rps", "ratio", "p50_ms", "p99_ms")},
        **{f"at_{c}": {"sent": sum(len(r) for r in sets[c]), **summarise(load["sets"][c])} for c in concurrencies[1:]},
        "celery_workers_during_load": PROCESS_DURING_LOAD,
        "c1_p50_ms": round(statistics.median(load["single"]["latencies"]) * 1000, 2),
        "c1_p99_ms": round(percentile(load["single"]["latencies"], 0.99) * 1000, 2),
        "c1_bare_p50_ms": round(statistics.median(load["single_bare"]["latencies"]) * 1000, 2),
        "shops": len(shops),
        "unique_events": len(bodies),
        "resent_duplicates": len(duplicates),
        "warmup_webhooks": len(warmup),
        "http_codes": codes,
        "client_errors": client_errors,
        "inbound_stored_once": result_check["inbound_once"],
        "status_events_once": result_check["statuses_once"],
        "outbound_read": result_check["outbound_read"],
        "outbound_expected": result_check["outbound_expected"],
        "intake_rows": counts,
        "unprocessed_rows": counts.get("pending", 0) + counts.get("failed", 0),
        "drain_after_load_s": round(drain_s, 2),
        "processing_rows_per_s": round(processed_rows / span_s, 1) if span_s else None,
        "celery_workers": WORKERS,
        "gunicorn_worker_restarts": restarts,
    }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
