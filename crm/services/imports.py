"""Contact import from CSV/XLSX files and CSV export.

An import is two steps: the upload reads the header and a preview and suggests a mapping; the
background job (crm.tasks) then streams the rows in chunks. Each chunk is validated in
Python and written with a handful of set-based statements (one lookup, one bulk insert, one bulk
update, bulk label links and timeline events) in its own transaction, together with the job's
counters. So a 100,000-row file takes seconds, the progress bar moves per chunk, and a job re-run
after a lost worker resumes after the last committed chunk.

Duplicates: a phone number that appears again later in the same file is reported on the later
line ("same phone number as line N") and that line is skipped: the first row wins, nothing is
merged silently. A phone number already in the shop updates that contact when `update_existing`
is on (blank cells keep the stored value, labels are added, attributes merged), otherwise the line
is reported as already existing.

The plan's contact limit: new contacts import in file order while the plan has room; each line past it is
reported with the limit and the plan that lifts it (updates of existing contacts still apply).
"""

import csv
import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field

import filetype
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.plans import LimitReached, check_limit_here, plan_of
from crm.models import AttributeDefinition, Contact, ContactImport, Label, TimelineEvent
from crm.services import rollups
from crm.services.contacts import _coerce, national_digits, normalise_phone
from tenants.models import Shop
from tenants.services.errors import ServiceError

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
PREVIEW_ROWS = 10
CHUNK_ROWS = 2000
MAX_STORED_ERRORS = 1000
ATTRIBUTE_PREFIX = "attribute:"

# --- reading files


@dataclass
class Table:
    """A file's header and a way to stream its data rows as (line number as the user sees it, cells)."""

    kind: str
    columns: list[str]
    rows: Callable[[], Iterator[tuple[int, list[str]]]]
    estimated_rows: int | None = None


def read_table(content: bytes) -> Table:
    """CSV or XLSX, told apart by content (not by the file's name); anything else is refused."""
    if not content.strip():
        raise ServiceError(_("The file is empty."), field="file")
    if content.startswith(b"PK\x03\x04"):
        return _read_xlsx(content)
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise ServiceError(
            _("Old Excel files (.xls) cannot be read. Save the sheet as .xlsx or CSV and upload it again."),
            field="file",
        )
    if (found := filetype.guess(content)) is not None:
        raise ServiceError(
            _("This is a %(kind)s file, not a spreadsheet. Upload a CSV file or an Excel workbook (.xlsx).")
            % {"kind": found.extension.upper()},
            field="file",
        )
    return _read_csv(_decode(content))


