"""Per-shop export and restore: everything a shop owns leaves in one archive and comes back identical."""

import datetime as dt
import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone, translation
from django_tenants.utils import schema_context

from billing import wallet
from billing.models import Plan
from crm.models import (
    AttributeDefinition,
    Contact,
    ContactImport,
    Label,
    Stage,
)
from crm.services import contacts, orders, pipeline, segments
from crm.services.catalog import save_product
from tenants.activity.services import record_activity
from tenants.models import Membership, Role, Shop
from tenants.portability import archive, services
from tenants.portability.archive import ArchiveInvalid
from tenants.portability.models import ShopExport
from tenants.services.lifecycle import apply_plan
from tests.factories import UserFactory, create_shop
from whatsapp.broadcasts.models import Broadcast, ConsentSettings, Recipient
from whatsapp.channel.models import WhatsAppAccount
from whatsapp.models import (
    AutoReplyFiring,
    AutoReplyRule,
    BusinessHours,
    Conversation,
    Message,
    MessageTemplate,
    QuickReply,
    StatusEvent,
)

# The export reads in its own REPEATABLE READ transaction and the restore commits one, as in production:
# these tests commit for real (`committed`) rather than run inside a test transaction. The mark on the
# first tests only makes pytest-django set up the test database.


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(scope="module")
def rich_shop(committed):
    """A shop with a row in every table, made through the services where they exist."""
    shop, owner = create_shop(shop_name="Toko Lengkap 🌶️")
    apply_plan(shop, Plan.objects.get(code="growth"))
    agent = UserFactory(email=f"agent-{shop.slug}@example.test")
    Membership.objects.create(user=agent, shop=shop, role=Role.AGENT)
    wallet.credit_top_up(shop.pk, 250_000, f"portability-top-up:{shop.slug}")
    WhatsAppAccount.objects.create(
        shop=shop, phone_number_id=f"pn-{shop.slug}", waba_id="waba-1", display_phone_number="+62 811-000",
        access_token="SECRET-ACCESS-TOKEN", app_secret="SECRET-APP-SECRET", verify_token=f"verify-{shop.slug}",
    )  # fmt: skip
    with schema_context(shop.schema_name):
        fill_every_table(owner.pk)
    return shop, owner, agent


def fill_every_table(actor: int) -> None:
    vip = Label.objects.create(name="VIP", color="#ff0000")
    AttributeDefinition.objects.create(key="ukuran", label="Ukuran", type="choice", choices=["S", "M", "L"])
    sari = contacts.create_contact(actor_id=actor, phone="0812-1111-2222", name="Sari \"Kak\" Wulan 😊",
                                   label_ids=[vip.pk], attributes={"ukuran": "M"}, city="Bandung",
                                   birthday=dt.date(1990, 5, 17))  # fmt: skip
    budi = contacts.create_contact(actor_id=actor, phone="+6281333334444", name="=Budi", email="budi@example.test")
    twin = contacts.create_contact(actor_id=actor, phone="+6281555556666", name="Budi (lama)")
    contacts.merge(budi, twin, actor_id=actor)
    contacts.add_note(sari, "Suka warna hijau\nbaris kedua", actor_id=actor)
    product = save_product(
        None, name="Gamis Katun", variants=[{"sku": "GMS-M", "price": 185000, "size": "M", "stock": 4}]
    )
    variant = product.variants.get()
    order = orders.create_order(contact=sari, items=[{"variant_id": variant.pk, "quantity": 2}], actor_id=actor,
                                shipping_fee=15000, notes="Bungkus kado")  # fmt: skip
    orders.change_status(order, "confirmed", actor_id=actor)
    orders.create_order(contact=budi, items=[{"variant_id": variant.pk, "quantity": 1}], actor_id=actor)
    deal = pipeline.create_deal(title="Grosir 50 gamis", contact=sari, stage=pipeline.first_open_stage(),
                                value=9_000_000, expected_close=dt.date(2027, 1, 31), actor_id=actor)  # fmt: skip
    pipeline.move_deal(deal, Stage.objects.get(name="Dihubungi"), actor_id=actor)
    segments.create_segment(
        name="Bandung", rules={"op": "and", "rules": [{"field": "city", "operator": "is", "value": "Bandung"}]}
    )
    segments.refresh_rfm()
    ContactImport.objects.create(filename="daftar.csv", content=b"\xff\xfename;phone\n\x00binary", columns=["name"],
                                 status="done", errors=[{"line": 3, "reason": "no phone"}])  # fmt: skip
    conversation = Conversation.objects.create(contact=sari, last_message_at=timezone.now(), unread_count=1)
    Message.objects.create(conversation=conversation, direction="in", wamid="wamid.IN1", text="halo kak 👋",
                           status="received", payload={"nested": {"list": [1, 2.5, None, "x"]}})  # fmt: skip
    Message.objects.create(conversation=conversation, direction="out", wamid="wamid.OUT1", text="Halo!",
                           status="read", author_id=actor, idempotency_key="k-1")  # fmt: skip
    StatusEvent.objects.create(wamid="wamid.OUT1", status="read", occurred_at=timezone.now(), payload={"s": 1})
    rule = AutoReplyRule.objects.create(name="Harga", kind="keyword", keywords=["harga"], reply_text="Cek katalog")
    AutoReplyFiring.objects.create(rule=rule, contact=sari, fired_at=timezone.now())
    BusinessHours.objects.create(weekly={"mon": [["09:00", "17:00"]]}, holidays=["2026-12-25"])
    QuickReply.objects.create(shortcut="rekening", text="BCA 123")
    template = MessageTemplate.objects.create(name="promo", language="id", category="MARKETING", status="APPROVED",
                                              body_text="Halo {{1}}", parameter_count=1)  # fmt: skip
    parent = Broadcast.objects.create(name="Mingguan", template=template, repeat="weekly", status="active",
                                      next_run_at=timezone.now())  # fmt: skip
    sent = Broadcast.objects.create(name="Mingguan #1", template=template, parent=parent, status="completed",
                                    estimated_cost=Decimal("1234.5678"), audience={"labels": [vip.pk]})  # fmt: skip
    Recipient.objects.create(broadcast=sent, contact=sari, wa_id=sari.wa_id, market="62", hold=Decimal("0.0123"),
                             status="read", wamid="wamid.B1", sent_at=timezone.now())  # fmt: skip
    ConsentSettings.objects.create(stop_words=["STOP PROMO"], confirmation="Oke kak")
    record_activity(actor_id=actor, action="test.filled", summary="Isi semua tabel", detail={"tables": "all"})


