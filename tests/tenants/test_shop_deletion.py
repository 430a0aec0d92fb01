"""Deleting a shop: the owner asks with their password, the shop waits out its grace period read-only and can be
saved by an owner or an operator; after it the sweep drops the schema and everything that routed to it, and the
billing and audit rows stay."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context, schema_exists

from billing import wallet
from billing.models import BalanceEntry
from crm.models import Contact
from tenants.models import ApiToken, AuditEvent, Domain, Membership, Shop
from tenants.portability.models import ShopExport
from tenants.services import access, deletion, lifecycle
from tenants.tasks import delete_due_shops
from tests.factories import PASSWORD, UserFactory, create_shop
from whatsapp.channel.models import WhatsAppAccount
from whatsapp.channel.services import connect

pytestmark = pytest.mark.django_db
JSON = {"content_type": "application/json", "HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def doomed():
    """A fresh shop with a customer, a WhatsApp number, an API token and a balance; its owner logged in."""
    shop, owner = create_shop()
    with schema_context(shop.schema_name):
        Contact.objects.create(name="Sari", phone="+6281200009999", wa_id="6281200009999")
        connect(shop, owner.pk, phone_number_id=f"1099{shop.pk:011d}", waba_id="WABA-DEL",
                display_phone_number="6281100000099", access_token="token-del", app_secret="secret-del")  # fmt: skip
        access.create_api_token(shop, owner, "Integration", ["contacts:read"])
    wallet.credit_top_up(shop.pk, 100_000, f"test-top-up:{shop.pk}")
    client = Client(HTTP_HOST=shop.primary_host)
    assert client.post("/api/auth/login/", {"email": owner.email, "password": PASSWORD}, **JSON).status_code == 200
    return shop, owner, client


def overdue(shop: Shop) -> None:
    Shop.objects.filter(pk=shop.pk).update(deletion_due_at=timezone.now() - timedelta(minutes=1))
    with connection.cursor() as cursor:
        # The test's one transaction holds the fixture's deferred foreign-key checks, which PostgreSQL will not
        # drop tables under; the sweep itself runs in a transaction of its own.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_the_owner_schedules_the_deletion_with_the_password_and_the_shop_turns_read_only(doomed, mailoutbox, settings):
    settings.SHOP_DELETION_GRACE_DAYS = 14
    shop, owner, client = doomed
    wrong = client.post("/api/shop/deletion/", {"password": "not-it"}, **JSON)
    assert wrong.status_code == 400 and "password" in wrong.json()

    response = client.post("/api/shop/deletion/", {"password": PASSWORD}, **JSON)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "deletion_pending"
    due = Shop.objects.get(pk=shop.pk).deletion_due_at
    assert timedelta(days=13, hours=23) < due - timezone.now() <= timedelta(days=14)
    assert client.get("/api/auth/session/").json()["shop"]["deletion_due_at"]
    assert client.get("/api/crm/contacts/").status_code == 200  # still readable, and exportable
    refused = client.post("/api/crm/contacts/", {"name": "Baru", "phone": "081299990000"}, **JSON)
    assert refused.status_code == 409 and refused.json()["code"] == "deletion_pending"
    in_indonesian = client.post("/api/crm/contacts/", {"name": "Baru"}, content_type="application/json",
                                HTTP_ACCEPT_LANGUAGE="id")  # fmt: skip
    assert "dijadwalkan untuk dihapus" in in_indonesian.json()["detail"]
    assert [m.to for m in mailoutbox] == [[owner.email]]
    events = AuditEvent.objects.filter(shop=shop, action="shop.deletion_requested")
    assert [(e.actor_id, e.actor_email) for e in events] == [(owner.pk, owner.email)]
    assert PASSWORD not in str(events[0].details)


def test_only_an_owner_may_delete_the_shop(doomed):
    shop, _owner, _client = doomed
    admin = UserFactory()
    Membership.objects.create(user=admin, shop=shop, role="admin")
    client = Client(HTTP_HOST=shop.primary_host)
    client.post("/api/auth/login/", {"email": admin.email, "password": PASSWORD}, **JSON)
    assert client.post("/api/shop/deletion/", {"password": PASSWORD}, **JSON).status_code == 403
    assert Shop.objects.get(pk=shop.pk).status == Shop.Status.TRIAL


def test_the_sweep_keeps_a_shop_inside_its_grace_period(doomed):
    shop, _owner, client = doomed
    client.post("/api/shop/deletion/", {"password": PASSWORD}, **JSON)

    assert delete_due_shops() == []

    assert schema_exists(shop.schema_name)
    assert Shop.objects.get(pk=shop.pk).status == Shop.Status.DELETION_PENDING


def test_after_the_grace_period_the_sweep_drops_the_schema_and_keeps_billing_and_audit(doomed):
    shop, owner, client = doomed
    # An export the owner made earlier (its file as the export task leaves it).
    name = default_storage.save(
        f"exports/{shop.schema_name}-before-deletion.zip", ContentFile(b"PK\x05\x06" + bytes(18))
    )
    export = ShopExport.objects.create(shop=shop, requested_by=owner, status=ShopExport.Status.READY, file_name=name)
    client.post("/api/shop/deletion/", {"password": PASSWORD}, **JSON)
    overdue(shop)
    ledger_before = BalanceEntry.objects.filter(account__shop=shop).count()

    assert delete_due_shops.apply().get() == [shop.schema_name]  # the beat task, run in this process

    connection.set_schema_to_public()
    assert not schema_exists(shop.schema_name)
    gone = Shop.objects.get(pk=shop.pk)
    assert gone.status == Shop.Status.DELETED and gone.deleted_at is not None
    assert not Domain.objects.filter(tenant=shop).exists()
    assert not WhatsAppAccount.objects.filter(shop=shop).exists()
    assert not Membership.objects.filter(shop=shop).exists()
    assert not ApiToken.objects.filter(shop=shop, revoked_at__isnull=True).exists()
    assert BalanceEntry.objects.filter(account__shop=shop).count() == ledger_before > 0
    assert list(AuditEvent.objects.filter(shop=shop).values_list("action", flat=True))[:2] == [
        "shop.deleted",
        "shop.deletion_requested",
    ]
    assert Client(HTTP_HOST=shop.primary_host).get("/api/auth/session/").status_code == 404
    assert shop not in Shop.objects.shops() and shop in Shop.objects.listed()
    assert not default_storage.exists(export.file_name), "its exported data went with it"
    assert delete_due_shops() == []  # once


def test_the_owner_cancels_during_the_grace_period_and_nothing_is_lost(doomed):
    shop, owner, client = doomed
    client.post("/api/shop/deletion/", {"password": PASSWORD}, **JSON)

    response = client.delete("/api/shop/deletion/", **JSON)

    assert response.status_code == 200 and response.json()["status"] == "trial"
    assert Shop.objects.get(pk=shop.pk).deletion_due_at is None
    overdue(shop)  # even a date in the past: only a pending deletion is swept
    assert delete_due_shops() == []
    assert schema_exists(shop.schema_name)
    assert client.post("/api/crm/contacts/", {"name": "Baru", "phone": "081299990000"}, **JSON).status_code == 201
    cancelled = AuditEvent.objects.get(shop=shop, action="shop.deletion_cancelled")
    assert cancelled.actor_id == owner.pk and cancelled.details == {"by_operator": False}


def test_an_operator_cancels_from_the_console(doomed, settings):
    shop, _owner, client = doomed
    client.post("/api/shop/deletion/", {"password": PASSWORD}, **JSON)
    operator = UserFactory(is_staff=True, is_superuser=True)
    console = Client(HTTP_HOST=settings.PLATFORM_HOST)
    console.force_login(operator)

    pending = console.get("/console/tenants/shop/?status=deletion_pending")
    assert pending.status_code == 200 and shop.name.encode() in pending.content
    console.post("/console/tenants/shop/", {"action": "cancel_deletion", "_selected_action": [shop.pk]})

    assert Shop.objects.get(pk=shop.pk).status == Shop.Status.TRIAL
    cancelled = AuditEvent.objects.get(shop=shop, action="shop.deletion_cancelled")
    assert cancelled.actor_id == operator.pk and cancelled.details == {"by_operator": True}


def test_a_cancellation_that_wins_the_race_keeps_the_shop(doomed):
    shop, owner, client = doomed
    client.post("/api/shop/deletion/", {"password": PASSWORD}, **JSON)
    overdue(shop)
    deletion.cancel_deletion(Shop.objects.get(pk=shop.pk), owner)

    assert deletion.delete_now(shop.pk) is None
    assert schema_exists(shop.schema_name)


def test_a_scheduled_broadcast_does_not_start_while_the_shop_waits_for_deletion(doomed):
    from tests.whatsapp.broadcasts.factories import BroadcastFactory, ContactFactory
    from whatsapp.broadcasts import services as broadcasts

    shop, _owner, client = doomed
    with schema_context(shop.schema_name):
        due = BroadcastFactory(audience={"contacts": [ContactFactory().pk]}, status="scheduled",
                               scheduled_at=timezone.now() - timedelta(minutes=1))  # fmt: skip
    client.post("/api/shop/deletion/", {"password": PASSWORD}, **JSON)

    with schema_context(shop.schema_name):
        assert broadcasts.start_due() == 0
        due.refresh_from_db()
    assert due.status == "draft" and "scheduled for deletion" in due.status_reason


def test_a_suspension_does_not_undo_the_owners_request(doomed):
    shop, _owner, client = doomed
    client.post("/api/shop/deletion/", {"password": PASSWORD}, **JSON)
    operator = UserFactory(is_staff=True)
    lifecycle.suspend_shop(Shop.objects.get(pk=shop.pk), operator, reason="abuse")
    lifecycle.reactivate_shop(Shop.objects.get(pk=shop.pk), operator)
    assert Shop.objects.get(pk=shop.pk).status == Shop.Status.DELETION_PENDING

    lifecycle.suspend_shop(Shop.objects.get(pk=shop.pk), operator, reason="abuse")
    overdue(shop)

    assert delete_due_shops() == [shop.schema_name]
    assert Shop.objects.get(pk=shop.pk).status == Shop.Status.DELETED
