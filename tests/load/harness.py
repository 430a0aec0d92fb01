"""The load test: many shops at once, each with WhatsApp traffic, staff in the inbox and a broadcast, against
the real processes, then a check that nothing went wrong.

`make load` runs `python -m tests.load.harness` (devserver: embedded PostgreSQL and Redis under var/load/, kept
between runs, or DATABASE_URL / REDIS_URL); tests/load/test_load.py runs the same `run()` small and short.

Shops: `load-001` … signed up through the real signup service (a ready schema from the pool, refilled as it
empties: the first run takes minutes, later runs reuse the shops), on the Scale plan with a prepaid balance, an
agent who joined by invitation, a keyword auto-reply, customers typed in, and a WhatsApp number connected and
registered with the simulator, whose approved template the shop syncs. Each run opens a conversation for each
of the shop's chatting customers through the simulator (a real customer message: the 24-hour window opens at
Meta and in the shop) and leaves outbound messages whose statuses Meta will report.

Processes, as `make run` starts them (platform/devserver/processes.py): gunicorn with infra/gunicorn.conf.py,
Celery workers for the `interactive`, `default` and `broadcasts` queues, beat (the intake and broadcast
sweepers), and the WhatsApp simulator, which answers the Graph API and posts its own status webhooks. The
traffic is tests/load/swarm.py (locust, headless, one user of each kind per shop).

Rates (per shop, LOAD_* variables): everything runs on one 2-core machine (load generator, web, workers,
PostgreSQL, Redis, simulator), so the defaults are what it sustains without a backlog that outlives the run, not
a throughput race: a webhook every 4 s per shop (a quarter of them customer messages, the rest statuses, 2 %
sent twice), an agent reading the inbox list and a thread every 20 s and replying in a third of those rounds,
and one shop in ten sending a broadcast of 30, one after another between 20 % and 60 % into the run. With 100
shops that is about 37 requests/s from locust plus the simulator's status webhooks (about 10/s, more while a
broadcast goes out), each of which the workers process. Twice these rates saturated the machine while others
used it too (p95 of seconds; webhooks slower than Meta's patience), hence these.

Afterwards, once the workers have drained: no request failed (any status other than the expected one), every
webhook accepted was stored once and processed (intake rows = POSTs answered 200, by us and by the simulator;
none pending, failed or quarantined), every inbound message and status event is there exactly once, every reply
and auto-reply ended sent, delivered or read, and every broadcast completed with every recipient sent.
Prints a table per endpoint (requests, failures, p50, p95, p99) and, last, one JSON line; exits 1 on any error.
"""

import contextlib
import json
import math
import os
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Kopi-Susu-2026!"
TEMPLATE = {"name": "promo_beban", "language": "id", "category": "MARKETING",
            "body_text": "Halo {{1}}! Koleksi baru sudah datang, balas PROMO untuk katalog."}  # fmt: skip
TEXTS = ["Kak, gamis ini ada warna lain?", "berapa harga hijab yang hitam?", "Sudah transfer ya kak",
         "Ongkir ke Bandung berapa?", "Masih ada stok ukuran L?", "Terima kasih kak 🙏"]  # fmt: skip
DELIVERED = ("sent", "delivered", "read")


def log(message: str) -> None:
    print(f"[load] {message}", file=sys.stderr, flush=True)