def table_contents() -> dict[str, list]:
    """Every exported table of the current schema, row by row in key order."""
    found = {}
    for model in archive.exported_models():
        names = [f.attname for f in archive.columns(model)]
        found[model._meta.label] = list(model._base_manager.order_by(*archive.key_order(model)).values_list(*names))
    return found


def export_bytes(shop) -> bytes:
    buffer = io.BytesIO()
    services.write_archive(shop, buffer)
    return buffer.getvalue()


def shop_count() -> int:
    return Shop.objects.shops().count()


@pytest.mark.django_db
def test_every_shop_model_is_exported_or_excluded_with_a_reason():
    shop_labels = {model._meta.label for model in archive.shop_models()}
    exported = {model._meta.label for model in archive.exported_models()}
    assert set(archive.EXCLUDED_SHOP_MODELS) <= shop_labels, "an exclusion names a model that no longer exists"
    assert exported | set(archive.EXCLUDED_SHOP_MODELS) == shop_labels
    assert all(reason.strip() for reason in archive.EXCLUDED_SHOP_MODELS.values())
    assert {"crm.Contact", "crm.Contact_labels", "whatsapp.Message", "broadcasts.Recipient"} <= exported


@pytest.mark.django_db
def test_every_public_table_holding_a_shops_rows_is_exported_or_excluded_with_a_reason():
    holding = set()
    for model in apps.get_models(include_auto_created=True):
        if (
            model._meta.app_config.name in settings.TENANT_APPS
            and model._meta.app_config.name not in settings.SHARED_APPS
        ):
            continue
        if any(f.is_relation and f.related_model is Shop for f in model._meta.concrete_fields):
            holding.add(model._meta.label)
    handled = set(archive.PUBLIC_SHOP_ROWS) | set(archive.EXCLUDED_PUBLIC_ROWS)
    assert holding <= handled
    assert not set(archive.PUBLIC_SHOP_ROWS) & set(archive.EXCLUDED_PUBLIC_ROWS)
    assert all(apps.get_model(label) for label in handled)


def test_every_table_in_a_shops_schema_is_exported_or_excluded(rich_shop):
    """Read from PostgreSQL itself, so a table no model describes would show up here too."""
    shop, *_ = rich_shop
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s AND table_type = 'BASE TABLE'",
            [shop.schema_name],
        )
        in_schema = {name for (name,) in cursor.fetchall()} - {"django_migrations"}
    tables = {model._meta.db_table: model._meta.label for model in archive.shop_models()}
    assert in_schema == set(tables), "a table of the shop schema has no model the export knows"
    exported = {model._meta.label for model in archive.exported_models()}
    assert {tables[name] for name in in_schema} == exported | set(archive.EXCLUDED_SHOP_MODELS)