def _decode(content: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 from Excel's "Unicode text", else Windows-1252 / Latin-1."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = content.decode("utf-16", errors="replace")
    else:
        for encoding in ("utf-8-sig", "cp1252", "latin-1"):
            try:
                text = content.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    sample = text[:4096]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    if "\x00" in sample or controls > len(sample) // 100 or sample.startswith("%PDF"):
        raise ServiceError(_("Upload a CSV file or an Excel workbook (.xlsx)."), field="file")
    return text


def _delimiter(text: str) -> str:
    """The separator the header line uses most: Indonesian Excel saves CSV with semicolons."""
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    counts = {delimiter: header.count(delimiter) for delimiter in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _read_csv(text: str) -> Table:
    delimiter = _delimiter(text)

    def records() -> Iterator[list[str]]:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    return _table("csv", records)


def _read_xlsx(content: bytes) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    def open_sheet():
        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
            raise ServiceError(_("This file could not be read as an Excel workbook (.xlsx)."), field="file") from exc
        return workbook, workbook.active or workbook.worksheets[0]

    def records() -> Iterator[list[str]]:
        workbook, sheet = open_sheet()
        try:
            for values in sheet.iter_rows(values_only=True):
                yield [_cell_text(value) for value in values]
        finally:
            workbook.close()

    workbook, sheet = open_sheet()
    estimate = sheet.max_row - 1 if sheet.max_row else None
    workbook.close()
    return _table("xlsx", records, estimate)


def _cell_text(value) -> str:
    """Spreadsheet cells as the text a person reads: 6281234567890 not 6.28e12, dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _table(kind: str, records, estimate: int | None = None) -> Table:
    with closing(records()) as header:
        first = next(header, None)
    if not first or not any(cell.strip() for cell in first):
        raise ServiceError(_("The first line must name the columns (for example: name, phone, email)."), field="file")
    columns: list[str] = []
    for number, cell in enumerate(first, start=1):
        name = cell.strip().lstrip("\ufeff").strip() or _("Column %(number)s") % {"number": number}
        candidate, copy = name, 2
        while candidate in columns:
            candidate, copy = f"{name} ({copy})", copy + 1
        columns.append(candidate)
    width = len(columns)

    def rows() -> Iterator[tuple[int, list[str]]]:
        """Data rows with their spreadsheet row number (header = line 1); blank rows are left out."""
        with closing(records()) as iterator:
            next(iterator, None)
            for line, cells in enumerate(iterator, start=2):
                cells = [cell.strip() for cell in cells[:width]]
                if any(cells):
                    yield line, cells + [""] * (width - len(cells))

    return Table(kind=kind, columns=columns, rows=rows, estimated_rows=estimate)


# --- mapping columns to fields

STANDARD_FIELDS = ["name", "phone", "email", "city", "address", "birthday", "gender", "notes", "labels",
                   "marketing_opt_out"]  # fmt: skip

# Header names as Indonesian and English spreadsheets write them, compared without case and punctuation.
HEADER_NAMES = {
    "name": ["nama", "name", "nama lengkap", "full name", "nama pelanggan", "customer name", "nama customer",
             "nama kontak", "contact name", "pelanggan", "customer", "nama pembeli"],
    "phone": ["no hp", "nomor hp", "nohp", "hp", "handphone", "no handphone", "telepon", "telp", "no telp",
              "nomor telepon", "no telepon", "phone", "phone number", "mobile", "mobile phone", "whatsapp",
              "no whatsapp", "nomor whatsapp", "wa", "no wa", "nomor wa", "nomor", "telephone", "tel"],
    "email": ["email", "e mail", "alamat email", "surel", "email address"],
    "city": ["kota", "city", "kabupaten", "kota kabupaten", "kab kota", "town"],
    "address": ["alamat", "address", "alamat lengkap", "alamat pengiriman", "shipping address", "street"],
    "birthday": ["tanggal lahir", "tgl lahir", "birthday", "birth date", "birthdate", "date of birth", "dob",
                 "ulang tahun", "tanggal ulang tahun"],
    "gender": ["jenis kelamin", "gender", "sex", "kelamin", "jk"],
    "notes": ["catatan", "notes", "note", "keterangan", "komentar", "comments"],
    "labels": ["label", "labels", "tag", "tags"],
    "marketing_opt_out": ["opt out", "marketing opt out", "unsubscribed", "unsubscribe", "berhenti langganan",
                          "tolak promo", "tidak mau promo"],
}  # fmt: skip


def _header_key(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def field_choices(definitions: list[AttributeDefinition]) -> list[dict]:
    labels = {
        "name": _("Name"),
        "phone": _("Phone"),
        "email": _("Email"),
        "city": _("City"),
        "address": _("Address"),
        "birthday": _("Birthday"),
        "gender": _("Gender"),
        "notes": _("Notes"),
        "labels": _("Labels (comma-separated)"),
        "marketing_opt_out": _("Opted out of marketing (yes/no)"),
    }
    return [{"key": key, "label": labels[key]} for key in STANDARD_FIELDS] + [
        {"key": f"{ATTRIBUTE_PREFIX}{d.key}", "label": d.label} for d in definitions
    ]


def suggest_mapping(columns: list[str], definitions: list[AttributeDefinition]) -> dict[str, str | None]:
    """Each field at most once, to the first column whose header names it."""
    known = {_header_key(name): key for key, names in HEADER_NAMES.items() for name in names}
    for definition in definitions:
        for name in (definition.key, definition.label):
            known.setdefault(_header_key(name), f"{ATTRIBUTE_PREFIX}{definition.key}")
    suggested: dict[str, str | None] = {}
    taken: set[str] = set()
    for column in columns:
        key = known.get(_header_key(column))
        suggested[column] = key if key and key not in taken else None
        taken.add(key)
    return suggested


def clean_mapping(mapping, columns: list[str]) -> dict[str, int]:
    """{field: column index} from the user's {column: field or null}."""
    if not isinstance(mapping, dict):
        raise ServiceError(_("Choose a field for each column you want to import."), field="mapping")
    fields = {f["key"] for f in field_choices(list(AttributeDefinition.objects.all()))}
    chosen: dict[str, int] = {}
    for column, key in mapping.items():
        if not key:
            continue
        if column not in columns:
            raise ServiceError(_("The file has no column “%(column)s”.") % {"column": column}, field="mapping")
        if key not in fields:
            raise ServiceError(_("Unknown field “%(key)s”.") % {"key": key}, field="mapping")
        if key in chosen:
            raise ServiceError(_("Two columns are mapped to the same field “%(key)s”.") % {"key": key}, field="mapping")
        chosen[key] = columns.index(column)
    if not chosen.keys() & {"phone", "name", "email"}:
        raise ServiceError(_("Map at least the phone, name or email column."), field="mapping")
    return chosen


# --- upload and start


def create_import(*, filename: str, content: bytes, actor_id: int | None) -> tuple[ContactImport, list[list[str]]]:
    """Stores the upload and returns it with the first rows, for the mapping screen."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise ServiceError(_("The file is larger than 20 MB. Split it into smaller files."), field="file")
    table = read_table(content)
    preview = []
    for _line, cells in table.rows():
        preview.append(cells)
        if len(preview) == PREVIEW_ROWS:
            break
    if not preview:
        raise ServiceError(_("The file has no rows under the header."), field="file")
    job = ContactImport.objects.create(
        filename=filename[:200], content=content, columns=table.columns, created_by_id=actor_id
    )
    return job, preview


def start_import(job: ContactImport, *, mapping, update_existing: bool, label_all: str = "") -> ContactImport:
    """Saves the mapping and marks the job running; the caller queues crm.tasks.run_contact_import.

    `label_all` labels every imported row: how an uploaded list becomes a broadcast's audience."""
    if job.status != ContactImport.Status.UPLOADED:
        raise ServiceError(_("This import has already been started."), code="already_started")
    clean_mapping(mapping, job.columns)
    job.mapping = {column: key for column, key in mapping.items() if key}
    job.update_existing = update_existing
    job.label_all = label_all.strip()[:40]
    job.status = ContactImport.Status.RUNNING
    job.save(update_fields=["mapping", "update_existing", "label_all", "status"])
    return job


# --- processing


class RowError(Exception):
    """Why one line was not imported."""


@dataclass
class ParsedRow:
    phone: str | None
    values: dict = field(default_factory=dict)
    attributes: dict = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    opted_out: bool | None = None


YES = {"yes", "y", "ya", "true", "1", "iya", "benar"}
NO = {"no", "n", "tidak", "false", "0", "bukan", "tdk"}
GENDERS = {
    "f": "f", "female": "f", "woman": "f", "p": "f", "perempuan": "f", "wanita": "f", "pr": "f",
    "m": "m", "male": "m", "man": "m", "l": "m", "laki laki": "m", "laki": "m", "pria": "m", "lk": "m",
    "o": "o", "other": "o", "lainnya": "o", "lain lain": "o",
}  # fmt: skip
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%d/%m/%y", "%d-%m-%y")
MAX_LENGTHS = {"name": 200, "city": 80, "email": 254}


def parse_date(text: str) -> dt.date | None:
    """ISO or day-first (17/08/1990, as Indonesians write dates); None if neither."""
    text = text.strip().split(" ")[0]
    for pattern in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


ARRAY_TYPES = {"id": "bigint", "contact_id": "bigint", "label_id": "bigint", "marketing_opt_out": "boolean",
               "opted_out": "boolean", "consent_changed": "boolean"}  # fmt: skip


def _unnest(columns: dict[str, list]) -> str:
    """`unnest(%(a)s::text[], …) AS u(a, …)`: one row per position of the parallel lists."""
    arrays = ", ".join(f"%({name})s::{ARRAY_TYPES.get(name, 'text')}[]" for name in columns)
    return f"unnest({arrays}) AS u({', '.join(columns)})"


def _national(e164: str | None) -> str:
    """national_digits() without parsing again for the common case of an Indonesian number."""
    return e164[3:] if e164 and e164.startswith("+62") else national_digits(e164)


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


class _Importer:
    """One run of an import job; state that spans chunks (seen phones, labels, counters) lives here."""

    def __init__(self, job: ContactImport):
        self.job = job
        self.columns = clean_mapping(job.mapping, job.columns)
        self.definitions = {d.key: d for d in AttributeDefinition.objects.all()}
        self.label_ids = {name.lower(): pk for pk, name in Label.objects.values_list("pk", "name")}
        self.seen_phones: dict[str, int] = {}
        self.errors: list[dict] = list(job.errors)
        self.now = timezone.now()
        self.reason = _("Imported from %(file)s") % {"file": job.filename}
        self.labels = {choice["key"]: choice["label"] for choice in field_choices([])}

    # row by row, pure Python

    def parse(self, line: int, cells: list[str]) -> ParsedRow:
        def cell(key: str) -> str:
            index = self.columns.get(key)
            return cells[index] if index is not None else ""

        def invalid(label: str, value: str, problem: str) -> RowError:
            return RowError(_("%(field)s “%(value)s”: %(problem)s") % {"field": label, "value": value,
                                                                      "problem": problem})  # fmt: skip

        row = ParsedRow(phone=None)
        if raw_phone := cell("phone"):
            try:
                row.phone = normalise_phone(raw_phone)
            except ServiceError as exc:
                raise invalid(_("Phone"), raw_phone, exc.message)
            if (first := self.seen_phones.get(row.phone)) is not None:
                raise RowError(_("Same phone number as line %(line)s; this line was skipped.") % {"line": first})
        for key in ("name", "email", "city", "address", "notes"):
            if value := cell(key):
                if key in MAX_LENGTHS and len(value) > MAX_LENGTHS[key]:
                    limit = _("Use at most %(max)s characters.") % {"max": MAX_LENGTHS[key]}
                    raise invalid(self.labels[key], value[:40] + "…", limit)
                row.values[key] = value
        if email := row.values.get("email"):
            try:
                validate_email(email)
            except ValidationError:
                raise invalid(_("Email"), email, _("This is not an email address."))
        if not (row.phone or row.values.get("name") or row.values.get("email")):
            raise RowError(_("The row needs a phone number, a name or an email."))
        if text := cell("birthday"):
            birthday = parse_date(text)
            if birthday is None or not dt.date(1900, 1, 1) <= birthday <= self.now.date():
                raise invalid(_("Birthday"), text, _("Write a date like 1990-08-17 or 17/08/1990."))
            row.values["birthday"] = birthday
        if text := cell("gender"):
            gender = GENDERS.get(_header_key(text))
            if gender is None:
                raise invalid(_("Gender"), text, _("Write female or male (perempuan or laki-laki)."))
            row.values["gender"] = gender
        if text := cell("marketing_opt_out"):
            answer = text.lower()
            if answer not in YES | NO:
                raise invalid(_("Opted out of marketing"), text, _("Write yes or no."))
            row.opted_out = answer in YES
        if text := cell("labels"):
            row.labels = list(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
            if too_long := next((name for name in row.labels if len(name) > 40), None):
                raise invalid(_("Labels"), too_long, _("A label name has at most 40 characters."))
        if self.job.label_all and self.job.label_all not in row.labels:
            row.labels.append(self.job.label_all)
        for key, index in self.columns.items():
            if not key.startswith(ATTRIBUTE_PREFIX) or not cells[index]:
                continue
            definition = self.definitions[key.removeprefix(ATTRIBUTE_PREFIX)]
            value = cells[index]
            if definition.type == AttributeDefinition.Type.DATE and (as_date := parse_date(value)):
                value = as_date.isoformat()
            try:
                row.attributes[definition.key] = _coerce(definition, value)
            except ServiceError as exc:
                raise invalid(definition.label, cells[index], exc.message)
        if row.phone:
            self.seen_phones[row.phone] = line
        return row

    # a chunk at a time, set-based

    def write(self, rows: list[tuple[int, ParsedRow]]) -> tuple[int, int, list[dict]]:
        """Creates and updates one chunk's contacts with a few statements; returns (created, updated, errors)."""
        existing = self._existing([row.phone for _line, row in rows if row.phone])
        errors: list[dict] = []
        new: list[tuple[int, ParsedRow]] = []
        changed: dict[int, tuple[int, ParsedRow, bool]] = {}  # contact id: (line, row, consent changed)
        for line, row in rows:
            found = existing.get(row.phone) if row.phone else None
            if found is None:
                new.append((line, row))
            elif not self.job.update_existing:
                who = f"{found[1] or found[2]} (#{found[0]})"
                errors.append({"line": line, "reason": _("A contact with this phone number already exists: %(who)s.")
                               % {"who": who}})  # fmt: skip
            elif found[0] in changed:  # two numbers of one contact (phone and WhatsApp id) in one chunk
                first = changed[found[0]][0]
                errors.append({"line": line, "reason": _("Same contact as line %(line)s; this line was skipped.")
                               % {"line": first}})  # fmt: skip
            else:
                consent_changed = row.opted_out is not None and row.opted_out != found[3]
                changed[found[0]] = (line, row, consent_changed)
        creating, past_limit = self._within_contact_limit(new)
        errors += past_limit
        new_ids = self._insert(creating)
        self._update(changed)
        pairs = list(zip(new_ids, creating, strict=True)) + [(pk, row) for pk, (_line, row, _c) in changed.items()]
        self._link_labels(pairs)
        updated_summary = _("Updated from import %(file)s") % {"file": self.job.filename}
        events = [(pk, "created", self.reason, None) for pk in new_ids]
        events += [(pk, "updated", updated_summary, None) for pk in changed]
        events += [(pk, "consent", self._consent_summary(True), True) for pk, row in zip(new_ids, creating, strict=True)
                   if row.opted_out]  # fmt: skip
        events += [(pk, "consent", self._consent_summary(row.opted_out), row.opted_out)
                   for pk, (_line, row, consent) in changed.items() if consent]  # fmt: skip
        self._record(events)
        return len(creating), len(changed), errors

    def _within_contact_limit(self, new: list[tuple[int, ParsedRow]]) -> tuple[list[ParsedRow], list[dict]]:
        """The new contacts the plan has room for, in file order, and a refusal for each line past its limit.

        The refusal names the limit and the plan that lifts it, so the shop knows why and what to do.
        """
        if not new:
            return [], []
        try:
            check_limit_here("contact_limit", in_use=Contact.objects.count, adding=len(new))
        except LimitReached as refusal:
            shop = connection.tenant
            if not isinstance(shop, Shop):
                shop = Shop.objects.get(schema_name=connection.schema_name)
            room = max(plan_of(shop).contact_limit - Contact.objects.count(), 0)
            fits, past = new[:room], new[room:]
            return [row for _line, row in fits], [{"line": line, "reason": refusal.message} for line, _row in past]
        return [row for _line, row in new], []

    def _existing(self, phones: list[str]) -> dict[str, tuple]:
        """(id, name, phone, marketing_opt_out) by E.164, found by phone or by WhatsApp id."""
        if not phones:
            return {}
        wa_ids = [phone.lstrip("+") for phone in phones]
        found: dict[str, tuple] = {}
        for contact in Contact.objects.filter(Q(phone__in=phones) | Q(wa_id__in=wa_ids)).values_list(
            "pk", "name", "phone", "marketing_opt_out", "wa_id"
        ):
            if contact[2]:
                found[contact[2]] = contact[:4]
            if contact[4]:
                found.setdefault(f"+{contact[4]}", contact[:4])
        return found

    def _insert(self, rows: list[ParsedRow]) -> list[int]:
        """New contacts with ids reserved up front, so rows and ids pair up without relying on RETURNING order."""
        if not rows:
            return []
        table = Contact._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)", [len(rows)]
            )
            ids = [pk for (pk,) in cursor.fetchall()]
            columns = {
                "id": ids,
                "name": [row.values.get("name", "") for row in rows],
                "phone": [row.phone for row in rows],
                "phone_digits": [_national(row.phone) for row in rows],
                "wa_id": [row.phone.lstrip("+") if row.phone else None for row in rows],
                "email": [row.values.get("email", "") for row in rows],
                "city": [row.values.get("city", "") for row in rows],
                "address": [row.values.get("address", "") for row in rows],
                "birthday": [_iso(row.values.get("birthday")) for row in rows],
                "gender": [row.values.get("gender", "") for row in rows],
                "notes": [row.values.get("notes", "") for row in rows],
                "attributes": [json.dumps(row.attributes) for row in rows],
                "marketing_opt_out": [bool(row.opted_out) for row in rows],
            }
            cursor.execute(
                f"""
                INSERT INTO {table} (id, name, phone, phone_digits, wa_id, email, city, address, birthday, gender,
                    notes, attributes, marketing_opt_out, marketing_opt_out_at, marketing_opt_out_reason, source,
                    undeliverable, order_count, total_spent, created_at, updated_at)
                SELECT u.id, u.name, u.phone, u.phone_digits, u.wa_id, u.email, u.city, u.address, u.birthday::date,
                       u.gender, u.notes, u.attributes::jsonb, u.marketing_opt_out,
                       CASE WHEN u.marketing_opt_out THEN %(now)s END,
                       CASE WHEN u.marketing_opt_out THEN %(reason)s ELSE '' END,
                       %(source)s, false, 0, 0, %(now)s, %(now)s
                FROM {_unnest(columns)}
                """,
                {**columns, "now": self.now, "reason": self.reason[:120], "source": Contact.Source.IMPORT},
            )
        rollups.contacts_created([self.now] * len(ids))
        return ids

    def _update(self, changed: dict[int, tuple[int, ParsedRow, bool]]) -> None:
        """Blank cells (NULL here) keep the stored value; attributes are merged key by key."""
        if not changed:
            return
        rows = [row for _line, row, _consent in changed.values()]
        columns = {
            "id": list(changed),
            **{key: [row.values.get(key) or None for row in rows] for key in ("name", "email", "city", "address",
                                                                               "gender", "notes")},
            "birthday": [_iso(row.values.get("birthday")) for row in rows],
            "attributes": [json.dumps(row.attributes) for row in rows],
            "opted_out": [row.opted_out for row in rows],
            "consent_changed": [consent for _line, _row, consent in changed.values()],
        }  # fmt: skip
        table = Contact._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {table} AS c SET
                    name = COALESCE(u.name, c.name), email = COALESCE(u.email, c.email),
                    city = COALESCE(u.city, c.city), address = COALESCE(u.address, c.address),
                    gender = COALESCE(u.gender, c.gender), notes = COALESCE(u.notes, c.notes),
                    birthday = COALESCE(u.birthday::date, c.birthday), attributes = c.attributes || u.attributes::jsonb,
                    marketing_opt_out = COALESCE(u.opted_out, c.marketing_opt_out),
                    marketing_opt_out_at = CASE WHEN u.consent_changed THEN %(now)s ELSE c.marketing_opt_out_at END,
                    marketing_opt_out_reason = CASE WHEN u.consent_changed THEN %(reason)s
                                                    ELSE c.marketing_opt_out_reason END,
                    updated_at = %(now)s
                FROM {_unnest(columns)}
                WHERE c.id = u.id
                """,
                {**columns, "now": self.now, "reason": self.reason[:120]},
            )

    def _link_labels(self, pairs: list[tuple[int, ParsedRow]]) -> None:
        """Creates missing labels (matched without case), then adds every link in one statement."""
        wanted = {name for _pk, row in pairs for name in row.labels}
        missing: dict[str, str] = {}
        for name in sorted(wanted):
            if name.lower() not in self.label_ids:
                missing.setdefault(name.lower(), name)
        if missing:
            Label.objects.bulk_create([Label(name=name) for name in missing.values()], ignore_conflicts=True)
            for pk, name in Label.objects.filter(name__in=list(missing.values())).values_list("pk", "name"):
                self.label_ids[name.lower()] = pk
        links = [(pk, self.label_ids[name.lower()]) for pk, row in pairs for name in row.labels
                 if name.lower() in self.label_ids]  # fmt: skip
        if not links:
            return
        columns = {"contact_id": [pk for pk, _label in links], "label_id": [label for _pk, label in links]}
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Contact.labels.through._meta.db_table} (contact_id, label_id) "
                f"SELECT u.contact_id, u.label_id FROM {_unnest(columns)} ON CONFLICT DO NOTHING",
                columns,
            )

    def _consent_summary(self, opted_out: bool) -> str:
        summary = _("Opted out of marketing: %(why)s") if opted_out else _("Agreed to marketing: %(why)s")
        return summary % {"why": self.reason}

    def _record(self, events: list[tuple[int, str, str, bool | None]]) -> None:
        """Timeline events in one statement: (contact id, kind, summary, opted_out for consent events)."""
        if not events:
            return
        data = json.dumps({"import_id": self.job.pk})
        columns = {
            "contact_id": [pk for pk, _kind, _summary, _opted in events],
            "kind": [kind for _pk, kind, _summary, _opted in events],
            "summary": [summary[:300] for _pk, _kind, summary, _opted in events],
            "data": [data if opted is None else json.dumps({"import_id": self.job.pk, "opted_out": opted})
                     for _pk, _kind, _summary, opted in events],
        }  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {TimelineEvent._meta.db_table} (contact_id, kind, summary, data, actor_id, created_at)
                SELECT u.contact_id, u.kind, u.summary, u.data::jsonb, %(actor)s, %(now)s FROM {_unnest(columns)}
                """,
                {**columns, "actor": self.job.created_by_id, "now": self.now},
            )

    # the whole file

    def run(self) -> None:
        job = self.job
        table = read_table(bytes(job.content))
        if job.processed_rows == 0 and table.estimated_rows is not None:
            job.total_rows = table.estimated_rows
        elif job.processed_rows == 0:
            job.total_rows = sum(1 for _row in table.rows())
        ContactImport.objects.filter(pk=job.pk).update(total_rows=job.total_rows)
        already_done = job.processed_rows  # a re-run (lost worker) resumes after the last committed chunk
        counted = 0
        chunk: list[tuple[int, ParsedRow | str]] = []
        for line, cells in table.rows():
            try:
                chunk.append((line, self.parse(line, cells)))
            except RowError as problem:
                chunk.append((line, str(problem)))
            if len(chunk) == CHUNK_ROWS:
                counted += len(chunk)
                if counted > already_done:
                    self._commit(chunk)
                chunk = []
        if chunk and counted + len(chunk) > already_done:
            self._commit(chunk)
        ContactImport.objects.filter(pk=job.pk).update(
            status=ContactImport.Status.DONE, total_rows=job.processed_rows, finished_at=timezone.now()
        )

    def _commit(self, chunk: list[tuple[int, ParsedRow | str]]) -> None:
        good = [(line, row) for line, row in chunk if isinstance(row, ParsedRow)]
        problems = [{"line": line, "reason": row} for line, row in chunk if isinstance(row, str)]
        for attempt in range(3):
            try:
                with transaction.atomic():
                    created, updated, refused = self.write(good)
                    failed = problems + refused
                    errors = (self.errors + sorted(failed, key=lambda e: e["line"]))[:MAX_STORED_ERRORS]
                    counters = {
                        "processed_rows": self.job.processed_rows + len(chunk),
                        "created_count": self.job.created_count + created,
                        "updated_count": self.job.updated_count + updated,
                        "failed_count": self.job.failed_count + len(failed),
                    }
                    ContactImport.objects.filter(pk=self.job.pk).update(errors=errors, **counters)
                break
            except IntegrityError:
                # A contact with one of these phones arrived on WhatsApp meanwhile: look them up again.
                if attempt == 2:
                    raise
        self.errors = errors
        for key, value in counters.items():
            setattr(self.job, key, value)


