"""Erasing a customer on request: their name, number, messages and history are gone from every table of the shop,
the shop's totals are not, only owners and admins may do it, and the same number writing again is a new customer."""

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from crm.models import Contact, ContactImport, Deal, Order, Product, Stage, TimelineEvent, Variant
from crm.services import contacts as contact_service
from crm.services import imports, orders
from tenants.models import AuditEvent
from tests.whatsapp import webhooks
from tests.whatsapp.broadcasts.factories import BroadcastFactory
from whatsapp.broadcasts.models import Recipient
from whatsapp.channel.models import WebhookIntake
from whatsapp.models import Conversation, Message, StatusEvent
from whatsapp.tasks import process_intake

pytestmark = pytest.mark.django_db
JSON = {"content_type": "application/json", "HTTP_ACCEPT_LANGUAGE": "en"}
WA_ID = "6281377712345"
DIGITS = "81377712345"  # what every spelling of the number contains (+62 813…, 0813…, 62813…)
NAME = "Ratna Kusumawardani"


def process(world) -> int:
    """Processes the shop's pending webhooks, as a worker would."""
    pending = WebhookIntake.objects.filter(shop=world.shop, status=WebhookIntake.Status.PENDING).order_by("pk")
    with schema_context(world.shop.schema_name):
        return sum(process_intake(intake.pk) for intake in pending)


def tables_mentioning(schema: str, needle: str) -> list[str]:
    """Every table of the schema whose rows, read as text (byte columns decoded), contain `needle`."""
    found = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s AND table_type = 'BASE TABLE'",
            [schema],
        )
        for (table,) in cursor.fetchall():
            cursor.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s"
                " AND data_type = 'bytea'",
                [schema, table],
            )
            decoded = " || ".join(f"coalesce(encode({column}, 'escape'), '')" for (column,) in cursor.fetchall())
            text = f"t::text || {decoded}" if decoded else "t::text"
            query = f'SELECT EXISTS (SELECT 1 FROM "{schema}"."{table}" t WHERE {text} ILIKE %s)'
            cursor.execute(query, [f"%{needle}%"])
            if cursor.fetchone()[0]:
                found.append(table)
    return found


@pytest.fixture
def customer(wa_a, portal):
    """A customer who wrote on WhatsApp, was imported from a list, ordered, has a deal, notes, consent history
    and got a broadcast: their data is everywhere a customer's can be."""
    for text in (f"Halo, saya {NAME}, alamat Jl. Melati 7", "Nomor saya 081377712345"):
        payload = webhooks.inbound_text(wa_a.number, WA_ID, text, name=NAME)
        assert webhooks.post(portal, payload, wa_a.secret).status_code == 200
    assert process(wa_a) == 2
    with schema_context(wa_a.shop.schema_name):
        Message.objects.create(conversation=Conversation.objects.get(contact__wa_id=WA_ID), direction="out",
                               wamid="wamid.ERASE-REPLY", text="Siap kak Ratna", status="sent")  # fmt: skip
    webhooks.post(portal, webhooks.status(wa_a.number, "wamid.ERASE-REPLY", "delivered", WA_ID), wa_a.secret)
    process(wa_a)
    with schema_context(wa_a.shop.schema_name):
        listed = f"nama,telepon,kota\n{NAME},081377712345,Bandung\nAndi,0812-1111-2222,Garut\n"
        job, _preview = imports.create_import(filename="pelanggan.csv", content=listed.encode(),
                                              actor_id=wa_a.owner.pk)  # fmt: skip
        ContactImport.objects.filter(pk=job.pk).update(status=ContactImport.Status.DONE)
        contact = Contact.objects.get(wa_id=WA_ID)
        contact_service.update_contact(contact, actor_id=wa_a.owner.pk, email="ratna@example.test", city="Bandung",
                                       address="Jl. Melati 7", notes=f"{NAME} suka gamis")  # fmt: skip
        contact_service.add_note(contact, f"Telepon {WA_ID} sore hari", actor_id=wa_a.owner.pk)
        contact_service.set_marketing_consent(contact, opted_out=True, reason=f"{NAME} minta berhenti")
        product = Product.objects.create(name="Gamis Melati")
        variant = Variant.objects.create(product=product, sku="GM-ERASE-1", price=250_000)
        conversation = Conversation.objects.get(contact=contact)
        order = orders.create_order(contact=contact, items=[{"variant_id": variant.pk, "quantity": 2}],
                                    actor_id=wa_a.owner.pk, notes=f"Kirim ke {NAME}",
                                    conversation_id=conversation.pk)  # fmt: skip
        Order.objects.filter(pk=order.pk).update(tracking_number="JNE123")
        Deal.objects.create(title=f"Seragam kantor {NAME}", contact=contact, notes="call",
                            stage=Stage.objects.order_by("position").first(), value=1_000_000)  # fmt: skip
        broadcast = BroadcastFactory(status="completed", recipient_count=1)
        Recipient.objects.create(broadcast=broadcast, contact=contact, wa_id=WA_ID, status="read")
    return contact