def test_the_archive_holds_every_table_with_a_manifest_csvs_and_no_secrets(rich_shop):
    shop, owner, agent = rich_shop
    data = export_bytes(shop)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert manifest["format"] == "warung-shop-export" and manifest["format_version"] == 1
        with schema_context(shop.schema_name):
            expected = {label: len(rows) for label, rows in table_contents().items()}
        assert {label: table["rows"] for label, table in manifest["tables"].items()} == expected
        assert all(count > 0 for count in expected.values()), "the sample shop should fill every table"
        assert manifest["migrations"]["crm"][0] == "0001_initial"
        assert set(zf.namelist()) - {"manifest.json"} == set(manifest["files"])
        contacts_csv = zf.read("csv/contacts.csv").decode("utf-8-sig")
        assert 'Sari ""Kak"" Wulan 😊' in contacts_csv and "'=Budi" in contacts_csv
        assert "Bungkus kado" in zf.read("csv/orders.csv").decode("utf-8-sig")
        members = json.loads(zf.read("public/memberships.json"))
        assert {(m["user__email"], m["role"]) for m in members} == {(owner.email, "owner"), (agent.email, "agent")}
        assert json.loads(zf.read("public/whatsapp_accounts.json"))[0]["phone_number_id"] == f"pn-{shop.slug}"
        assert "portability-top-up" in zf.read("billing/balance_entries.csv").decode("utf-8-sig")
        assert json.loads(zf.read("shop.json"))["plan"] == "growth"
        everything = b"".join(zf.read(name) for name in zf.namelist())
    assert b"SECRET-ACCESS-TOKEN" not in everything and b"SECRET-APP-SECRET" not in everything
    assert f"verify-{shop.slug}".encode() not in everything


def test_a_restored_shop_has_identical_content_under_a_new_subdomain(rich_shop):
    shop, owner, agent = rich_shop
    with schema_context(shop.schema_name):
        original = table_contents()
    data = export_bytes(shop)

    restored = services.restore_shop(io.BytesIO(data), f"{shop.slug}-copy")

    new = Shop.objects.get(pk=restored.shop.pk)
    assert new.schema_name != shop.schema_name and new.slug == f"{shop.slug}-copy"
    assert (new.name, new.time_zone, new.locale, new.currency, new.plan.code) == (
        shop.name, shop.time_zone, shop.locale, shop.currency, "growth",
    )  # fmt: skip
    assert new.domains.get().domain == f"{shop.slug}-copy.{settings.PLATFORM_HOST}"
    assert set(Membership.objects.filter(shop=new).values_list("user__email", "role")) == {
        (owner.email, "owner"), (agent.email, "agent"),
    }  # fmt: skip
    assert restored.people_not_found == []
    with schema_context(new.schema_name):
        copied = table_contents()
        # Sequences continue after the restored ids: new rows never collide with old ones.
        label = Label.objects.create(name="Baru")
        assert label.pk > max(pk for pk, *_ in original["crm.Label"])
        contact = Contact.objects.get(phone="+6281211112222")
    assert copied == original
    assert contact.name == 'Sari "Kak" Wulan 😊'