def run_import(import_id: int) -> ContactImport | None:
    """Runs a started job to the end (or resumes it); a job that is not running is left alone."""
    job = ContactImport.objects.filter(pk=import_id, status=ContactImport.Status.RUNNING).first()
    if job is None:
        return None
    try:
        _Importer(job).run()
    except Exception as exc:
        reason = exc.message if isinstance(exc, ServiceError) else _("The import stopped because of an error.")
        current = ContactImport.objects.get(pk=job.pk)
        ContactImport.objects.filter(pk=job.pk).update(
            status=ContactImport.Status.FAILED,
            finished_at=timezone.now(),
            errors=[*current.errors[: MAX_STORED_ERRORS - 1], {"line": None, "reason": reason}],
        )
        if not isinstance(exc, ServiceError):
            raise
    return ContactImport.objects.get(pk=job.pk)


def error_note(job: ContactImport) -> str | None:
    """Says how many failed lines are not listed, when the stored list is capped."""
    unlisted = job.failed_count - len([e for e in job.errors if e.get("line") is not None])
    if unlisted <= 0:
        return None
    return _("%(count)s more lines failed; only the first %(shown)s are listed.") % {
        "count": unlisted,
        "shown": MAX_STORED_ERRORS,
    }


# --- export

EXPORT_COLUMNS = ["name", "phone", "email", "city", "labels", "total_spent", "order_count", "last_order_at",
                  "marketing_opt_out", "created_at"]  # fmt: skip
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe(text: str) -> str:
    """Spreadsheet apps run cells starting with = + - @ as formulas; customers choose their own names."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def export_rows(queryset: QuerySet[Contact], zone: dt.tzinfo) -> Iterator[list]:
    """The header, then one row per contact: one streamed query, labels aggregated inside it."""
    from django.contrib.postgres.aggregates import StringAgg
    from django.db.models import OuterRef, Subquery

    label_names = (
        Label.objects.filter(contacts=OuterRef("pk"))
        .order_by()
        .values("contacts")
        .annotate(names=StringAgg("name", ", ", order_by="name"))
        .values("names")
    )
    rows = (
        queryset.order_by("pk")
        .annotate(label_names=Subquery(label_names))
        .values_list(
            "name",
            "phone",
            "email",
            "city",
            "label_names",
            "total_spent",
            "order_count",
            "last_order_at",
            "marketing_opt_out",
            "created_at",
        )
    )

    def moment(value) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""

    yield EXPORT_COLUMNS
    for name, phone, email, city, labels, spent, orders, last_order, opted_out, created in rows.iterator(
        chunk_size=2000
    ):
        yield [_safe(name), phone or "", _safe(email), _safe(city), _safe(labels or ""), spent, orders,
               moment(last_order), "yes" if opted_out else "no", moment(created)]  # fmt: skip
