"""Fault stacks: the real processes (simulator, gunicorn, Celery workers and beat) on a Redis of the test's own,
so a test can stop and start it without touching the rest of the suite, and shops whose numbers only these
processes serve."""

import contextlib
import itertools
import threading
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import psutil
from django.utils import timezone
from django_tenants.utils import schema_context

from crm.models import Contact
from tenants import provisioning
from tests.factories import PASSWORD
from tests.support.servers import celery_beat, celery_worker, sim_call, simulator, web_server
from tests.whatsapp import webhooks
from whatsapp.channel.models import WebhookIntake
from whatsapp.channel.services import connect
from whatsapp.models import AutoReplyRule, Conversation, Message, StatusEvent

from .meta import Delivery, Meta

_shops = itertools.count(1)
GREETING = "Halo kak, terima kasih sudah menghubungi kami!"


class FaultShop:
    """A committed shop with a connected number, `customers` who will write, and `outbound` messages already
    accepted by WhatsApp whose status webhooks will come in."""

    def __init__(self, label: str, *, customers: int, outbound: int, greeting: bool = False):
        from tests.conftest import ShopWorld

        serial = next(_shops)
        provisioning.refill_pool(1)  # the ready schema this shop's signup claims
        self.world = ShopWorld(f"{label}-{serial}")
        self.schema = self.world.shop.schema_name
        self.number, self.secret, self.token = f"1066{serial:011d}", f"secret-{label}-{serial}", f"token-{serial}"
        self.waba = f"WABA-{self.number}"
        self.display = f"62811{self.number[-7:]}"
        self.customers = [f"62812{serial:03d}{n:05d}" for n in range(customers)]
        with schema_context(self.schema):
            connect(self.world.shop, self.world.owner.pk, phone_number_id=self.number, waba_id=self.waba,
                    display_phone_number=self.display, access_token=self.token, app_secret=self.secret)  # fmt: skip
            if greeting:
                AutoReplyRule.objects.create(name="Salam", kind="greeting", reply_text=GREETING, priority=1)
            regular = Contact.objects.create(wa_id=f"62813{serial:03d}00001", phone=f"+62813{serial:03d}00001",
                                             name="Pelanggan Lama", last_inbound_at=timezone.now())  # fmt: skip
            conversation = Conversation.objects.create(contact=regular)
            self.outbound = [f"wamid.FAULTOUT.{serial}.{n}" for n in range(outbound)]
            Message.objects.bulk_create(
                Message(conversation=conversation, direction=Message.Direction.OUTBOUND, wamid=wamid, type="text",
                        text="Pesanan kakak sudah dikirim", status=Message.Status.ACCEPTED, payload={})
                for wamid in self.outbound
            )  # fmt: skip
        self.recipient = regular.wa_id
        self.sent_messages: list[str] = []  # wamids of the customers' messages Meta delivered

    def customer_message(self, index: int) -> Delivery:
        wa_id = self.customers[index % len(self.customers)]
        wamid = webhooks.wamid()
        self.sent_messages.append(wamid)
        payload = webhooks.inbound_text(self.number, wa_id, f"Kak, pesanan no {index} sudah dikirim?",
                                        name=f"Pelanggan {wa_id[-3:]}", message_id=wamid)  # fmt: skip
        return Delivery.of(payload, self.secret)

    def status(self, wamid: str, name: str) -> Delivery:
        return Delivery.of(webhooks.status(self.number, wamid, name, self.recipient), self.secret)

    def mixed_deliveries(self, count: int) -> list[Delivery]:
        """`count` webhooks as a busy number receives them: a customer's message, then a status of one of our
        messages (sent, delivered, read of each in turn), and so on."""
        statuses = ((wamid, name) for name in ("sent", "delivered", "read") for wamid in self.outbound)
        deliveries = []
        for index in range(count):
            if index % 2 == 0:
                deliveries.append(self.customer_message(index // 2))
            else:
                deliveries.append(self.status(*next(statuses)))
        return deliveries

    def register(self, sim: str, web: str) -> None:
        sim_call(sim, "POST", "/_sim/numbers", {
            "phone_number_id": self.number, "waba_id": self.waba, "display_phone_number": self.display,
            "verified_name": f"Butik {self.number[-4:]}", "access_token": self.token, "app_secret": self.secret,
            "callback_url": f"{web}/webhooks/whatsapp/", "throughput_mps": 80,
        })  # fmt: skip

    # what the shop has now -----------------------------------------------------------------------------------
    def unprocessed_intake(self) -> int:
        return WebhookIntake.objects.filter(shop=self.world.shop).exclude(status=WebhookIntake.Status.PROCESSED).count()

    def intake_rows(self) -> int:
        return WebhookIntake.objects.filter(shop=self.world.shop).count()

    def stored_customer_messages(self) -> list[str]:
        with schema_context(self.schema):
            return list(Message.objects.filter(direction=Message.Direction.INBOUND).values_list("wamid", flat=True))

    def outbound_statuses(self) -> dict[str, int]:
        with schema_context(self.schema):
            return dict(Counter(Message.objects.filter(wamid__in=self.outbound).values_list("status", flat=True)))

    def status_events(self) -> int:
        with schema_context(self.schema):
            return StatusEvent.objects.filter(wamid__in=self.outbound).count()

    def greetings_by_customer(self) -> dict[str, int]:
        with schema_context(self.schema):
            greeted = Message.objects.filter(automated=True).values_list("conversation__contact__wa_id", flat=True)
            return dict(Counter(greeted))


class FaultChannel:
    def __init__(self, sim: str, web: str, workers: dict, beat):
        self.sim, self.web, self.workers, self.beat = sim, web, workers, beat
        self.meta = Meta(web)

    def processes_alive(self) -> bool:
        return all(process.poll() is None for process in [*self.workers.values(), self.beat])

    def web_workers(self) -> set[int]:
        """The process ids of gunicorn's workers (a worker restarted by its master gets a new one)."""
        port = self.web.rsplit(":", 1)[1]
        for process in psutil.process_iter(["cmdline"]):
            cmdline = process.info["cmdline"] or []
            if "gunicorn" in cmdline and f"127.0.0.1:{port}" in cmdline:
                return {child.pid for child in process.children()}
        raise LookupError(f"no gunicorn on port {port}")

    def stats(self) -> dict:
        return sim_call(self.sim, "GET", "/_sim/stats")

    def staff(self, shop: FaultShop) -> httpx.Client:
        """The shop's agent, logged in on the real server (session cookie and CSRF)."""
        client = httpx.Client(base_url=self.web, headers={"Host": shop.world.host}, timeout=30)
        client.get("/api/auth/csrf/")
        response = client.post(
            "/api/auth/login/", json={"email": shop.world.agent.email, "password": PASSWORD},
            headers={"X-CSRFToken": client.cookies["csrftoken"]},
        )  # fmt: skip
        assert response.status_code == 200, response.text
        client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
        return client


@contextlib.contextmanager
def fault_channel(
    shops: list[FaultShop], env: dict[str, str], *, broadcasts: bool = False, **faults
) -> Iterator[FaultChannel]:
    """Simulator, gunicorn, one Celery worker per queue kind (as production runs them) and beat, all on `env`'s
    Redis (and database, when given); the shops' numbers registered with the simulator."""
    with simulator(sent_ms="50", delivered_ms="150", read_ms="400") as sim:
        # No pool refills from beat: building schemas would take the CPU the fault needs. DEBUG off, as in
        # production: what a failure answers is part of what these tests check (not Django's debug page).
        env = {"WHATSAPP_GRAPH_BASE_URL": sim, "SHOP_POOL_SIZE": "0", "DJANGO_DEBUG": "false", **env}
        sim_call(sim, "POST", "/_sim/faults", {"enforce_window": False, **faults})
        with contextlib.ExitStack() as stack:
            web = stack.enter_context(web_server(**env))
            workers = {
                queue: stack.enter_context(celery_worker(name=f"faults-{queue}", queues=queue, concurrency=4, **env))
                for queue in ["interactive", "default", *(["broadcasts"] if broadcasts else [])]
            }
            beat = stack.enter_context(celery_beat(**env))
            for shop in shops:
                shop.register(sim, web)
            yield FaultChannel(sim, web, workers, beat)


@contextlib.contextmanager
def database_at(url: str) -> Iterator[None]:
    """Points this process's default connection at another database for a while (the servers started meanwhile
    follow it: they take the URL from this connection)."""
    import environ
    from django.contrib.contenttypes.models import ContentType
    from django.db import connections

    settings_dict = connections["default"].settings_dict
    saved = {key: settings_dict[key] for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT", "OPTIONS")}
    target = environ.Env.db_url_config(url)
    connections.close_all()
    settings_dict.update({key: target[key] for key in saved})
    ContentType.objects.clear_cache()  # ids differ from one database to another
    try:
        yield
    finally:
        connections.close_all()
        settings_dict.update(saved)
        ContentType.objects.clear_cache()


class Poller:
    """Asks `ask()` every `interval` seconds from a thread of its own and keeps (when, answer, seconds taken),
    the answer being the HTTP status or the client error's name."""

    def __init__(self, ask, interval: float):
        self.ask, self.interval = ask, interval
        self.answers: list[tuple[float, int | str, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Poller":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                answer = self.ask().status_code
            except httpx.HTTPError as error:
                answer = type(error).__name__
            self.answers.append((started, answer, time.monotonic() - started))
            self._stop.wait(self.interval)

    def between(self, start: float, end: float) -> list[int | str]:
        return [answer for at, answer, _ in self.answers if start <= at < end]


def on_own_connection(read):
    """`read()` on a database connection of its own, in a thread: this test's connection sits in a transaction
    that a database restart cuts, and a read after that needs a new one."""
    from django.db import connections

    result = []

    def run():
        try:
            result.append(read())
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if not result:
        raise RuntimeError("the read failed; see the traceback above")
    return result[0]
