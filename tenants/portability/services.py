"""A shop's data taken out whole, and put back as a new shop with identical content.

The one place that reads a shop for export (`write_archive`), starts an owner's export
(`start_export`, the hook for anything that must happen when a shop is exported), hands its file
out (`download_link`, `export_for_download`) and restores an archive (`restore_shop`).
"""

import binascii
import datetime as dt
import logging
import tempfile
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import psycopg
from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management.color import no_style
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from billing.models import BalanceEntry, BillingAccount, LedgerEntry, Plan, UsageRollup
from billing.plans import trial_plan
from config.redis import redis_client
from crm.models import Contact, Order
from crm.services.imports import export_rows as contact_rows
from whatsapp.channel.models import WhatsAppAccount

from .. import audit, provisioning
from ..models import Domain, Membership, Role, Shop, User
from ..services.errors import PermissionDenied, ServiceError
from ..services.signup import subdomain_problem
from . import archive
from .archive import ArchiveInvalid, ArchiveReader, ArchiveWriter
from .models import ShopExport

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
_LINK_SALT = "tenants.portability.download"
UNFINISHED_GIVE_UP_HOURS = 6


# --- export


def start_export(shop: Shop, user: User) -> ShopExport:
    """An owner asks for their shop's data: one export at a time, made by a background task."""
    if not Membership.objects.filter(shop=shop, user=user, role=Role.OWNER).exists():
        raise PermissionDenied(_("Only the shop's owners can export its data."))
    with transaction.atomic():
        Shop.objects.select_for_update().get(pk=shop.pk)  # two clicks make one export
        running = ShopExport.objects.filter(
            shop=shop, status__in=[ShopExport.Status.QUEUED, ShopExport.Status.RUNNING]
        ).first()
        if running is not None:
            return running
        export = ShopExport.objects.create(shop=shop, requested_by=user)
        audit.record("shop.exported", actor=user, shop=shop, target=f"export:{export.pk}")
        transaction.on_commit(lambda: _queue(export.pk))
    logger.info("shop export started", extra={"export": export.pk})
    return export


def _queue(export_id: int) -> None:
    from .tasks import export_shop_data

    export_shop_data.delay(export_id)


def run_export(export_id: int) -> ShopExport:
    """Writes the archive of a queued export into file storage (called by the task)."""
    export = ShopExport.objects.select_related("shop").get(pk=export_id)
    if export.status not in (ShopExport.Status.QUEUED, ShopExport.Status.RUNNING):
        return export
    ShopExport.objects.filter(pk=export.pk).update(status=ShopExport.Status.RUNNING)

    def progress(done: int, total: int) -> None:
        # The export reads in a read-only transaction of its own: progress goes to Redis, not to the row.
        redis_client().set(_progress_key(export.pk), f"{done}/{total}", ex=24 * 3600)

    try:
        with tempfile.TemporaryFile() as scratch:
            manifest = write_archive(export.shop, scratch, progress=progress)
            size = scratch.tell()
            scratch.seek(0)
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
            name = default_storage.save(
                f"exports/{export.shop.schema_name}/{export.shop.slug}-{stamp}-{export.key}.zip", File(scratch)
            )
    except Exception as exc:
        logger.exception("shop export failed", extra={"export": export.pk})
        ShopExport.objects.filter(pk=export.pk).update(
            status=ShopExport.Status.FAILED, error=str(exc)[:300], finished_at=timezone.now()
        )
        raise
    rows = sum(table["rows"] for table in manifest["tables"].values())
    now = timezone.now()
    ShopExport.objects.filter(pk=export.pk).update(
        status=ShopExport.Status.READY,
        rows_done=rows,
        rows_total=rows,
        file_name=name,
        file_size=size,
        finished_at=now,
        expires_at=now + dt.timedelta(hours=settings.SHOP_EXPORT_KEEP_HOURS),
    )
    redis_client().delete(_progress_key(export.pk))
    export.refresh_from_db()
    return export


