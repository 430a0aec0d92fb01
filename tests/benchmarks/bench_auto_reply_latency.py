"""Benchmark `auto_reply_latency`: customer message -> webhook -> intake -> Celery -> auto-reply -> Graph API.

Run by `make bench NAME=auto_reply_latency` (devserver sets DATABASE_URL, REDIS_URL, PYTHONPATH and
DJANGO_SETTINGS_MODULE), or directly with those set. Every run signs up a fresh shop with a fresh
phone_number_id and fresh customers, so reruns work; the shop stays in the database.

Real processes: the WhatsApp Cloud API simulator (Meta and the customers' phones; it also sends the
sent/delivered/read status webhooks for every reply, as Meta would), gunicorn with infra/gunicorn.conf.py,
Celery workers split by queue as `make run` and the README's deploy do it (the first serves `interactive`:
customer messages and replies, BENCH_INTERACTIVE_POOL (prefork) x BENCH_INTERACTIVE_CONCURRENCY (4); the
other BENCH_WORKERS - 1 serve `default`: status updates, threads pool, at a lower CPU priority, see
config/celery.py), PostgreSQL and Redis as configured. Under load a processing task applies the pending
webhooks of the shop in batches (whatsapp/tasks.py), so `queue_and_processing` includes waiting for a batch.
The shop has one keyword rule ("harga", cooldown 0); BENCH_RATE distinct customers per second write
"harga ...?" for BENCH_SECONDS seconds, each triggered through the simulator's control plane
(`POST /_sim/customers/{wa_id}/messages`), which queues the signed inbound webhook at once.

How latency is measured (`measured_as`): the simulator keeps whole-second timestamps only, so times are
taken here, on one clock (time.perf_counter of this process):
- start: just before this process asks the simulator to send the customer's message (the simulator
  queues the webhook POST to gunicorn before answering, so this is at most ~1 ms before the webhook leaves);
- end: when the auto-reply's `POST /{version}/{phone_number_id}/messages` reaches a pass-through tap in this
  process, which WHATSAPP_GRAPH_BASE_URL points at and which forwards every Graph request to the simulator
  unchanged (only successful sends count; the first one per customer).
Missing replies are counted on the simulator's side (each customer's thread must hold a business message).
`server_cpu_ms_per_message` is the CPU time of this run's own processes (web server, workers, simulator;
not PostgreSQL or Redis) from the warm-up until every status webhook is processed, per customer message: a
cost that other work on a shared machine does not skew, unlike the latencies; `cpu_ms_per_message_by_process`
splits it by process. The servers run with DJANGO_DEBUG=false, as deployed.
A breakdown from the database (wall clock: intake received_at / processed_at, reply created_at) says where
the time goes.

Progress goes to stderr; the last stdout line is the JSON result.
"""

import asyncio
import json
import os
import secrets
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from tests.benchmarks.common import percentile, prepare_database

