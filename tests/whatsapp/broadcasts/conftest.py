"""A sending stack for broadcasts: the simulator, gunicorn (webhooks), a processing worker and broadcast
workers, with a committed shop whose numbers are connected. Leases and the in-doubt grace are short, so a
killed worker is recovered within seconds."""

import contextlib
import itertools

import factory
import pytest
from django_tenants.utils import schema_context

from billing import wallet
from crm.models import Contact
from tests.support.servers import celery_worker, eventually, sim_call, simulator, web_server
from whatsapp.broadcasts import services
from whatsapp.broadcasts.models import Broadcast, Recipient
from whatsapp.broadcasts.tasks import sweep_broadcasts
from whatsapp.channel.models import WhatsAppAccount
from whatsapp.channel.services import connect
from whatsapp.models import MessageTemplate

from .factories import BroadcastFactory, ContactFactory, TemplateFactory

FAST_RECOVERY = {"BROADCAST_LEASE_SECONDS": "5", "BROADCAST_RECONCILE_GRACE_SECONDS": "3"}
_numbers = itertools.count(1)


class SendingStack:
    def __init__(self, world, sim, web, graph_env):
        self.world, self.sim, self.web, self.env = world, sim, web, graph_env

    def number(self, throughput_mps: int = 1000) -> str:
        """A fresh number of this shop (its own simulator counters), connected and made the shop's number."""
        number = f"10777{next(_numbers):010d}"
        waba = f"WABA-{number}"
        sim_call(self.sim, "POST", "/_sim/numbers", {
            "phone_number_id": number, "waba_id": waba, "display_phone_number": f"62811{number[-7:]}",
            "verified_name": "Butik Siaran", "access_token": "token-bc", "app_secret": "secret-bc",
            "callback_url": f"{self.web}/webhooks/whatsapp/", "throughput_mps": throughput_mps,
        })  # fmt: skip
        sim_call(self.sim, "POST", "/_sim/templates", {
            "waba_id": waba, "name": "koleksi_baru", "language": "id", "category": "MARKETING",
            "body_text": "Halo {{1}}, koleksi baru sudah datang! Diskon {{2}} untuk kakak.",
        })  # fmt: skip
        WhatsAppAccount.objects.filter(shop=self.world.shop).delete()
        with schema_context(self.world.shop.schema_name):
            connect(self.world.shop, self.world.owner.pk, phone_number_id=number, waba_id=waba,
                    display_phone_number=f"62811{number[-7:]}", access_token="token-bc",
                    app_secret="secret-bc")  # fmt: skip
        WhatsAppAccount.objects.filter(phone_number_id=number).update(
            throughput_level="HIGH" if throughput_mps > 80 else "STANDARD"
        )
        return number

    def stats(self, number: str) -> dict:
        stats = sim_call(self.sim, "GET", "/_sim/stats")
        return {
            "accepted": stats["messages_accepted"].get(number, 0),
            "rate_limited": stats["rate_limited_by_number"].get(number, 0),
        }

    def broadcast(self, customers: int, prefix: str) -> Broadcast:
        """A marketing broadcast to `customers` new contacts, numbered `62<prefix>0000001` and up."""
        with schema_context(self.world.shop.schema_name):
            template = MessageTemplate.objects.filter(name="koleksi_baru").first() or TemplateFactory(
                name="koleksi_baru"
            )
            numbers = factory.Iterator([f"62{prefix}{n:07d}" for n in range(1, customers + 1)])
            contacts = Contact.objects.bulk_create(ContactFactory.build_batch(customers, wa_id=numbers))
            return BroadcastFactory(template=template, audience={"contacts": [c.pk for c in contacts]})

    def start(self, broadcast: Broadcast) -> Broadcast:
        with schema_context(self.world.shop.schema_name):
            return services.start(broadcast)

    def recipients(self, broadcast: Broadcast, **filters) -> list[Recipient]:
        with schema_context(self.world.shop.schema_name):
            return list(Recipient.objects.filter(broadcast=broadcast, **filters))

    def status(self, broadcast: Broadcast) -> str:
        with schema_context(self.world.shop.schema_name):
            return Broadcast.objects.get(pk=broadcast.pk).status

    def finish(self, broadcast: Broadcast, timeout: float = 120) -> str:
        """Runs the sweeper (as beat would) until the broadcast completes."""

        def done():
            sweep_broadcasts()
            return self.status(broadcast) == "completed"

        eventually(done, timeout=timeout, interval=1)
        return self.status(broadcast)

    @contextlib.contextmanager
    def broadcast_worker(self, name: str):
        with celery_worker(name=name, queues="broadcasts", **self.env) as worker:
            yield worker


@pytest.fixture(scope="session")
def sending_stack(committed):
    from tests.conftest import ShopWorld

    world = ShopWorld("siaran")
    wallet.credit_top_up(world.shop.pk, 100_000_000, "test-top-up:broadcasts")  # ten thousand promotions
    with simulator(sent_ms="20", delivered_ms="40", read_ms="60") as sim:
        env = {"WHATSAPP_GRAPH_BASE_URL": sim, **FAST_RECOVERY}
        sim_call(sim, "POST", "/_sim/faults", {"webhook_batch_size": 50})
        with web_server(**env) as web, celery_worker(name="processing", **env):
            yield SendingStack(world, sim, web, env)