def progress_of(export: ShopExport) -> int:
    """Percent of rows written: 100 once ready, read live from the running task before that."""
    if export.status == ShopExport.Status.READY:
        return 100
    if export.status != ShopExport.Status.RUNNING:
        return 0
    done, _sep, total = (redis_client().get(_progress_key(export.pk)) or b"0/0").decode().partition("/")
    return min(99, int(done) * 100 // int(total)) if int(total) else 0


def _progress_key(export_id: int) -> str:
    return f"warung:shop-export:{export_id}:progress"


def write_archive(shop: Shop, target, *, progress: Progress | None = None) -> dict:
    """Writes every table of the shop and its public rows into `target` (a binary file); returns the manifest.

    One read-only REPEATABLE READ transaction: every table is read at the same instant, so the
    archive's rows fit together even while the shop keeps working.
    """
    models = archive.exported_models()
    writer = ArchiveWriter(target)
    with schema_context(shop.schema_name), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        counts = {model._meta.label: model._base_manager.count() for model in models}
        total, done = sum(counts.values()), 0
        if progress:
            progress(0, total)
        tables = {}
        for model in models:
            names = [f.attname for f in archive.columns(model)]
            rows = model._base_manager.order_by(*archive.key_order(model)).values_list(*names)
            written = writer.write_json_rows(
                archive.table_file(model),
                (archive.encode_row(names, values) for values in rows.iterator(chunk_size=archive.CHUNK_ROWS)),
            )
            tables[model._meta.label] = {"file": archive.table_file(model), "rows": written, "columns": names}
            done += written
            if progress:
                progress(done, total)
        zone = zoneinfo.ZoneInfo(shop.time_zone or settings.SHOP_DEFAULT_TIME_ZONE)
        writer.write_csv("csv/contacts.csv", contact_rows(Contact.objects.all(), zone))
        writer.write_csv("csv/orders.csv", _order_rows(zone))
        migrations = archive.migration_state(connection, {m._meta.app_label for m in models})
        _write_public_rows(writer, shop)
    manifest = {
        "format": archive.FORMAT,
        "format_version": archive.FORMAT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "shop": {"name": shop.name, "slug": shop.slug, "schema": shop.schema_name},
        "migrations": migrations,
        "tables": tables,
    }
    writer.close(manifest)
    return manifest


SHOP_PROFILE = ["name", "slug", "status", "time_zone", "locale", "currency", "created_at", "suspended_at",
                "suspended_reason"]  # fmt: skip
ORDER_COLUMNS = ["number", "created_at", "customer", "phone", "status", "payment_status", "channel", "currency",
                 "subtotal", "discount", "shipping_fee", "total", "tracking_number", "notes"]  # fmt: skip


def _order_rows(zone: zoneinfo.ZoneInfo) -> Iterator[list]:
    yield ORDER_COLUMNS
    rows = Order.objects.order_by("pk").values_list(
        "number", "created_at", "contact__name", "contact__phone", *ORDER_COLUMNS[4:]
    )
    for number, created, name, phone, *rest in rows.iterator(chunk_size=archive.CHUNK_ROWS):
        moment = created.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        yield [number, moment, _spreadsheet_safe(name), phone or "", *rest[:-1], _spreadsheet_safe(rest[-1])]


def _spreadsheet_safe(text: str) -> str:
    """Spreadsheet apps run cells starting with = + - @ as formulas; customers choose their own names."""
    return f"'{text}" if text and text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


WHATSAPP_ACCOUNT_COLUMNS = ["phone_number_id", "waba_id", "display_phone_number", "verified_name",
                            "quality_rating", "throughput_level", "status", "last_error_code", "last_error_reason",
                            "created_at"]  # fmt: skip
BILLING_ACCOUNT_COLUMNS = ["currency", "subscription_status", "current_period_end", "cancel_at_period_end",
                           "past_due_since", "balance", "reserved", "monthly_cap", "auto_recharge",
                           "auto_recharge_below", "auto_recharge_amount"]  # fmt: skip
LEDGER_COLUMNS = ["wamid", "occurred_at", "day", "category", "market", "pricing_type", "billable", "priced_from",
                  "rate_currency", "rate", "fx_rate", "currency", "meta_cost", "price"]  # fmt: skip
ROLLUP_COLUMNS = ["day", "category", "currency", "messages", "billable_messages", "meta_cost", "price"]
BALANCE_COLUMNS = ["created_at", "kind", "amount", "balance_after", "reference", "description"]


def _write_public_rows(writer: ArchiveWriter, shop: Shop) -> None:
    """The shop's rows in the public schema: its profile, people, number and billing (no credentials)."""
    plan = Plan.objects.filter(pk=shop.plan_id).values_list("code", flat=True).first()
    domains = list(Domain.objects.filter(tenant=shop).order_by("pk").values_list("domain", flat=True))
    profile = {name: getattr(shop, name) for name in SHOP_PROFILE}
    writer.write_json("shop.json", {**profile, "plan": plan, "domains": domains})
    members = Membership.objects.filter(shop=shop).order_by("pk")
    writer.write_json(
        "public/memberships.json", list(members.values("user_id", "user__email", "user__name", "role", "created_at"))
    )
    accounts = WhatsAppAccount.objects.filter(shop=shop).order_by("pk")
    writer.write_json("public/whatsapp_accounts.json", list(accounts.values(*WHATSAPP_ACCOUNT_COLUMNS)))
    account = BillingAccount.objects.filter(shop=shop).values(*BILLING_ACCOUNT_COLUMNS).first()
    writer.write_json("public/billing_account.json", account)
    ledger = LedgerEntry.objects.filter(shop=shop).order_by("occurred_at", "pk")
    writer.write_csv("billing/ledger.csv", _csv(ledger, LEDGER_COLUMNS))
    rollups = UsageRollup.objects.filter(shop=shop).order_by("day", "category")
    writer.write_csv("billing/usage_rollups.csv", _csv(rollups, ROLLUP_COLUMNS))
    entries = BalanceEntry.objects.filter(account__shop=shop).order_by("created_at", "pk")
    writer.write_csv("billing/balance_entries.csv", _csv(entries, BALANCE_COLUMNS))


def _csv(queryset, names: list[str]) -> Iterator[list]:
    yield names
    for values in queryset.values_list(*names).iterator(chunk_size=archive.CHUNK_ROWS):
        yield [value.isoformat() if isinstance(value, dt.date) else value for value in values]


# --- download


def download_link(export: ShopExport) -> str | None:
    """A link to the file that works for SHOP_EXPORT_LINK_MINUTES, for this shop's owners only."""
    if export.status != ShopExport.Status.READY:
        return None
    token = signing.TimestampSigner(salt=_LINK_SALT).sign(str(export.key))
    return f"/api/data/exports/{export.pk}/download/?token={token}"


def export_for_download(shop: Shop, export_id: int, token: str) -> ShopExport:
    """The ready export a download link names, if the link is this shop's and still fresh."""
    export = ShopExport.objects.filter(pk=export_id, shop=shop).first()
    if export is None:
        raise ServiceError(_("This export does not exist."), code="not_found")
    try:
        key = signing.TimestampSigner(salt=_LINK_SALT).unsign(token, max_age=settings.SHOP_EXPORT_LINK_MINUTES * 60)
    except signing.SignatureExpired as exc:
        raise PermissionDenied(_("This download link has expired. Open Settings > Data for a new one.")) from exc
    except signing.BadSignature as exc:
        raise PermissionDenied(_("This download link is not valid.")) from exc
    if key != str(export.key):
        raise PermissionDenied(_("This download link is not valid."))
    if export.status != ShopExport.Status.READY or not default_storage.exists(export.file_name):
        raise ServiceError(_("This export is no longer available. Start a new one."), code="not_found")
    return export


def open_export_file(export: ShopExport):
    return default_storage.open(export.file_name, "rb")


def expire_exports(shop: Shop | None = None) -> int:
    """Deletes the files of exports past their time; returns how many. An export that never finished (its
    task lost with the broker) is marked failed, so that its owner can start another. With `shop`, every
    file of that shop goes now (the shop is being deleted)."""
    now = timezone.now()
    ShopExport.objects.filter(
        status__in=[ShopExport.Status.QUEUED, ShopExport.Status.RUNNING],
        created_at__lt=now - dt.timedelta(hours=UNFINISHED_GIVE_UP_HOURS),
    ).update(status=ShopExport.Status.FAILED, error="did not finish in time", finished_at=now)
    ready = ShopExport.objects.filter(status=ShopExport.Status.READY)
    expired = ready.filter(shop=shop) if shop is not None else ready.filter(expires_at__lte=now)
    count = 0
    for export in expired:
        default_storage.delete(export.file_name)
        ShopExport.objects.filter(pk=export.pk).update(status=ShopExport.Status.EXPIRED)
        count += 1
    return count


# --- restore


@dataclass
class Restored:
    shop: Shop
    rows: int
    people_not_found: list[str] = field(default_factory=list)


def restore_shop(source, subdomain: str, *, progress: Progress | None = None) -> Restored:
    """Makes a new shop on `subdomain` holding exactly the archive's data: same rows, same ids.

    All or nothing: the archive is checked whole first (format, version, checksums), then the new
    shop, its memberships and every row are written in one transaction.
    """
    reader = ArchiveReader(source)
    try:
        subdomain = subdomain.strip().lower()
        if problem := subdomain_problem(subdomain):
            raise ServiceError(problem, field="subdomain")
        if provisioning.ready_count() == 0:
            provisioning.create_ready_schema()
        with transaction.atomic():
            shop = provisioning.claim_ready_schema()
            if shop is None:
                raise ServiceError(
                    _("No ready shop schema right now. Please try again in a moment."), code="pool_empty"
                )
            try:
                missing = _restore_public_rows(reader, shop, subdomain)
                with schema_context(shop.schema_name):
                    rows = _restore_tables(reader, shop, progress)
            except (KeyError, TypeError, AttributeError) as exc:
                raise ArchiveInvalid(
                    _("This export is incomplete or malformed (%(error)s); nothing was restored.") % {"error": exc}
                ) from exc
        transaction.on_commit(_refill_pool)
    finally:
        reader.close()
    logger.info("shop restored", extra={"shop": shop.pk, "rows": rows})
    return Restored(shop=shop, rows=rows, people_not_found=missing)


def _restore_public_rows(reader: ArchiveReader, shop: Shop, subdomain: str) -> list[str]:
    profile = reader.read_json("shop.json")
    members = reader.read_json("public/memberships.json")
    if (
        profile["locale"] not in Shop.Locale.values
        or profile["time_zone"] not in zoneinfo.available_timezones()
        or any(member["role"] not in Role.values for member in members)
    ):
        raise ArchiveInvalid(_("This export's shop profile or members are not valid; nothing was restored."))
    shop.name = profile["name"]
    shop.slug = subdomain
    shop.status = profile["status"] if profile["status"] in (Shop.Status.TRIAL, Shop.Status.ACTIVE) else "trial"
    shop.time_zone = profile["time_zone"]
    shop.locale = profile["locale"]
    shop.currency = profile["currency"]
    shop.plan = Plan.objects.filter(code=profile.get("plan")).first() or trial_plan()
    shop.save()
    Domain.objects.create(domain=f"{subdomain}.{settings.PLATFORM_HOST}", tenant=shop, is_primary=True)
    missing = []
    for member in members:
        user = User.objects.filter(email__iexact=member["user__email"]).first()
        if user is None:
            missing.append(member["user__email"])
            continue
        Membership.objects.create(user=user, shop=shop, role=member["role"])
    return missing


def _restore_tables(reader: ArchiveReader, shop: Shop, progress: Progress | None) -> int:
    tables = reader.manifest.get("tables") or {}
    models = {model._meta.label: model for model in archive.exported_models()}
    if set(tables) != set(models):
        raise ArchiveInvalid(_("This export's tables do not match this version of Warung; it cannot be restored here."))
    here = archive.migration_state(connection, {m._meta.app_label for m in models.values()})
    if here != reader.manifest.get("migrations"):
        raise ArchiveInvalid(
            _(
                "This export was made by another version of Warung (its database migrations differ); "
                "it cannot be restored here."
            )
        )
    with connection.cursor() as cursor:
        names = ", ".join(f'"{shop.schema_name}"."{m._meta.db_table}"' for m in models.values())
        cursor.execute(f"TRUNCATE {names}")  # the schema's seeded rows (default stages, settings)
    total, done = sum(t["rows"] for t in tables.values()), 0
    for label, model in models.items():
        fields = archive.columns(model)
        if tables[label]["columns"] != [f.attname for f in fields]:
            raise ArchiveInvalid(_("The columns of %(table)s differ from this version of Warung.") % {"table": label})
        done += _insert_rows(shop, model, fields, reader.rows(tables[label]["file"]), tables[label]["rows"], label)
        if progress:
            progress(done, total)
    try:  # foreign keys are checked at the end of each statement from here on, so now
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    except IntegrityError as exc:
        raise ArchiveInvalid(_("This export's rows do not fit together (%(error)s).") % {"error": exc}) from exc
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), list(models.values())):
            cursor.execute(statement)
    return done


def _insert_rows(shop: Shop, model, fields, rows, expected: int, label: str) -> int:
    """Loads a table with COPY: rows go in as they were (no auto_now, no defaults), at PostgreSQL's bulk speed."""
    table = f'"{shop.schema_name}"."{model._meta.db_table}"'
    names = [f.attname for f in fields]
    quoted = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    prepare = archive.copy_values(model)
    count = 0
    try:
        with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([convert(row[name]) for name, convert in zip(names, prepare, strict=True)])
                count += 1
    except (DatabaseError, psycopg.Error, TypeError, ValueError, KeyError, binascii.Error) as exc:
        raise ArchiveInvalid(
            _("The rows of %(table)s cannot be restored (%(error)s).") % {"table": label, "error": exc}
        ) from exc
    if count != expected:
        raise ArchiveInvalid(_("%(table)s holds a different number of rows than its manifest says.") % {"table": label})
    return count


def _refill_pool() -> None:
    from ..tasks import refill_shop_pool

    try:
        refill_shop_pool.delay()
    except Exception:  # the broker being down must not fail a restore; beat refills anyway
        logger.exception("could not queue pool refill")
