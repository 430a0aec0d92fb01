"""Benchmark `tenants_scale`: one PostgreSQL with 1,000 shops against one with 10.

Run by `make bench NAME=tenants_scale` (devserver sets DATABASE_URL, REDIS_URL, PYTHONPATH and
DJANGO_SETTINGS_MODULE), or directly with those set. The two sizes live in two databases of that
server, `<database>_tscale_small` and `<database>_tscale_large`, each set up by this script run as a
child process on it (`--case small|large`); the inbox of both is then measured in one run, side by side.

Shops (`tscale-0001`, ...) are real: each has its own schema with every table, made by cloning a
migrated pool schema (tests/benchmarks/bulk_shops.py) and signed up through `sign_up()`, then given
an inbox of BENCH_CONVERSATIONS (200) conversations with contacts and BENCH_MESSAGES (4) messages
each. Shops are kept: a rerun only tops up what is missing (the output says how many were reused).

Measured:
- large case: BENCH_SIGNUPS (30) signups at 1,000 shops, signup-to-usable as the provisioning
  benchmark measures it (`sign_up()`, the handoff to the shop's host, the session API answering),
  the pool refilled by cloning between signups, outside the timed section; then one no-op
  `migrate_schemas` over every schema through the configured executor.
- both cases: GET /api/inbox/conversations/ through gunicorn with infra/gunicorn.conf.py (one server
  per database, both up at once), each shop's owner logged in (the signup handoff). BENCH_INBOX_REQUESTS
  (2000) requests per size, one at a time, alternating small, large, small, ... so that whatever else
  runs on the machine weighs on both alike; each goes to the next shop of shuffled passes over EVERY
  shop of its size: with 1,000 shops each server connection keeps meeting schemas whose catalog it
  has not read yet, the cost schema-per-tenant pays, which latency_ratio shows. BENCH_WARMUP (40)
  untimed requests per size first.
- that cost itself: the inbox list's query on one fresh connection in 200 shops' schemas, the first
  time and again (`inbox_query_first_touch_ms_p50`, `inbox_query_warm_ms_p50`).

Progress goes to stderr; the last stdout line is the JSON result.
"""

import contextlib
import functools
import http.client
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.benchmarks.common import percentile, prepare_database

ROOT = Path(__file__).resolve().parents[2]

SHOPS = int(os.environ.get("BENCH_SHOPS", "1000"))
SMALL_SHOPS = int(os.environ.get("BENCH_SMALL_SHOPS", "10"))
SIGNUPS = int(os.environ.get("BENCH_SIGNUPS", "30"))
CONVERSATIONS = int(os.environ.get("BENCH_CONVERSATIONS", "200"))
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "4"))
INBOX_REQUESTS = int(os.environ.get("BENCH_INBOX_REQUESTS", "2000"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "40"))
PASSWORD = "Kopi-Susu-2026!"
PREFIX = "tscale-"
INBOX_TABLES = ("crm_contact", "whatsapp_conversation", "whatsapp_message")
CASE = "main"


def log(message: str) -> None:
    print(f"[tenants_scale:{CASE}] {message}", file=sys.stderr, flush=True)


# --- the parent: two databases, one child each


def database_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{name}"))


