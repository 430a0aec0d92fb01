"""The shop archive's format: a zip of one JSON file per table, CSVs for people, and a manifest.

Everything is written and read as a stream, one table at a time and one row per line, so a shop of
a million contacts needs no more memory than a small one. Each table file is a JSON array with one
row object per line (`[`, `{...},`, …, `{...}`, `]`): valid JSON for any tool, and readable a line
at a time on restore. The manifest names every file with its SHA-256, every table with its row
count and columns, and the shop schema's migration state.
"""

import base64
import csv
import datetime as dt
import hashlib
import json
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.migrations.recorder import MigrationRecorder
from django.utils.translation import gettext as _

from ..services.errors import ServiceError

FORMAT = "warung-shop-export"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHUNK_ROWS = 2000

# Tables of a shop's schema left out of the archive, each with why. Any other shop model is exported:
# tests/tenants/test_portability.py fails when a shop model is in neither place.
EXCLUDED_SHOP_MODELS = {
    "contenttypes.ContentType": "Django's registry of models, rebuilt by migrations in every schema; "
    "no shop table refers to it.",
}

# Public tables that hold rows of a shop, and what the archive does with them. The test above fails
# when a public model with a foreign key to the shop is in neither place.
PUBLIC_SHOP_ROWS = {
    "tenants.Shop": "shop.json: name, subdomain, zone, language, currency, status, plan",
    "tenants.Domain": "shop.json: the host names (a restored shop gets its own)",
    "tenants.Membership": "public/memberships.json: each person's email and role",
    "whatsapp_channel.WhatsAppAccount": "public/whatsapp_accounts.json: number and status, no credentials",
    "billing.BillingAccount": "public/billing_account.json: balance, cap and subscription state",
    "billing.BalanceEntry": "billing/balance_entries.csv: top-ups and usage charged to the balance",
    "billing.LedgerEntry": "billing/ledger.csv",
    "billing.UsageRollup": "billing/usage_rollups.csv",
}
EXCLUDED_PUBLIC_ROWS = {
    "tenants.Invitation": "pending invitations carry secret tokens and expire within days",
    "tenants.ApiToken": "token hashes are credentials; a restored shop makes new tokens",
    "tenants.LoginHandoff": "one-time login tickets that live two minutes",
    "billing.MeterReport": "Stripe's outbox, the platform's record of what it invoiced",
    "whatsapp_channel.WebhookIntake": "raw webhook bodies, already processed into the shop's messages",
    "whatsapp_channel.DeliveryFailure": "the operator's copy of failures the shop's messages already record",
    "portability.ShopExport": "the export jobs themselves",
    "console.OperatorAction": "the operator's own log",
    "tenants.AuditEvent": "the record of who did what stays with the shop it happened in; a restore must not forge it",
}


class ArchiveInvalid(ServiceError):
    """The file is not an archive this version can restore; nothing has been written."""

    def __init__(self, message: str):
        super().__init__(message, code="archive_invalid")


def shop_models() -> list[type[models.Model]]:
    """Every model whose table lives in a shop's schema (many-to-many tables included), in a stable order."""
    found = []
    for config in apps.get_app_configs():
        if config.name in settings.TENANT_APPS:
            found.extend(config.get_models(include_auto_created=True))
    return sorted(found, key=lambda model: model._meta.label)


def exported_models() -> list[type[models.Model]]:
    return [model for model in shop_models() if model._meta.label not in EXCLUDED_SHOP_MODELS]


def table_file(model: type[models.Model]) -> str:
    return f"tables/{model._meta.label}.json"


def columns(model: type[models.Model]) -> list[models.Field]:
    return list(model._meta.concrete_fields)


def key_order(model: type[models.Model]) -> list[str]:
    """The primary key's columns: the natural, stable order of a table's rows."""
    pk = model._meta.pk
    return [field.attname for field in getattr(pk, "fields", None) or [pk]]


def migration_state(connection, app_labels: Iterable[str]) -> dict[str, list[str]]:
    """The migrations applied in the connection's current schema, for these apps."""
    wanted = set(app_labels)
    state: dict[str, list[str]] = {label: [] for label in sorted(wanted)}
    for app, name in MigrationRecorder(connection).applied_migrations():
        if app in wanted:
            state[app].append(name)
    return {label: sorted(names) for label, names in state.items()}


def _encode(value):
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"cannot archive a {type(value).__name__}")


def encode_row(names: list[str], values: tuple) -> str:
    return json.dumps(dict(zip(names, values, strict=True)), default=_encode, ensure_ascii=False)