RATE = float(os.environ.get("BENCH_RATE", "50"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
# Processes, not threads: one process is one GIL, and on 2 shared cores it gets one scheduler share.
INTERACTIVE_CONCURRENCY = int(os.environ.get("BENCH_INTERACTIVE_CONCURRENCY", "4"))
INTERACTIVE_POOL = os.environ.get("BENCH_INTERACTIVE_POOL", "prefork")
WARMUP = int(os.environ.get("BENCH_WARMUP", "20"))
REPLY_TIMEOUT = float(os.environ.get("BENCH_REPLY_TIMEOUT", str(max(60.0, 2 * SECONDS))))
PASSWORD = "Kopi-Susu-2026!"
ROOT = Path(__file__).resolve().parents[2]


def log(message: str) -> None:
    print(f"[auto_reply_latency] {message}", file=sys.stderr, flush=True)


def ms(values: list[float], fraction: float | None = None) -> float | None:
    if not values:
        return None
    value = statistics.median(values) if fraction is None else percentile(values, fraction)
    return round(value * 1000, 1)


# --- the shop ------------------------------------------------------------------------------------------


def make_shop(run_id: str, run_num: int):
    from django.db import connection
    from django_tenants.utils import schema_context

    from tenants import provisioning
    from tenants.services.signup import SignupForm, sign_up
    from whatsapp.channel.services import connect
    from whatsapp.models import AutoReplyRule

    provisioning.refill_pool()
    shop, owner = sign_up(
        SignupForm(
            shop_name=f"Toko Balas {run_id}",
            subdomain=f"ar-{run_id}",
            owner_name="Sari Wulandari",
            email=f"owner-ar-{run_id}@bench.test",
            password=PASSWORD,
        )
    )
    number = {
        "phone_number_id": f"18{run_num:06d}0001",
        "waba_id": f"WABA-AR-{run_id}",
        "display_phone_number": f"62812{run_num:06d}",
        "verified_name": f"Toko Balas {run_id}",
        "access_token": f"token-ar-{run_id}-{secrets.token_hex(8)}",
        "app_secret": f"secret-ar-{run_id}-{secrets.token_hex(8)}",
    }
    with schema_context(shop.schema_name):
        AutoReplyRule.objects.update(active=False)  # whatever signup seeded: one rule, known behaviour
        reply = "Harga mulai 150rb kak, mau warna apa?"
        AutoReplyRule.objects.create(
            name="Harga", kind="keyword", keywords=["harga"], priority=1, reply_text=reply, cooldown_minutes=0
        )
        connect(shop, owner.pk, **{k: v for k, v in number.items() if k != "verified_name"})
    connection.set_schema_to_public()
    provisioning.refill_pool()  # sign_up() queued a refill for the workers; keep schema building out of the run
    return shop, number


# --- the Graph tap -------------------------------------------------------------------------------------


class GraphTap:
    """Pass-through in front of the simulator's Graph API that notes when each successful send arrives."""

    def __init__(self, simulator: str):
        self.simulator = simulator
        self.replies: dict[str, tuple[float, float]] = {}  # wa_id -> (perf_counter, wall) of the first success
        self.sends = 0
        self.refused: dict[int, int] = {}
        self.session = None

    async def handle(self, request):
        from aiohttp import web

        arrived, wall = time.perf_counter(), time.time()
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "content-type")}
        async with self.session.request(
            request.method, self.simulator + request.path_qs, data=body or None, headers=headers
        ) as response:
            data = await response.read()
            status, content_type = response.status, response.content_type
        if request.method == "POST" and request.path.endswith("/messages"):
            self.sends += 1
            if status == 200:
                to = (json.loads(body) or {}).get("to")
                if to and to not in self.replies:
                    self.replies[to] = (arrived, wall)
            else:
                self.refused[status] = self.refused.get(status, 0) + 1
        return web.Response(body=data, status=status, content_type=content_type)


# --- load ----------------------------------------------------------------------------------------------


async def run(sim: str, number: dict, tap: GraphTap, tap_port: int, customers: list[str], warmup: list[str]) -> dict:
    import aiohttp
    from aiohttp import web

    tap.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))
    app = web.Application(client_max_size=10 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", tap.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", tap_port).start()
    started: dict[str, tuple[float, float]] = {}
    acked: dict[str, float] = {}
    failures: list[str] = []
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=128)) as session:

            async def say(wa_id: str, n: int) -> None:
                body = {"phone_number_id": number["phone_number_id"], "type": "text", "name": f"Pelanggan {n}",
                        "text": f"kak harga gamis no {n} berapa?"}  # fmt: skip
                started[wa_id] = (time.perf_counter(), time.time())
                try:
                    async with session.post(f"{sim}/_sim/customers/{wa_id}/messages", json=body) as response:
                        await response.read()
                        if response.status != 200:
                            failures.append(f"{wa_id}: HTTP {response.status}")
                except aiohttp.ClientError as exc:
                    failures.append(f"{wa_id}: {exc!r}")
                acked[wa_id] = time.perf_counter() - started[wa_id][0]

            async def wait_replies(wanted: list[str], timeout: float) -> float:
                began = time.monotonic()
                while time.monotonic() - began < timeout:
                    if all(w in tap.replies for w in wanted):
                        break
                    await asyncio.sleep(0.05)
                return time.monotonic() - began

            # Warm-up (not counted): first requests import views, open connections, fill caches.
            await asyncio.gather(*(say(w, i) for i, w in enumerate(warmup)))
            await wait_replies(warmup, 30)
            log(f"warm-up: {sum(w in tap.replies for w in warmup)}/{len(warmup)} replies")
            await asyncio.sleep(2)  # let the warm-up's status webhooks settle

            tasks = []
            load_started = time.perf_counter()
            for n, wa_id in enumerate(customers):
                delay = load_started + n / RATE - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(say(wa_id, n)))
                if n and n % int(RATE * 10) == 0:
                    got = sum(w in tap.replies for w in customers[:n])
                    log(f"  {n}/{len(customers)} sent, {got} replied so far")
            await asyncio.gather(*tasks)
            load_s = time.perf_counter() - load_started
            log(f"{len(customers)} messages triggered in {load_s:.1f}s ({len(customers) / load_s:.1f}/s)")
            waited = await wait_replies(customers, REPLY_TIMEOUT)
            log(f"replies: {sum(w in tap.replies for w in customers)}/{len(customers)} ({waited:.1f}s after the load)")

            # The simulator's view: every customer's thread must hold our reply.
            threads: dict[str, list] = {}
            gate = asyncio.Semaphore(8)

            async def thread(wa_id: str) -> None:
                async with gate:
                    url = f"{sim}/_sim/customers/{wa_id}/messages?phone_number_id={number['phone_number_id']}"
                    async with session.get(url) as response:
                        threads[wa_id] = await response.json()

            await asyncio.gather(*(thread(w) for w in customers))
    finally:
        await tap.session.close()
        await runner.cleanup()
    return {"started": started, "acked": acked, "failures": failures, "threads": threads, "load_s": load_s}