def raw_webhooks_mentioning(shop, needle: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM public.{WebhookIntake._meta.db_table}"
            " WHERE shop_id = %s AND position(convert_to(%s, 'UTF8') IN body) > 0",
            [shop.pk, needle],
        )
        return cursor.fetchone()[0]


def dashboard(client) -> dict:
    body = client.get("/api/crm/analytics/", **JSON).json()
    kpis = {key: value for key, value in body["kpis"].items() if not key.startswith("messages_")}
    return {"kpis": kpis, "trend": body["trend"], "funnel": body["funnel"],
            "top_customers": [row["revenue"] for row in body["top_customers"]]}  # fmt: skip


def test_erasing_removes_the_customer_from_every_table_and_keeps_the_totals(wa_a, customer):
    owner = wa_a.client(wa_a.owner)
    before = dashboard(owner)
    schema = wa_a.shop.schema_name
    assert tables_mentioning(schema, DIGITS) and tables_mentioning(schema, NAME)
    assert raw_webhooks_mentioning(wa_a.shop, DIGITS) == 3
    holding = {"crm_contact", "whatsapp_message", "whatsapp_statusevent", "crm_contactimport", "broadcasts_recipient"}
    assert holding <= set(tables_mentioning(schema, DIGITS))

    response = owner.post(f"/api/crm/contacts/{customer.pk}/erase/", **JSON)

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "" and response.json()["phone"] is None and response.json()["erased_at"]
    assert tables_mentioning(schema, DIGITS) == []
    assert tables_mentioning(schema, NAME) == []
    assert tables_mentioning(schema, "Melati 7") == []
    assert raw_webhooks_mentioning(wa_a.shop, DIGITS) == 0
    assert dashboard(owner) == before
    with schema_context(schema):
        assert Message.objects.filter(conversation__contact=customer).count() == 0
        assert not StatusEvent.objects.filter(wamid="wamid.ERASE-REPLY").exists()
        kept = Order.objects.get(contact=customer)
        assert (kept.total, kept.notes, kept.tracking_number, kept.conversation_id) == (500_000, "", "", None)
        assert Contact.objects.get(pk=customer.pk).total_spent == 500_000
        assert Deal.objects.get(contact=customer).value == 1_000_000
        assert Recipient.objects.get(contact=customer).status == "read"
        assert list(TimelineEvent.objects.filter(contact=customer).values_list("kind", flat=True)) == ["erased"]
    events = AuditEvent.objects.filter(shop=wa_a.shop, action="contact.erased")
    assert [(e.actor_id, e.target) for e in events] == [(wa_a.owner.pk, f"contact:{customer.pk}")]
    assert DIGITS not in str(events[0].details) and NAME not in str(events[0].details)


def test_the_same_number_writing_again_is_a_new_customer(wa_a, customer, portal):
    wa_a.client(wa_a.owner).post(f"/api/crm/contacts/{customer.pk}/erase/", **JSON)

    webhooks.post(portal, webhooks.inbound_text(wa_a.number, WA_ID, "Halo lagi", name="Ratna"), wa_a.secret)
    assert process(wa_a) == 1

    with schema_context(wa_a.shop.schema_name):
        fresh = Contact.objects.get(wa_id=WA_ID)
        assert fresh.pk != customer.pk and fresh.order_count == 0 and fresh.erased_at is None
        assert list(Message.objects.filter(conversation__contact=fresh).values_list("text", flat=True)) == ["Halo lagi"]


def test_only_owners_and_admins_may_erase_and_only_once(wa_a, customer):
    agent = wa_a.client(wa_a.agent).post(f"/api/crm/contacts/{customer.pk}/erase/", **JSON)
    assert agent.status_code == 403
    admin = wa_a.client(wa_a.admin)
    assert admin.post(f"/api/crm/contacts/{customer.pk}/erase/", **JSON).status_code == 200
    again = admin.post(f"/api/crm/contacts/{customer.pk}/erase/", **JSON)
    assert again.status_code == 400 and again.json()["code"] == "already_erased"
    refill = admin.patch(f"/api/crm/contacts/{customer.pk}/", {"name": "Ratna"}, **JSON)
    assert refill.status_code == 400
    assert AuditEvent.objects.filter(shop=wa_a.shop, action="contact.erased").count() == 1
