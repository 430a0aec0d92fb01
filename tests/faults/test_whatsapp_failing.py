"""WhatsApp (the simulator) answering one call in five with a 500 or 503 while a shop replies from the inbox and
sends a small broadcast: every message ends sent, or failed with the reason WhatsApp gave; none is left queued or
sending, none reaches a customer twice, and the retries are there to see."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from tests.support.servers import eventually, redis_server, sim_call
from tests.whatsapp.broadcasts.factories import BroadcastFactory, ContactFactory, TemplateFactory
from whatsapp.broadcasts.models import Broadcast, Recipient
from whatsapp.models import Conversation, Message

from .conftest import FaultShop, fault_channel

pytestmark = [pytest.mark.fault, pytest.mark.worker, pytest.mark.django_db]

REPLIES, AUDIENCE = 150, 50
UNDELIVERABLE = 5  # of each: numbers WhatsApp does not know (the simulator's 62899…), failed by their webhook
SERVER_ERROR_RATE = 0.2


class Shop(FaultShop):
    """A shop whose customers wrote just now (the service window is open) and a drafted promotion."""

    def __init__(self):
        super().__init__("gagal", customers=0, outbound=0)
        with schema_context(self.schema):
            numbers = [f"628991{n:06d}" if n < UNDELIVERABLE else f"62814{n:07d}" for n in range(REPLIES)]
            chatting = [ContactFactory(wa_id=wa_id, last_inbound_at=timezone.now()) for wa_id in numbers]
            self.conversations = [Conversation.objects.create(contact=contact).pk for contact in chatting]
            numbers = [f"628992{n:06d}" if n < UNDELIVERABLE else f"62815{n:07d}" for n in range(AUDIENCE)]
            audience = [ContactFactory(wa_id=wa_id) for wa_id in numbers]
            template = TemplateFactory(name="koleksi_baru")
            self.broadcast = BroadcastFactory(template=template, audience={"contacts": [c.pk for c in audience]}).pk

    def register(self, sim: str, web: str) -> None:
        super().register(sim, web)
        sim_call(sim, "POST", "/_sim/templates", {
            "waba_id": self.waba, "name": "koleksi_baru", "language": "id", "category": "MARKETING",
            "body_text": "Halo {{1}}, koleksi baru sudah datang! Diskon {{2}} untuk kakak.",
        })  # fmt: skip

    def replies(self, ids: list[int]) -> list[Message]:
        with schema_context(self.schema):
            return list(Message.objects.filter(pk__in=ids))

    def recipients(self) -> list[Recipient]:
        with schema_context(self.schema):
            return list(Recipient.objects.filter(broadcast_id=self.broadcast))

    def broadcast_status(self) -> str:
        with schema_context(self.schema):
            return Broadcast.objects.get(pk=self.broadcast).status


@pytest.fixture(scope="module")
def shop(committed) -> Shop:
    return Shop()


def test_with_whatsapp_failing_one_call_in_five_every_message_ends_sent_or_failed_with_a_reason(shop):
    with (
        redis_server() as redis,
        fault_channel([shop], {"REDIS_URL": redis.url}, broadcasts=True, graph_5xx_rate=SERVER_ERROR_RATE) as channel,
    ):
        agent = channel.staff(shop)
        launched = agent.post(f"/api/broadcasts/{shop.broadcast}/send/", json={})
        assert launched.status_code == 200, launched.text

        def reply(conversation_id: int) -> int:
            sent = agent.post(f"/api/inbox/conversations/{conversation_id}/messages/", json={"text": "Ada kak, 175rb"})
            assert sent.status_code == 201, sent.text
            return sent.json()["id"]

        with ThreadPoolExecutor(max_workers=4) as pool:
            ids = list(pool.map(reply, shop.conversations))

        def settled() -> bool:
            messages = shop.replies(ids)
            undecided = [m for m in messages if m.status == "pending"]
            in_flight = [r for r in shop.recipients() if r.status in ("queued", "sending")]
            failed_by_webhook = sum(m.status == "failed" for m in messages) + sum(
                r.status == "failed" for r in shop.recipients()
            )
            return not undecided and not in_flight and failed_by_webhook == 2 * UNDELIVERABLE

        assert eventually(settled, timeout=150, interval=2)
        assert eventually(lambda: shop.broadcast_status() == "completed", timeout=30)
        stats = channel.stats()

    messages, recipients = shop.replies(ids), shop.recipients()
    assert len(messages) == REPLIES and len(recipients) == AUDIENCE
    delivered = {"accepted", "sent", "delivered", "read"}
    failed = [m for m in messages if m.status == "failed"] + [r for r in recipients if r.status == "failed"]
    assert {m.status for m in messages} <= delivered | {"failed"}
    assert {r.status for r in recipients} <= delivered | {"failed"}
    assert all(m.wamid for m in messages if m.status != "failed")
    assert all(r.wamid for r in recipients if r.status != "failed")
    # The failures are exactly the numbers WhatsApp does not know, each with WhatsApp's reason.
    assert len(failed) == 2 * UNDELIVERABLE
    assert {outcome.error_code for outcome in failed} == {131026}
    assert all(outcome.error_reason for outcome in failed)
    # Every message reached WhatsApp exactly once, whatever the 5xx in between: retries never sent twice.
    assert stats["messages_accepted"][shop.number] == REPLIES + AUDIENCE
    assert stats["injected_5xx"] >= 0.1 * (REPLIES + AUDIENCE), stats
    assert stats["graph_requests"] >= REPLIES + AUDIENCE + stats["injected_5xx"]
    assert any(recipient.attempts > 1 for recipient in recipients), "broadcast retries are counted on the row"