# --- where the time goes -------------------------------------------------------------------------------


def breakdown(shop, since, started: dict, replies: dict) -> dict:
    """Per customer message, from the database (wall clock, same machine): the legs of the journey."""
    from django_tenants.utils import schema_context

    from whatsapp.channel.models import WebhookIntake
    from whatsapp.models import Message

    legs: dict[str, list[float]] = {"webhook_to_intake": [], "queue_and_processing": [], "rule_and_reply_row": [],
                                    "reply_row_to_graph": []}  # fmt: skip
    received: dict[str, tuple] = {}
    for row in WebhookIntake.objects.filter(shop=shop, received_at__gte=since).values_list(
        "body", "received_at", "processed_at"
    ):
        payload = json.loads(bytes(row[0]))
        for entry in payload.get("entry") or []:
            for change in entry.get("changes") or []:
                for message in (change.get("value") or {}).get("messages") or []:
                    received[message.get("from")] = (row[1].timestamp(), row[2].timestamp() if row[2] else None)
    with schema_context(shop.schema_name):
        created = dict(
            Message.objects.filter(direction="out", automated=True, created_at__gte=since).values_list(
                "conversation__contact__wa_id", "created_at"
            )
        )
    for wa_id, (_, wall0) in started.items():
        if wa_id not in received or wa_id not in replies or wa_id not in created:
            continue
        got, processed = received[wa_id]
        reply_row = created[wa_id].timestamp()
        legs["webhook_to_intake"].append(got - wall0)
        if processed:
            legs["queue_and_processing"].append(processed - got)
            legs["rule_and_reply_row"].append(reply_row - processed)
        legs["reply_row_to_graph"].append(replies[wa_id][1] - reply_row)
    out = {}
    for name, values in legs.items():
        out[f"{name}_p50_ms"] = ms(values)
        out[f"{name}_p99_ms"] = ms(values, 0.99)
    return out


# --- main ----------------------------------------------------------------------------------------------