def _env_number(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass
class Options:
    shops: int = 100
    seconds: float = 300
    webhook_rps: float = 0.25  # per shop
    staff_rounds_per_s: float = 0.05  # per shop: the inbox list and a thread, sometimes a reply
    reply_share: float = 1 / 3
    inbound_share: float = 0.25  # of the webhooks: customer messages (the rest are statuses)
    redelivery_share: float = 0.02
    customers: int = 5  # chatting customers per shop
    audience: int = 30  # customers typed in per shop: a broadcast's audience
    broadcasting_shops: int = 0  # 0: one shop in ten, at least one
    broadcast_from: float = 0.2  # of the run: the broadcasting shops start one after another from here …
    broadcast_until: float = 0.6  # … to here
    drain_timeout: float = 300
    redis_url: str = ""  # the servers' Redis; default the configured one
    extra_env: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> "Options":
        return cls(
            shops=int(_env_number("LOAD_SHOPS", cls.shops)),
            seconds=_env_number("LOAD_SECONDS", cls.seconds),
            webhook_rps=_env_number("LOAD_WEBHOOK_RPS", cls.webhook_rps),
            staff_rounds_per_s=_env_number("LOAD_STAFF_ROUNDS_PER_S", cls.staff_rounds_per_s),
            broadcasting_shops=int(_env_number("LOAD_BROADCASTING_SHOPS", 0)),
            drain_timeout=_env_number("LOAD_DRAIN_TIMEOUT", cls.drain_timeout),
        )

    @property
    def broadcasters(self) -> int:
        return min(self.shops, self.broadcasting_shops or max(1, self.shops // 10))

    def statuses_per_shop(self) -> int:
        """Outbound messages whose three statuses the run can report, with room to spare."""
        expected = self.seconds * self.webhook_rps * (1 - self.inbound_share) / len(DELIVERED)
        return math.ceil(expected * 1.5) + 5


@dataclass
class LoadShop:
    n: int
    shop: object
    owner_email: str
    agent_email: str
    broadcasts: bool
    customers: list[str] = field(default_factory=list)
    conversations: list[int] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    template_id: int | None = None
    audience_ids: list[int] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return self.shop.slug

    @property
    def phone_number_id(self) -> str:
        return f"177{self.n:09d}"

    @property
    def waba_id(self) -> str:
        return f"WABA-LOAD-{self.n:03d}"

    @property
    def secret(self) -> str:
        return f"load-app-secret-{self.n:03d}"

    @property
    def token(self) -> str:
        return f"load-token-{self.n:03d}"


# --- shops ---------------------------------------------------------------------------------------------------


def ensure_shop(n: int, options: Options, broadcasts: bool) -> LoadShop:
    """The shop `load-NNN` with its people, number, rule and customers; each piece made only if missing."""
    from django.db import connection
    from django_tenants.utils import schema_context

    from billing import wallet
    from billing.models import Plan
    from crm.models import Contact
    from crm.services.contacts import create_contact
    from tenants.models import Membership, Role, Shop
    from tenants.services import team
    from tenants.services.lifecycle import apply_plan
    from tenants.services.signup import SignupForm, sign_up
    from whatsapp.channel.models import WhatsAppAccount
    from whatsapp.channel.services import connect
    from whatsapp.models import AutoReplyRule

    slug = f"load-{n:03d}"
    owner_email, agent_email = f"owner@{slug}.load.test", f"agent@{slug}.load.test"
    shop = Shop.objects.filter(slug=slug).first()
    if shop is None:
        shop, _owner = sign_up(SignupForm(shop_name=f"Toko Beban {n:03d}", subdomain=slug, owner_name="Sari Beban",
                                          email=owner_email, password=PASSWORD))  # fmt: skip
        apply_plan(shop, Plan.objects.get(code="scale"))
        wallet.credit_top_up(shop.pk, 10_000_000_000, f"load-top-up:{slug}")
    load_shop = LoadShop(n, shop, owner_email, agent_email, broadcasts)
    owner = Membership.objects.select_related("user", "shop").get(shop=shop, user__email=owner_email)
    with schema_context(shop.schema_name):
        if not Membership.objects.filter(shop=shop, user__email=agent_email).exists():
            _invitation, link = team.invite(owner, agent_email, Role.AGENT)
            team.accept_invitation(shop, link.rsplit("/", 1)[1], "Agen Beban", PASSWORD)
        if not WhatsAppAccount.objects.filter(shop=shop).exists():
            connect(shop, owner.user_id, phone_number_id=load_shop.phone_number_id, waba_id=load_shop.waba_id,
                    display_phone_number=f"62811{n:07d}", access_token=load_shop.token,
                    app_secret=load_shop.secret)  # fmt: skip
        AutoReplyRule.objects.get_or_create(
            name="Harga", defaults={"kind": "keyword", "keywords": ["harga"], "cooldown_minutes": 0,
                                    "reply_text": "Harga hijab mulai 45rb kak, gamis mulai 150rb."},
        )  # fmt: skip
        typed = [f"+62813{n:03d}{i:04d}" for i in range(options.audience)]
        have = set(Contact.objects.filter(phone__in=typed).values_list("phone", flat=True))
        for i, phone in enumerate(typed):
            if phone not in have:
                create_contact(actor_id=owner.user_id, phone=phone, name=f"Pelanggan Setia {i}")
        load_shop.audience_ids = list(Contact.objects.filter(phone__in=typed).values_list("pk", flat=True))
    connection.set_schema_to_public()
    load_shop.customers = [f"62812{n:03d}{i:04d}" for i in range(options.customers)]
    return load_shop


def ensure_shops(options: Options) -> list[LoadShop]:
    from tenants import provisioning

    started = time.monotonic()
    step = options.shops / options.broadcasters
    broadcasting = {1 + int(k * step) for k in range(options.broadcasters)}
    shops = []
    for n in range(1, options.shops + 1):
        shops.append(ensure_shop(n, options, n in broadcasting))
        # Signup takes a ready schema; refilling here, as the refill task would, keeps the next one instant.
        provisioning.refill_pool()
        if n % 10 == 0:
            log(f"{n} shops ready ({time.monotonic() - started:.0f}s)")
    return shops


# --- per run -------------------------------------------------------------------------------------------------


def register_with_simulator(shops: list[LoadShop], sim: str, web: str) -> None:
    """The simulator starts empty: each number (calling our webhook) and its template; the shop syncs it."""
    from django.test import override_settings
    from django_tenants.utils import schema_context

    from tests.support.servers import sim_call
    from whatsapp import templates
    from whatsapp.channel.models import WhatsAppAccount
    from whatsapp.models import MessageTemplate

    for shop in shops:
        number = {
            "phone_number_id": shop.phone_number_id, "waba_id": shop.waba_id, "verified_name": f"Toko Beban {shop.n}",
            "display_phone_number": f"62811{shop.n:07d}", "access_token": shop.token, "app_secret": shop.secret,
            "callback_url": f"{web}/webhooks/whatsapp/", "throughput_mps": 80,
        }  # fmt: skip
        sim_call(sim, "POST", "/_sim/numbers", number)
        sim_call(sim, "POST", "/_sim/templates", {"waba_id": shop.waba_id, "status": "APPROVED", **TEMPLATE})
        with override_settings(WHATSAPP_GRAPH_BASE_URL=sim), schema_context(shop.shop.schema_name):
            templates.sync(WhatsAppAccount.objects.get(shop=shop.shop))
            shop.template_id = MessageTemplate.objects.get(name=TEMPLATE["name"], language="id").pk


def open_conversations(shops: list[LoadShop], sim: str, timeout: float) -> None:
    """Each chatting customer writes once through the simulator, so the window is open at Meta and here."""
    from datetime import timedelta

    from django.utils import timezone
    from django_tenants.utils import schema_context

    from crm.models import Contact
    from tests.support.servers import eventually, sim_call
    from whatsapp.models import Conversation

    # Meta's timestamps are whole seconds, and the contact's last message time is the customer's.
    opened = timezone.now().replace(microsecond=0) - timedelta(seconds=1)
    for shop in shops:
        for i, wa_id in enumerate(shop.customers):
            sim_call(sim, "POST", f"/_sim/customers/{wa_id}/messages",
                     {"phone_number_id": shop.phone_number_id, "type": "text", "text": "halo kak",
                      "name": f"Pelanggan {i}"})  # fmt: skip

    def waiting() -> int:
        left = 0
        for shop in shops:
            with schema_context(shop.shop.schema_name):
                left += (
                    len(shop.customers)
                    - Contact.objects.filter(wa_id__in=shop.customers, last_inbound_at__gte=opened).count()
                )
        return left

    eventually(lambda: waiting() == 0, timeout=timeout, interval=1)
    if left := waiting():
        raise RuntimeError(f"{left} customers' first messages were not processed in {timeout:.0f}s")
    for shop in shops:
        with schema_context(shop.shop.schema_name):
            shop.conversations = list(
                Conversation.objects.filter(contact__wa_id__in=shop.customers).values_list("pk", flat=True)
            )


def await_statuses(shops: list[LoadShop], options: Options, run_id: str) -> None:
    """Outbound messages already accepted by WhatsApp, whose sent/delivered/read the run's webhooks report."""
    from django_tenants.utils import schema_context

    from whatsapp.models import Conversation, Message

    for shop in shops:
        shop.statuses = [f"wamid.LOAD.OUT.{run_id}.{shop.slug}.{i}" for i in range(options.statuses_per_shop())]
        with schema_context(shop.shop.schema_name):
            conversation = Conversation.objects.get(contact__wa_id=shop.customers[0])
            Message.objects.bulk_create(
                Message(
                    conversation=conversation,
                    direction=Message.Direction.OUTBOUND,
                    wamid=wamid,
                    type="text",
                    text="Pesanan kakak sudah kami proses",
                    status=Message.Status.ACCEPTED,
                    payload={"to": shop.customers[0]},
                )
                for wamid in shop.statuses
            )


def swarm_config(shops: list[LoadShop], options: Options, run_id: str, web: str) -> dict:
    port = web.rsplit(":", 1)[1]
    return {
        "base_url": f"http://127.0.0.1:{port}",
        "platform_host": web.removeprefix("http://"),
        "seconds": options.seconds,
        "spawn_rate": 50,
        "run_id": run_id,
        "password": PASSWORD,
        "texts": TEXTS,
        "broadcast_from_s": options.seconds * options.broadcast_from,
        "broadcast_until_s": options.seconds * options.broadcast_until,
        "rates": {
            "webhook_rps": options.webhook_rps,
            "staff_rounds_per_s": options.staff_rounds_per_s,
            "reply_share": options.reply_share,
            "inbound_share": options.inbound_share,
            "redelivery_share": options.redelivery_share,
        },
        "shops": [
            {
                "slug": shop.slug,
                "host": f"{shop.shop.primary_host}:{port}",
                "phone_number_id": shop.phone_number_id,
                "secret": shop.secret,
                "owner_email": shop.owner_email,
                "agent_email": shop.agent_email,
                "customers": shop.customers,
                "conversations": shop.conversations,
                "statuses": shop.statuses,
                "broadcast": {"template_id": shop.template_id, "contact_ids": shop.audience_ids}
                if shop.broadcasts
                else None,
            }
            for shop in shops
        ],
    }


def run_swarm(config: dict, workdir: Path) -> dict:
    config_path, result_path = workdir / "swarm-config.json", workdir / "swarm-result.json"
    config_path.write_text(json.dumps(config))
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}"}
    command = [sys.executable, "-m", "tests.load.swarm", str(config_path), str(result_path)]
    subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=config["seconds"] + 300)
    return json.loads(result_path.read_text())


# --- afterwards ----------------------------------------------------------------------------------------------


def unfinished(shops: list[LoadShop], started, broadcast_ids: dict[str, list[int]]) -> dict[str, int]:
    """What the workers still owe: intake rows, outbound messages on their way, broadcasts sending."""
    from django_tenants.utils import schema_context

    from whatsapp.broadcasts.models import Broadcast
    from whatsapp.channel.models import WebhookIntake
    from whatsapp.models import Message

    left = {"intake": WebhookIntake.objects.filter(shop__in=[s.shop for s in shops], status="pending").count()}
    left["outbound"] = left["broadcasts"] = 0
    for shop in shops:
        with schema_context(shop.shop.schema_name):
            left["outbound"] += Message.objects.filter(
                direction=Message.Direction.OUTBOUND, created_at__gte=started, status__in=["pending", "accepted"]
            ).count()
            left["broadcasts"] += Broadcast.objects.filter(
                pk__in=broadcast_ids.get(shop.slug, []), status__in=["sending", "scheduled"]
            ).count()
    return left


def check(shops: list[LoadShop], accepted: dict, started, sim_window: tuple, sim_stats: dict) -> tuple[dict, list[str]]:
    """Counts and the problems found: every accepted webhook's effect once, every send done."""
    from django.db.models import Count
    from django_tenants.utils import schema_context

    from whatsapp.broadcasts.models import Broadcast, Recipient
    from whatsapp.channel.models import WebhookIntake
    from whatsapp.models import Message, StatusEvent

    problems: list[str] = []
    counts = dict.fromkeys(["inbound_messages", "status_events", "replies", "replies_sent", "auto_replies",
                            "broadcasts", "broadcasts_completed", "broadcast_messages"], 0)  # fmt: skip
    for shop in shops:
        got = accepted.get(shop.slug, {})
        inbound, statuses = set(got.get("inbound", [])), {tuple(pair) for pair in got.get("statuses", [])}
        replies, broadcasts = got.get("replies", []), got.get("broadcasts", [])
        with schema_context(shop.shop.schema_name):
            stored = Message.objects.filter(direction=Message.Direction.INBOUND, wamid__in=inbound).count()
            events = set(
                StatusEvent.objects.filter(wamid__in={wamid for wamid, _ in statuses}).values_list("wamid", "status")
            )
            sent_replies = Message.objects.filter(pk__in=replies, status__in=DELIVERED).count()
            outbound = Message.objects.filter(direction=Message.Direction.OUTBOUND, created_at__gte=started)
            failed = list(outbound.filter(status="failed").values_list("pk", "error_reason")[:3])
            counts["auto_replies"] += outbound.filter(automated=True).count()
            finished = Broadcast.objects.filter(pk__in=broadcasts, status="completed").count()
            recipients = Recipient.objects.filter(broadcast__in=broadcasts)
            unsent = recipients.exclude(status__in=DELIVERED).count()
            counts["broadcast_messages"] += recipients.count()
        counts["inbound_messages"] += stored
        counts["status_events"] += len(events & statuses)
        counts["replies"] += len(replies)
        counts["replies_sent"] += sent_replies
        counts["broadcasts"] += len(broadcasts)
        counts["broadcasts_completed"] += finished
        if stored != len(inbound):
            problems.append(f"{shop.slug}: {len(inbound) - stored} of {len(inbound)} inbound messages not stored")
        if events & statuses != statuses:
            problems.append(f"{shop.slug}: {len(statuses - events)} of {len(statuses)} status events not stored")
        if sent_replies != len(replies):
            problems.append(f"{shop.slug}: {len(replies) - sent_replies} of {len(replies)} replies not sent")
        if failed:
            problems.append(f"{shop.slug}: outbound messages failed: {failed}")
        if finished != len(broadcasts) or unsent:
            problems.append(f"{shop.slug}: broadcasts {broadcasts}: {finished} completed, {unsent} recipients unsent")
    if not counts["broadcasts"]:
        problems.append("no broadcast was started")
    intake = WebhookIntake.objects.filter(shop__in=[s.shop for s in shops], received_at__range=sim_window)
    by_status = dict(intake.values_list("status").annotate(n=Count("pk")))
    posted = sum(len(got.get("webhook_posts", [])) for got in accepted.values()) + sim_stats["webhooks_sent"]
    counts["intake_rows"], counts["webhooks_accepted"] = sum(by_status.values()), posted
    if by_status.keys() - {"processed"}:
        problems.append(f"intake rows not processed: {by_status}")
    if counts["intake_rows"] != posted:
        problems.append(f"{counts['intake_rows']} intake rows for {posted} webhooks answered 200")
    if sim_stats["webhook_attempts"] != sim_stats["webhooks_sent"] or sim_stats["webhooks_failed"]:
        keys = ("webhooks_sent", "webhook_attempts", "webhook_retries", "webhooks_failed", "webhook_failures")
        tries = {key: sim_stats[key] for key in keys}
        problems.append(f"the simulator's webhooks were not all answered 200 within its 10 s at the first try: {tries}")
    if sim_stats["rate_limited"] or sim_stats["errors_by_code"]:
        problems.append(f"Graph API errors at the simulator: {sim_stats['errors_by_code']}")
    return counts, problems


def table(result: dict) -> str:
    lines = [f"{'endpoint':<52} {'requests':>9} {'failures':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"]
    rows = [*result["endpoints"].items(), ("total", result["total"])]
    for name, row in rows:
        lines.append(f"{name:<52} {row['requests']:>9} {row['failures']:>9} {row['p50_ms']:>8.0f} "
                     f"{row['p95_ms']:>8.0f} {row['p99_ms']:>8.0f}")  # fmt: skip
    return "\n".join(lines)


# --- the run -------------------------------------------------------------------------------------------------


def run(options: Options) -> dict:
    """Sets up, loads, drains and checks; returns the summary (its `problems` empty when all went well)."""
    from django.conf import settings
    from django.utils import timezone

    from devserver import processes
    from tests.support.servers import eventually, process_env, running, sim_call, simulator, web_server

    run_id = secrets.token_hex(3)
    started = time.monotonic()
    shops = ensure_shops(options)
    log(f"{len(shops)} shops ready in {time.monotonic() - started:.0f}s; starting the servers")
    sim_started = timezone.now()
    env = {"LOGIN_IP_THROTTLE_RATE": "100000/min", "REDIS_URL": options.redis_url or settings.REDIS_URL,
           **options.extra_env}  # fmt: skip
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory(prefix="load-") as workdir:
        sim = stack.enter_context(simulator())
        env["WHATSAPP_GRAPH_BASE_URL"] = sim
        web = stack.enter_context(web_server(**env))
        env["PLATFORM_DOMAIN"] = web.removeprefix("http://")
        for name, command in processes.worker_commands("-load").items():
            stack.enter_context(running(f"load-{name}", command, process_env(**env)))
        stack.enter_context(
            running("load-beat", processes.beat_command(Path(workdir) / "celerybeat-schedule"), process_env(**env))
        )
        register_with_simulator(shops, sim, web)
        open_conversations(shops, sim, timeout=options.drain_timeout)
        await_statuses(shops, options, run_id)
        log(f"conversations open; {options.seconds:.0f}s of load from {len(shops)} shops")
        load_before = os.getloadavg()[0]
        load_started = timezone.now()
        result = run_swarm(swarm_config(shops, options, run_id, web), Path(workdir))
        accepted = result["accepted"]
        broadcast_ids = {slug: got.get("broadcasts", []) for slug, got in accepted.items()}
        drain_started = time.monotonic()

        def drained() -> bool:
            left = unfinished(shops, load_started, broadcast_ids)
            log(f"draining: {left}")
            return not any(left.values())

        eventually(drained, timeout=options.drain_timeout, interval=5)
        seen = {"attempts": -1}

        def quiet() -> bool:
            """The simulator posted nothing since the last look (its `read` statuses come 1.5 s after a send)."""
            attempts = sim_call(sim, "GET", "/_sim/stats")["webhook_attempts"]
            unchanged, seen["attempts"] = attempts == seen["attempts"], attempts
            return unchanged and drained()

        eventually(quiet, timeout=options.drain_timeout, interval=4)
        drain_s = time.monotonic() - drain_started
        sim_stats, sim_stopped = sim_call(sim, "GET", "/_sim/stats"), timezone.now()
    counts, problems = check(shops, accepted, load_started, (sim_started, sim_stopped), sim_stats)
    problems += [f"{error['occurrences']} x {error['name']}: {error['error']}" for error in result["errors"]]
    print(table(result), flush=True)
    summary = {
        "load": "shops",
        "shops": len(shops),
        "seconds": result["seconds"],
        "users": result["users"],
        "requests": result["total"]["requests"],
        "failures": result["total"]["failures"],
        "rps": round(result["total"]["requests"] / result["seconds"], 1),
        "p95_ms": {name: row["p95_ms"] for name, row in result["endpoints"].items()},
        "p99_ms": {name: row["p99_ms"] for name, row in result["endpoints"].items()},
        **counts,
        "drain_s": round(drain_s, 1),
        # The machine's load (1-minute average) as the run began and ended: shared machines skew latencies.
        "cpus": os.cpu_count(),
        "loadavg": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "rates_per_shop": {
            "webhooks_per_s": options.webhook_rps,
            "staff_rounds_per_s": options.staff_rounds_per_s,
            "reply_share": round(options.reply_share, 2),
        },
        "problems": problems[:20],
    }
    return summary


def main() -> int:
    from tests.benchmarks.common import prepare_database

    prepare_database(log)
    logging_quiet()
    summary = run(Options.from_env())
    for problem in summary["problems"]:
        log(f"PROBLEM: {problem}")
    print(json.dumps(summary), flush=True)
    return 1 if summary["problems"] or summary["failures"] else 0


def logging_quiet() -> None:
    """Mail and activity go to the console backend in development: a hundred invitations are noise here."""
    from django.conf import settings

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


if __name__ == "__main__":
    sys.exit(main())