def ensure_database(base: str, name: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
            log(f"created database {name}")


def run_case(case: str, url: str) -> dict:
    env = {**os.environ, "DATABASE_URL": url}
    process = subprocess.run(
        [sys.executable, __file__, "--case", case], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False
    )
    lines = [line for line in process.stdout.splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        raise SystemExit(f"the {case} case failed (exit {process.returncode})")
    return json.loads(lines[-1])


def main() -> int:
    base = os.environ["DATABASE_URL"]
    name = urlsplit(base).path.lstrip("/")
    started = time.perf_counter()
    cases = {}
    for case in ("small", "large"):
        ensure_database(base, f"{name}_tscale_{case}")
        url = database_url(base, f"{name}_tscale_{case}")
        cases[case] = {**run_case(case, url), "database_url": url}
    inbox = measure_inboxes(cases)
    small, large = cases["small"], cases["large"]
    for case, figures in inbox.items():
        cases[case].update({f"inbox_{key}_ms": value for key, value in figures.items()})
        cases[case]["inbox_shops"] = len(cases[case]["sessions"])
    result = {
        "bench": "tenants_scale",
        "shops": large["shops"],
        "noop_migrate_s": large["noop_migrate_s"],
        "inbox_p95_ms_small": small["inbox_p95_ms"],
        "inbox_p95_ms_large": large["inbox_p95_ms"],
        "latency_ratio": round(large["inbox_p95_ms"] / small["inbox_p95_ms"], 3),
        "latency_target": 1.10,
        "latency_ratio_p50": round(large["inbox_p50_ms"] / small["inbox_p50_ms"], 3),
        "signup_p50_s": large["signup_p50_s"],
        "signup_p95_s": large["signup_p95_s"],
        "signups": large["signups"],
        "small_shops": small["shops"],
        "inbox_p50_ms_small": small["inbox_p50_ms"],
        "inbox_p50_ms_large": large["inbox_p50_ms"],
        "inbox_p99_ms_small": small["inbox_p99_ms"],
        "inbox_p99_ms_large": large["inbox_p99_ms"],
        "inbox_requests": INBOX_REQUESTS,
        "inbox_measured_as": "GET /api/inbox/conversations/ via gunicorn (infra/gunicorn.conf.py), owner's session,"
        " one request at a time alternating between the two sizes' servers, shops in shuffled passes",
        "inbox_shops_rotated_small": small["inbox_shops"],
        "inbox_shops_rotated_large": large["inbox_shops"],
        "conversations_per_shop": CONVERSATIONS,
        "schemas_large": large["schemas"],
        "inbox_query_first_touch_ms_p50": large["inbox_query_first_touch_ms_p50"],
        "inbox_query_warm_ms_p50": large["inbox_query_warm_ms_p50"],
        "noop_migrate_executor": large["noop_migrate_executor"],
        "shops_reused": {"small": small["shops_reused"], "large": large["shops_reused"]},
        "shops_created": {"small": small["shops_created"], "large": large["shops_created"]},
        "setup_s": {"small": small["setup_s"], "large": large["setup_s"]},
        "total_s": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(result), flush=True)
    return 0


# --- a child: one database, one size


def bench_shops():
    from tenants.models import Shop

    return list(Shop.objects.shops().filter(slug__startswith=PREFIX).order_by("slug"))


@functools.cache
def cloner():
    """Clones of a pool schema this run makes by every migration (so: what migrate makes today)."""
    from tests.benchmarks.bulk_shops import SchemaCloner

    made = SchemaCloner()
    log(f"template {made.template}: migrated, dumped ({len(made.dump) // 1024} kB of SQL)")
    return made


def ensure_shops(target: int) -> tuple[list, int]:
    """The case's shops, topped up to `target` (pool schemas cloned, then real signups); returns (shops, made)."""
    from tenants.services.signup import SignupForm, sign_up

    shops = bench_shops()
    missing = target - len(shops)
    if missing <= 0:
        log(f"{len(shops)} shops kept from an earlier run, reused")
        return shops, 0
    log(f"{len(shops)} shops kept from an earlier run; making {missing} more (untimed)")
    started = time.perf_counter()
    cloner().create_ready_schemas(missing, progress=progress_logger("cloned pool schemas", missing, started))
    log(f"  {missing} pool schemas cloned in {time.perf_counter() - started:.0f}s")
    taken = {shop.slug for shop in shops}
    number, made = 0, 0
    signed_up = time.perf_counter()
    while made < missing:
        number += 1
        slug = f"{PREFIX}{number:04d}"
        if slug in taken:
            continue
        sign_up(SignupForm(shop_name=f"Toko Skala {number}", subdomain=slug, owner_name="Sari Wulandari",
                           email=f"owner@{slug}.bench.test", password=PASSWORD))  # fmt: skip
        made += 1
        if made % 50 == 0 or made == missing:
            log(f"  signed up {made}/{missing} ({time.perf_counter() - signed_up:.0f}s)")
    return bench_shops(), made


def progress_logger(what: str, total: int, started: float):
    def progress(done: int) -> None:
        if done % 50 == 0 or done == total:
            log(f"  {what}: {done}/{total} ({time.perf_counter() - started:.0f}s)")

    return progress


def fill_inbox(schema: str) -> None:
    """A realistic inbox made through the ORM: contacts, their conversations (most open), a few messages each."""
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from crm.models import Contact
    from whatsapp.models import Conversation, Message

    now = timezone.now()
    first = ["Siti", "Budi", "Dewi", "Agus", "Wulan", "Rina", "Andi", "Putri", "Joko", "Ayu"]
    last = ["Wijaya", "Santoso", "Kusuma", "Pratama", "Hidayat", "Lestari", "Nugroho", "Siregar"]
    texts = ["Halo kak, ready size M?", "Bisa kirim ke Bandung?", "Sudah transfer ya", "Makasih kak!"]
    with schema_context(schema), transaction.atomic():
        contacts = Contact.objects.bulk_create(
            Contact(
                name=f"{first[n % 10]} {last[n % 8]}",
                phone=f"+62812{n:08d}",
                phone_digits=f"812{n:08d}",
                wa_id=f"62812{n:08d}",
                source=Contact.Source.WHATSAPP,
            )
            for n in range(CONVERSATIONS)
        )
        conversations = Conversation.objects.bulk_create(
            Conversation(
                contact=contact,
                status=Conversation.Status.OPEN if n % 5 else Conversation.Status.CLOSED,
                unread_count=n % 3,
                last_message_at=now - dt.timedelta(minutes=7 * n),
                last_message_preview=texts[n % len(texts)],
            )
            for n, contact in enumerate(contacts)
        )
        Message.objects.bulk_create(
            Message(
                conversation=conversation,
                direction=Message.Direction.INBOUND if m % 2 == 0 else Message.Direction.OUTBOUND,
                wamid=f"wamid.bench.{conversation.pk}.{m}",
                text=texts[m % len(texts)],
                status=Message.Status.RECEIVED if m % 2 == 0 else Message.Status.READ,
                created_at=conversation.last_message_at - dt.timedelta(minutes=MESSAGES - m),
            )
            for conversation in conversations
            for m in range(MESSAGES)
        )


def ensure_inboxes(shops: list) -> None:
    """Every shop gets the same inbox: made once through the ORM, copied into the others."""
    from django.db import connection, transaction

    from tests.benchmarks.bulk_shops import copy_rows

    with connection.cursor() as cursor:
        filled = set()
        for shop in shops:
            cursor.execute(f'SELECT count(*) FROM "{shop.schema_name}".whatsapp_conversation')
            if cursor.fetchone()[0] >= CONVERSATIONS:
                filled.add(shop.schema_name)
    empty = [shop for shop in shops if shop.schema_name not in filled]
    if not empty:
        return
    log(f"{len(empty)} shops without an inbox; filling them (untimed)")
    started = time.perf_counter()
    if not filled:
        fill_inbox(empty[0].schema_name)
        filled.add(empty.pop(0).schema_name)
    source = sorted(filled)[0]
    for number, shop in enumerate(empty, 1):
        with transaction.atomic():
            copy_rows(source, shop.schema_name, INBOX_TABLES)
        if number % 100 == 0 or number == len(empty):
            log(f"  inboxes {number}/{len(empty)} ({time.perf_counter() - started:.0f}s)")
    connection.set_schema_to_public()


def measure_signups() -> dict:
    from tenants import provisioning
    from tests.benchmarks.bench_provisioning import signup_to_usable

    run_id = secrets.token_hex(3)
    # Pool schemas for every signup up front: the pool is never what is measured.
    cloner().create_ready_schemas(SIGNUPS + 1)
    warmup, _ = signup_to_usable(run_id, 0)
    log(f"warm-up signup (not counted): {warmup:.3f}s")
    durations = []
    for number in range(1, SIGNUPS + 1):
        assert provisioning.ready_count() > 0
        seconds, breakdown = signup_to_usable(run_id, number)
        durations.append(seconds)
        log(f"signup {number}/{SIGNUPS}: {seconds:.3f}s ({', '.join(f'{k} {v:.3f}' for k, v in breakdown.items())})")
    return {
        "signups": len(durations),
        "signup_p50_s": round(statistics.median(durations), 4),
        "signup_p95_s": round(percentile(durations, 0.95), 4),
    }


def log_in(shops: list) -> dict[str, str]:
    """Each shop's owner logged in through the signup handoff; returns {host: session cookie}."""
    from django.db import connection
    from django.test import Client

    from tenants.models import Membership, Role
    from tenants.services.access import create_login_handoff

    owners = {m.shop_id: m.user for m in Membership.objects.select_related("user").filter(role=Role.OWNER)}
    cookies = {}
    for shop in shops:
        client = Client(HTTP_HOST=shop.primary_host)
        landed = client.get(f"/auth/handoff/{create_login_handoff(owners[shop.pk], shop)}/")
        assert landed.status_code == 302, (landed.status_code, landed.content[:300])
        cookies[shop.primary_host] = client.cookies["sessionid"].value
        connection.set_schema_to_public()
    return cookies


def get_inbox(port: int, host: str, session: str) -> float:
    """One GET of the inbox list on a fresh connection (the kernel spreads them over gunicorn's workers)."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", "/api/inbox/conversations/",
                     headers={"Host": f"{host}:{port}", "Cookie": f"sessionid={session}"})  # fmt: skip
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    elapsed = time.perf_counter() - started
    assert response.status == 200, (host, response.status, body[:300])
    assert len(json.loads(body)["results"]) == min(50, CONVERSATIONS * 4 // 5), body[:300]
    return elapsed


def rotation(hosts: list[str], count: int, seed: int) -> list[str]:
    """`count` hosts: shuffled passes over every host, so each shop is asked as often as any other."""
    rng = random.Random(seed)
    order: list[str] = []
    while len(order) < count:
        one_pass = hosts[:]
        rng.shuffle(one_pass)
        order += one_pass
    return order[:count]


def summary(durations: list[float]) -> dict:
    return {
        "p50": round(statistics.median(durations) * 1000, 1),
        "p95": round(percentile(durations, 0.95) * 1000, 1),
        "p99": round(percentile(durations, 0.99) * 1000, 1),
    }


def measure_inboxes(cases: dict[str, dict]) -> dict[str, dict]:
    """Both sizes' servers up side by side, asked in alternation: a busy machine weighs on both alike."""
    import django

    django.setup()
    from tests.support.servers import web_server

    with contextlib.ExitStack() as stack:
        targets = {}
        for case, outcome in cases.items():
            base = stack.enter_context(web_server(f"web-tscale-{case}", DATABASE_URL=outcome["database_url"]))
            sessions = outcome["sessions"]
            hosts = sorted(sessions)
            targets[case] = (urlsplit(base).port, sessions, rotation(hosts, WARMUP + INBOX_REQUESTS, seed=len(hosts)))
        for n in range(WARMUP):
            for port, sessions, order in targets.values():
                get_inbox(port, order[n], sessions[order[n]])
        durations: dict[str, list[float]] = {case: [] for case in targets}
        started = time.perf_counter()
        for n in range(WARMUP, WARMUP + INBOX_REQUESTS):
            for case, (port, sessions, order) in targets.items():
                durations[case].append(get_inbox(port, order[n], sessions[order[n]]))
            done = n - WARMUP + 1
            if done % 500 == 0:
                log(f"  inbox requests {done}/{INBOX_REQUESTS} per size ({time.perf_counter() - started:.0f}s)")
    stats = {case: summary(values) for case, values in durations.items()}
    for case, figures in stats.items():
        log(f"inbox, {len(targets[case][1])} shops rotated: p50 {figures['p50']} ms, p95 {figures['p95']} ms")
    return stats


def catalog_first_touch(shops: list, count: int = 200) -> dict:
    """The inbox list's query on one fresh connection: the first time in each shop's schema, then again.

    The difference is what a server connection pays to read a schema's catalog (the tables and every
    index the planner considers) the first time it meets that shop; with 1,000 shops it meets many.
    """
    from django.db import connection
    from django_tenants.utils import schema_context

    from whatsapp.models import Conversation

    def inbox_query(schema: str) -> float:
        started = time.perf_counter()
        with schema_context(schema):
            queryset = Conversation.objects.filter(last_message_at__isnull=False)
            list(queryset.filter(status="open").order_by("-last_message_at", "-id")[:50])
        return time.perf_counter() - started

    connection.close()
    schemas = [shop.schema_name for shop in shops[:count]]
    first = [inbox_query(schema) for schema in schemas]
    again = [inbox_query(schema) for schema in schemas]
    connection.set_schema_to_public()
    return {
        "inbox_query_first_touch_ms_p50": round(statistics.median(first) * 1000, 1),
        "inbox_query_warm_ms_p50": round(statistics.median(again) * 1000, 1),
    }


def schema_count() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'shop\\_%'")
        return cursor.fetchone()[0]


def case_main(case: str) -> int:
    global CASE
    CASE = case
    started = time.perf_counter()
    prepare_database(log)
    from django.conf import settings

    from tests.benchmarks.bench_provisioning import time_noop_migrate

    target = SHOPS if case == "large" else SMALL_SHOPS
    shops, made = ensure_shops(target)
    ensure_inboxes(shops)
    result = {"shops_created": made, "shops_reused": len(shops) - made, "setup_s": round(time.perf_counter() - started)}
    if case == "large":
        result.update(measure_signups())
        noop_s = time_noop_migrate()
        log(f"no-op migrate_schemas over {schema_count()} shop schemas: {noop_s:.2f}s")
        result["noop_migrate_s"] = round(noop_s, 3)
        result["noop_migrate_executor"] = getattr(settings, "GET_EXECUTOR_FUNCTION", "django-tenants default")
        result.update(catalog_first_touch(shops))
        first, warm = result["inbox_query_first_touch_ms_p50"], result["inbox_query_warm_ms_p50"]
        log(f"inbox query, one connection: {first} ms the first time in a shop's schema, {warm} ms again (p50)")
    from tenants.models import Shop

    result["shops"] = Shop.objects.shops().count()
    result["schemas"] = schema_count()
    result["sessions"] = log_in(shops)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        sys.exit(case_main(sys.argv[2]))
    sys.exit(main())