def main() -> int:
    prepare_database(log)
    from django.utils import timezone

    from tests.support.servers import celery_worker, free_port, process_env, running, sim_call, simulator, web_server

    run_id = secrets.token_hex(3)
    run_num = secrets.randbelow(10**5)
    shop, number = make_shop(run_id, run_num)
    count = int(RATE * SECONDS)
    customers = [f"628{run_num:05d}{n:05d}" for n in range(count)]
    warmup = [f"628{run_num:05d}9{n:04d}" for n in range(WARMUP)]
    log(f"shop {shop.schema_name}, number {number['phone_number_id']}: {count} customers at {RATE:g}/s")

    tap_port = free_port()
    since = timezone.now()
    # Meta-like status timing: each reply comes back as sent/delivered/read webhooks, processed like any other.
    with simulator(sent_ms="50", delivered_ms="150", read_ms="1500") as sim:
        # Debug off, as deployed: Django's debug cursor keeps and logs every query, a cost production never pays.
        graph = {"WHATSAPP_GRAPH_BASE_URL": f"http://127.0.0.1:{tap_port}", "DJANGO_DEBUG": "false"}
        empty_queues()
        with web_server(**graph) as web, ExitStack() as stack:
            names = [f"bench-reply-{run_id}-{n}" for n in range(WORKERS)]
            # Customer-facing work has its own worker; statuses go to the others.
            interactive = [
                sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", INTERACTIVE_POOL,
                "--concurrency", str(INTERACTIVE_CONCURRENCY), "-l", "info", "--without-heartbeat",
                "--without-mingle", "--without-gossip", "-n", f"{names[0]}@%h", "-Q", "interactive",
            ]  # fmt: skip
            stack.enter_context(running(names[0], interactive, process_env(**graph)))
            for name in names[1:]:
                stack.enter_context(celery_worker(name, queues="default", **graph))
            wait_ready(names)
            sim_call(sim, "POST", "/_sim/numbers", {**number, "callback_url": f"{web}/webhooks/whatsapp/",
                                                    "throughput_mps": 80})  # fmt: skip
            tap = GraphTap(sim)
            cpu_before = descendants_cpu_s()
            outcome = asyncio.run(run(sim, number, tap, tap_port, customers, warmup))
            stats = sim_call(sim, "GET", "/_sim/stats")
            drained = wait_drained(shop, since)
            cpu_after = descendants_cpu_s()
            cpu_by_role = {role: cpu_after[role] - cpu_before.get(role, 0.0) for role in cpu_after}

    latencies = [tap.replies[w][0] - outcome["started"][w][0] for w in customers if w in tap.replies]
    replied_in_sim = sum(1 for w in customers if any(m["direction"] == "in" for m in outcome["threads"].get(w, [])))
    legs = breakdown(shop, since, outcome["started"], tap.replies)
    acks = list(outcome["acked"].values())
    result = {
        "bench": "auto_reply_latency",
        "rate_per_s": round(count / outcome["load_s"], 1),
        "messages": count,
        "p50_ms": ms(latencies),
        "p99_ms": ms(latencies, 0.99),
        "missing_replies": count - replied_in_sim,
        "measured_as": "perf_counter here: before POST /_sim/customers/{wa_id}/messages (the simulator queues "
        "the webhook before answering) -> arrival of the successful Graph POST /messages at a pass-through tap "
        "in front of the simulator",
        "target_rate_per_s": RATE,
        "seconds": SECONDS,
        "p90_ms": ms(latencies, 0.90),
        "max_ms": ms([max(latencies)]) if latencies else None,
        "replies_seen_at_graph": len(latencies),
        "trigger_ack_p50_ms": ms(acks),
        "trigger_failures": len(outcome["failures"]),
        "graph_sends": tap.sends,
        "graph_refused": {str(k): v for k, v in tap.refused.items()},
        "sim_webhooks_sent": stats.get("webhooks_sent"),
        "sim_webhooks_failed": stats.get("webhooks_failed"),
        "sim_webhook_retries": stats.get("webhook_retries"),
        "intake_rows": drained,
        "server_cpu_ms_per_message": round(sum(cpu_by_role.values()) * 1000 / (count + len(warmup)), 1),
        "cpu_ms_per_message_by_process": {
            role: round(seconds * 1000 / (count + len(warmup)), 1) for role, seconds in sorted(cpu_by_role.items())
        },
        "celery_workers": WORKERS,
        "interactive_pool": f"{INTERACTIVE_POOL} x{INTERACTIVE_CONCURRENCY}",
        **legs,
    }
    if outcome["failures"]:
        log(f"trigger failures (first 5): {outcome['failures'][:5]}")
    print(json.dumps(result), flush=True)
    return 0


ROLES = (("gunicorn", "web"), ("-Q interactive", "interactive_worker"), ("-Q default", "status_worker"),
         ("whatsapp.simulator", "simulator"))  # fmt: skip


def descendants_cpu_s() -> dict[str, float]:
    """CPU seconds used so far by the processes this one started and theirs (gunicorn's and Celery's children,
    those already ended and reaped included), by role: the command line of the child of this process that
    leads the subtree."""
    parents, cpu, commands = {}, {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # ended meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()
        pid = int(entry)
        parents[pid], commands[pid] = int(fields[1]), command
        # utime + stime, and cutime + cstime: the children it has reaped (a recycled gunicorn worker)
        cpu[pid] = sum(int(field) for field in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    by_role: dict[str, float] = {}
    for leader, parent in parents.items():
        if parent != os.getpid():
            continue
        role = next((name for marker, name in ROLES if marker in commands[leader]), "other")
        subtree, frontier = {leader}, {leader}
        while frontier:
            frontier = {pid for pid, parent in parents.items() if parent in frontier} - subtree
            subtree |= frontier
        by_role[role] = by_role.get(role, 0.0) + sum(cpu[pid] for pid in subtree)
    return by_role


def empty_queues() -> None:
    """Tasks an interrupted run left in the broker (its replies' retries, restored at shutdown) would otherwise
    run in this one, for another shop, and count in its CPU."""
    from config.celery import app
    from config.redis import redis_client

    with app.connection_for_write() as broker:
        for queue in ("interactive", "default"):
            broker.default_channel.queue_purge(queue)
    redis_client().delete("unacked", "unacked_index")


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


def wait_drained(shop, since, timeout: float = 90) -> dict[str, int]:
    """Intake rows of the run by status, once the status webhooks of the last replies are in (bounded)."""
    from django.db.models import Count

    from whatsapp.channel.models import WebhookIntake

    deadline = time.monotonic() + timeout
    while True:
        rows = WebhookIntake.objects.filter(shop=shop, received_at__gte=since).values("status").annotate(n=Count("id"))
        counts = {row["status"]: row["n"] for row in rows}
        if not counts.get("pending") or time.monotonic() > deadline:
            return counts
        time.sleep(0.25)


if __name__ == "__main__":
    sys.exit(main())