def test_a_tampered_archive_is_refused_and_creates_nothing(rich_shop):
    shop, *_ = rich_shop
    data = export_bytes(shop)
    tampered = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(tampered, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "tables/crm.Contact.json":
                content = content.replace(b"Bandung", b"Jakarta")
            target.writestr(item, content)
    shops_before = shop_count()

    with pytest.raises(ArchiveInvalid, match=r"checksum of tables/crm\.Contact\.json does not match"):
        services.restore_shop(io.BytesIO(tampered.getvalue()), f"{shop.slug}-evil")

    assert shop_count() == shops_before
    assert not Shop.objects.filter(slug=f"{shop.slug}-evil").exists()


def test_an_archive_of_another_format_version_is_refused(rich_shop):
    shop, *_ = rich_shop
    data = export_bytes(shop)
    other = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(other, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "manifest.json":
                content = json.dumps({**json.loads(content), "format_version": 2}).encode()
            target.writestr(item, content)
    with pytest.raises(ArchiveInvalid, match="format version 2"):
        services.restore_shop(io.BytesIO(other.getvalue()), f"{shop.slug}-v2")
    with pytest.raises(ArchiveInvalid, match="not a zip file"):
        services.restore_shop(io.BytesIO(b"PK? no"), f"{shop.slug}-v2")
    assert not Shop.objects.filter(slug=f"{shop.slug}-v2").exists()


def rewritten(data: bytes, change) -> bytes:
    """The archive with `change(name, lines)` applied to each file, re-hashed so its checksums hold."""
    out = io.BytesIO()
    writer = archive.ArchiveWriter(out)
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        manifest = json.loads(source.read("manifest.json"))
        for name in manifest["files"]:
            lines = change(name, source.read(name).decode("utf-8").rstrip("\n").split("\n"))
            if lines is not None:
                writer.write_lines(name, lines)
    writer.close({key: value for key, value in manifest.items() if key != "files"})
    return out.getvalue()


def test_an_archive_without_its_shop_profile_is_refused_and_creates_nothing(rich_shop):
    shop, *_ = rich_shop
    incomplete = rewritten(export_bytes(shop), lambda name, lines: None if name == "shop.json" else lines)
    shops_before = shop_count()

    with pytest.raises(ArchiveInvalid, match="incomplete or malformed"):
        services.restore_shop(io.BytesIO(incomplete), f"{shop.slug}-kurang")

    assert shop_count() == shops_before


def test_an_archive_that_makes_someone_more_than_a_role_is_refused(rich_shop):
    shop, *_ = rich_shop

    def promote(name, lines):
        return (
            [line.replace('"agent"', '"superuser"') for line in lines] if name == "public/memberships.json" else lines
        )

    with pytest.raises(ArchiveInvalid, match="members are not valid"):
        services.restore_shop(io.BytesIO(rewritten(export_bytes(shop), promote)), f"{shop.slug}-naik")
    assert not Shop.objects.filter(slug=f"{shop.slug}-naik").exists()


def test_an_export_from_another_version_of_warung_is_refused(rich_shop):
    shop, *_ = rich_shop
    newer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(export_bytes(shop))) as source, zipfile.ZipFile(newer, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "manifest.json":
                manifest = json.loads(content)
                manifest["migrations"]["crm"].append("0099_from_the_future")
                content = json.dumps(manifest).encode()
            target.writestr(item, content)

    with pytest.raises(ArchiveInvalid, match="another version of Warung"):
        services.restore_shop(io.BytesIO(newer.getvalue()), f"{shop.slug}-baru")
    assert not Shop.objects.filter(slug=f"{shop.slug}-baru").exists()


def test_rows_that_do_not_fit_together_roll_the_whole_restore_back(rich_shop):
    """A well-formed archive whose order points at a missing customer: the shop is not half made."""
    shop, *_ = rich_shop

    def orphan_orders(name, lines):
        if name != "tables/crm.Order.json":
            return lines
        return [line.replace('"contact_id": ', '"contact_id": 9999') for line in lines]

    broken = io.BytesIO(rewritten(export_bytes(shop), orphan_orders))
    pool_before = Shop.objects.filter(status=Shop.Status.POOL).count()
    shops_before = shop_count()

    with pytest.raises(ArchiveInvalid, match="do not fit together"):
        services.restore_shop(broken, f"{shop.slug}-half")

    assert shop_count() == shops_before
    assert Shop.objects.filter(status=Shop.Status.POOL).count() >= pool_before  # the claimed schema went back


def test_an_export_whose_task_was_lost_is_given_up_so_the_owner_can_start_another(rich_shop):
    shop, owner, _agent = rich_shop
    lost = ShopExport.objects.create(shop=shop, requested_by=owner, status="running")
    ShopExport.objects.filter(pk=lost.pk).update(created_at=timezone.now() - dt.timedelta(hours=7))
    recent = ShopExport.objects.create(shop=shop, requested_by=owner, status="queued")

    services.expire_exports()

    assert ShopExport.objects.get(pk=lost.pk).status == "failed"
    assert ShopExport.objects.get(pk=recent.pk).status == "queued"
    ShopExport.objects.filter(pk__in=[lost.pk, recent.pk]).delete()


def test_operator_commands_export_and_restore_a_shop(rich_shop, tmp_path):
    shop, *_ = rich_shop
    target = tmp_path / "toko.zip"
    out = io.StringIO()
    call_command("export_shop", shop.slug, str(target), stdout=out)
    assert "Exported" in out.getvalue() and target.stat().st_size > 0

    call_command("restore_shop", str(target), subdomain=f"{shop.slug}-cmd", stdout=out)
    assert f"{shop.slug}-cmd" in out.getvalue()
    with pytest.raises(CommandError, match="already taken"):
        call_command("restore_shop", str(target), subdomain=f"{shop.slug}-cmd", stdout=out)
    with pytest.raises(CommandError, match="No shop"):
        call_command("export_shop", "tidak-ada", str(target))
    connection.set_schema_to_public()