def copy_values(model: type[models.Model]) -> list[Callable]:
    """Per column, how an archived value is handed to PostgreSQL's COPY, which parses the text forms
    written above (ISO times, decimal strings) exactly; JSON goes back to its text, bytes are decoded."""

    def preparer(field: models.Field) -> Callable:
        if isinstance(field, models.JSONField):
            return lambda value: json.dumps(value, ensure_ascii=False) if value is not None or not field.null else None
        if isinstance(field, models.BinaryField):
            return lambda value: None if value is None else base64.b64decode(value)
        return lambda value: value

    return [preparer(field) for field in columns(model)]


class ArchiveWriter:
    """Adds files to the zip while hashing them; `manifest()` then describes exactly what was written."""

    def __init__(self, target):
        self.zip = zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
        self.files: dict[str, dict] = {}

    def write_lines(self, name: str, lines: Iterable[str]) -> int:
        """Writes the lines (each without its newline); returns how many there were."""
        digest, size, count = hashlib.sha256(), 0, 0
        with self.zip.open(name, "w", force_zip64=True) as out:
            for line in lines:
                data = (line + "\n").encode("utf-8")
                digest.update(data)
                out.write(data)
                size += len(data)
                count += 1
        self.files[name] = {"sha256": digest.hexdigest(), "bytes": size}
        return count

    def write_json_rows(self, name: str, rows: Iterable[str]) -> int:
        """A JSON array, one encoded row per line; returns the number of rows."""
        counted = {"rows": 0}

        def lines() -> Iterator[str]:
            previous = None
            yield "["
            for row in rows:
                if previous is not None:
                    yield previous + ","
                previous = row
                counted["rows"] += 1
            if previous is not None:
                yield previous
            yield "]"

        self.write_lines(name, lines())
        return counted["rows"]

    def write_json(self, name: str, value) -> None:
        self.write_lines(name, [json.dumps(value, default=_encode, ensure_ascii=False, indent=1)])

    def write_csv(self, name: str, rows: Iterable[list]) -> None:
        """UTF-8 with BOM, so spreadsheet apps show accents right."""
        writer = csv.writer(_Echo(), lineterminator="")
        lines = (writer.writerow(row) for row in rows)
        first = True

        def with_bom() -> Iterator[str]:
            nonlocal first
            for line in lines:
                yield ("\ufeff" + line) if first else line
                first = False

        self.write_lines(name, with_bom())

    def close(self, manifest: dict) -> None:
        self.zip.writestr(MANIFEST, json.dumps({**manifest, "files": self.files}, ensure_ascii=False, indent=1))
        self.zip.close()


class _Echo:
    def write(self, value: str) -> str:
        return value


class ArchiveReader:
    """Opens an archive and checks it whole (format, version, every checksum) before anything is read."""

    def __init__(self, source):
        try:
            self.zip = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ArchiveInvalid(_("This file is not a shop export (it is not a zip file).")) from exc
        try:
            self.manifest = json.loads(self.zip.read(MANIFEST))
        except (KeyError, ValueError, zipfile.BadZipFile) as exc:
            raise ArchiveInvalid(_("This file is not a shop export (it has no readable manifest.json).")) from exc
        if not isinstance(self.manifest, dict) or self.manifest.get("format") != FORMAT:
            raise ArchiveInvalid(_("This file is not a shop export."))
        if self.manifest.get("format_version") != FORMAT_VERSION:
            raise ArchiveInvalid(
                _("This export has format version %(found)s; this version of Warung restores only version %(ours)s.")
                % {"found": self.manifest.get("format_version"), "ours": FORMAT_VERSION}
            )
        self._verify()

    def _verify(self) -> None:
        listed = self.manifest.get("files") or {}
        present = set(self.zip.namelist()) - {MANIFEST}
        if present != set(listed):
            raise ArchiveInvalid(_("This export has been changed: its files do not match its manifest."))
        for name, expected in listed.items():
            digest = hashlib.sha256()
            try:
                with self.zip.open(name) as stream:
                    while block := stream.read(1 << 20):
                        digest.update(block)
            except (zipfile.BadZipFile, OSError) as exc:
                raise ArchiveInvalid(_("This export is damaged: %(file)s cannot be read.") % {"file": name}) from exc
            if digest.hexdigest() != expected.get("sha256"):
                raise ArchiveInvalid(
                    _("This export has been changed or damaged: the checksum of %(file)s does not match.")
                    % {"file": name}
                )

    def read_json(self, name: str):
        return json.loads(self.zip.read(name))

    def rows(self, name: str) -> Iterator[dict]:
        """The rows of a table file, one line at a time."""
        with self.zip.open(name) as stream:
            for raw in stream:
                line = raw.decode("utf-8").strip()
                if line in ("[", "]", ""):
                    continue
                yield json.loads(line.removesuffix(","))

    def close(self) -> None:
        self.zip.close()
