"""Contact import from the files shops really have, and the contacts CSV export."""

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone
from openpyxl import Workbook

from billing.models import Plan
from crm.models import AttributeDefinition, Contact, ContactImport, Label, Order, TimelineEvent
from crm.services import imports
from crm.tasks import run_contact_import

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
JSON = {"content_type": "application/json", **EN}


@pytest.fixture
def owner(shop_a):
    return shop_a.client(shop_a.owner)


def csv_file(text: str, name: str = "pelanggan.csv", encoding: str = "utf-8") -> io.BytesIO:
    upload = io.BytesIO(text.encode(encoding))
    upload.name = name
    return upload


def upload(client, upload_file):
    return client.post("/api/crm/imports/", {"file": upload_file}, **EN)


def run(client, world, in_shop, upload_file, mapping=None, update_existing=True) -> dict:
    """Upload, start with the suggested (or given) mapping, run the job here, return the report."""
    uploaded = upload(client, upload_file)
    assert uploaded.status_code == 201, uploaded.content
    body = uploaded.json()
    started = client.post(
        f"/api/crm/imports/{body['id']}/start/",
        {"mapping": mapping or body["suggested_mapping"], "update_existing": update_existing},
        **JSON,
    )
    assert started.status_code == 202, started.content
    assert started.json()["status"] == "running"
    with in_shop(world.shop):
        assert run_contact_import(body["id"], "en") == "done"
    return client.get(f"/api/crm/imports/{body['id']}/", HTTP_ACCEPT_LANGUAGE="en").json()


def test_a_semicolon_csv_with_indonesian_headers_gets_a_preview_and_a_suggested_mapping(owner, shop_a, in_shop):
    with in_shop(shop_a.shop):
        AttributeDefinition.objects.create(key="ukuran", label="Ukuran", type="choice", choices=["S", "M", "L"])
    text = (
        "Nama;No. HP;Kota;Tanggal Lahir;Label;Ukuran;Catatan Lain\nBu Rina;0812-1000-0001;Bandung;17/08/1990;VIP;M;x\n"
    )
    response = upload(owner, csv_file(text))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["columns"] == ["Nama", "No. HP", "Kota", "Tanggal Lahir", "Label", "Ukuran", "Catatan Lain"]
    assert body["preview"] == [["Bu Rina", "0812-1000-0001", "Bandung", "17/08/1990", "VIP", "M", "x"]]
    assert body["suggested_mapping"] == {
        "Nama": "name",
        "No. HP": "phone",
        "Kota": "city",
        "Tanggal Lahir": "birthday",
        "Label": "labels",
        "Ukuran": "attribute:ukuran",
        "Catatan Lain": None,
    }
    assert {"key": "attribute:ukuran", "label": "Ukuran"} in body["fields"]
    assert {f["key"] for f in body["fields"]} >= {"name", "phone", "email", "labels", "marketing_opt_out"}


def test_good_rows_import_and_each_bad_line_is_reported_with_its_reason(owner, shop_a, in_shop):
    with in_shop(shop_a.shop):
        AttributeDefinition.objects.create(key="ukuran", label="Ukuran", type="choice", choices=["S", "M", "L"])
        Label.objects.create(name="VIP")
    text = (
        "name,phone,email,city,birthday,gender,labels,ukuran,opt out\n"
        'Bu Rina,0812-2000-0001,rina@example.test,Bandung,1990-08-17,perempuan,"vip, Reseller",M,no\n'  # 2
        "Pak Budi,12,,,,,,,\n"  # 3 bad phone
        "Siti,0812-2000-0003,siti@,,,,,,\n"  # 4 bad email
        ",,,,,,,,\n"  # 5 blank: skipped
        "Dewi,0812-2000-0005,,,31/02/1990,,,,\n"  # 6 bad date
        "Andi,0812-2000-0006,,,,robot,,,\n"  # 7 bad gender
        "Tono,0812-2000-0007,,,,,,XXL,\n"  # 8 bad attribute
        ",,,Surabaya,,,,,\n"  # 9 nothing to know them by
        "Wati,0812-2000-0009,,,,,,,maybe\n"  # 10 bad opt-out answer
        "Email Only,,only@example.test,,,,,,ya\n"  # 11 good without phone
        f"Panjang,0812-2000-0011,,{'K' * 81},,,,,\n"  # 12 city too long
    )
    report = run(owner, shop_a, in_shop, csv_file(text))
    assert (report["status"], report["total_rows"], report["processed_rows"]) == ("done", 10, 10)
    assert (report["created_count"], report["updated_count"], report["failed_count"]) == (2, 0, 8)
    assert report["errors"] == [
        {"line": 3, "reason": "Phone “12”: This phone number is not valid."},
        {"line": 4, "reason": "Email “siti@”: This is not an email address."},
        {"line": 6, "reason": "Birthday “31/02/1990”: Write a date like 1990-08-17 or 17/08/1990."},
        {"line": 7, "reason": "Gender “robot”: Write female or male (perempuan or laki-laki)."},
        {"line": 8, "reason": "Ukuran “XXL”: “Ukuran” needs one of: S, M, L."},
        {"line": 9, "reason": "The row needs a phone number, a name or an email."},
        {"line": 10, "reason": "Opted out of marketing “maybe”: Write yes or no."},
        {"line": 12, "reason": f"City “{'K' * 40}…”: Use at most 80 characters."},
    ]
    assert report["errors_note"] is None and report["finished_at"]
    with in_shop(shop_a.shop):
        rina = Contact.objects.get(phone="+6281220000001")
        assert (rina.name, rina.email, rina.city, rina.birthday, rina.gender) == (
            "Bu Rina", "rina@example.test", "Bandung", dt.date(1990, 8, 17), "f"
        )  # fmt: skip
        assert (rina.phone_digits, rina.wa_id, rina.source, rina.attributes) == (
            "81220000001", "6281220000001", "import", {"ukuran": "M"}
        )  # fmt: skip
        assert sorted(rina.labels.values_list("name", flat=True)) == ["Reseller", "VIP"]
        assert Label.objects.filter(name__iexact="vip").count() == 1
        assert list(TimelineEvent.objects.filter(contact=rina).values_list("kind", "summary")) == [
            ("created", "Imported from pelanggan.csv")
        ]
        email_only = Contact.objects.get(email="only@example.test")
        assert (email_only.phone, email_only.wa_id, email_only.marketing_opt_out) == (None, None, True)
        assert email_only.marketing_opt_out_at is not None
        assert set(TimelineEvent.objects.filter(contact=email_only).values_list("kind", flat=True)) == {
            "created",
            "consent",
        }
        assert not Contact.objects.filter(name__in=["Pak Budi", "Siti", "Dewi", "Andi", "Tono", "Wati"]).exists()


def test_every_phone_format_lands_on_one_contact_and_later_repeats_are_reported(owner, shop_a, in_shop):
    text = "nama,whatsapp\nRina,0812-3000-0001\nRina 2,+62 812 3000 0001\nRina 3,6281230000001\nRina 4,81230000001\n"
    report = run(owner, shop_a, in_shop, csv_file(text))
    assert (report["created_count"], report["failed_count"]) == (1, 3)
    assert report["errors"] == [
        {"line": line, "reason": "Same phone number as line 2; this line was skipped."} for line in (3, 4, 5)
    ]
    with in_shop(shop_a.shop):
        assert list(Contact.objects.filter(phone_digits="81230000001").values_list("name", "phone")) == [
            ("Rina", "+6281230000001")
        ]


@pytest.fixture
def known_customer(shop_a, in_shop):
    with in_shop(shop_a.shop):
        regular = Label.objects.create(name="Langganan")
        contact = Contact.objects.create(
            name="Bu Sari", phone="+6281240000001", phone_digits="81240000001", wa_id="6281240000001",
            city="Depok", email="sari@example.test",
        )  # fmt: skip
        contact.labels.add(regular)
    return contact


def test_a_phone_already_in_the_shop_updates_that_contact_when_asked(owner, shop_a, in_shop, known_customer):
    text = "name,phone,city,email,labels\n,0812 4000 0001,Bogor,,Reseller\nBaru,0812 4000 0002,Bogor,,\n"
    report = run(owner, shop_a, in_shop, csv_file(text), update_existing=True)
    assert (report["created_count"], report["updated_count"], report["failed_count"]) == (1, 1, 0)
    with in_shop(shop_a.shop):
        sari = Contact.objects.get(pk=known_customer.pk)
        # Blank cells keep what the shop already knows; labels are added, not replaced.
        assert (sari.name, sari.city, sari.email, sari.source) == ("Bu Sari", "Bogor", "sari@example.test", "manual")
        assert sorted(sari.labels.values_list("name", flat=True)) == ["Langganan", "Reseller"]
        assert list(TimelineEvent.objects.filter(contact=sari).values_list("kind", "summary")) == [
            ("updated", "Updated from import pelanggan.csv")
        ]
        assert Contact.objects.filter(phone__in=["+6281240000001", "+6281240000002"]).count() == 2


def test_a_phone_already_in_the_shop_is_reported_when_updates_are_off(owner, shop_a, in_shop, known_customer):
    text = "name,phone,city\nSari Baru,0812 4000 0001,Bogor\nBaru,0812 4000 0002,Bogor\n"
    report = run(owner, shop_a, in_shop, csv_file(text), update_existing=False)
    assert (report["created_count"], report["updated_count"], report["failed_count"]) == (1, 0, 1)
    assert report["errors"] == [
        {"line": 2, "reason": f"A contact with this phone number already exists: Bu Sari (#{known_customer.pk})."}
    ]
    with in_shop(shop_a.shop):
        assert Contact.objects.values_list("name", "city").get(pk=known_customer.pk) == ("Bu Sari", "Depok")


def test_a_windows_1252_csv_keeps_its_accented_names(owner, shop_a, in_shop):
    text = "Nama;Telepon;Kota\nJosé Müller;0812 5000 0001;Yogyakarta\nFrançoise Ñuñez;0812 5000 0002;Malang\n"
    report = run(owner, shop_a, in_shop, csv_file(text, encoding="cp1252"))
    assert (report["created_count"], report["failed_count"]) == (2, 0)
    with in_shop(shop_a.shop):
        assert sorted(Contact.objects.filter(city__in=["Yogyakarta", "Malang"]).values_list("name", flat=True)) == [
            "Françoise Ñuñez",
            "José Müller",
        ]


def test_a_utf8_csv_with_bom_and_tabs(owner, shop_a, in_shop):
    text = "\ufeffName\tPhone\tEmail\nRené\t+62 812 5100 0001\trene@example.test\n"
    uploaded = upload(owner, csv_file(text, name="export.txt")).json()
    assert uploaded["columns"] == ["Name", "Phone", "Email"]
    assert uploaded["suggested_mapping"] == {"Name": "name", "Phone": "phone", "Email": "email"}
    report = run(owner, shop_a, in_shop, csv_file(text))
    assert report["created_count"] == 1
    with in_shop(shop_a.shop):
        assert Contact.objects.get(phone="+6281251000001").name == "René"


def test_an_excel_workbook_with_number_and_date_cells(owner, shop_a, in_shop):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Nama Pelanggan", "No WA", "Tanggal Lahir", "Jenis Kelamin", "Alamat"])
    sheet.append(["Bu Ani", 81260000001, dt.datetime(1985, 1, 2), "P", "Jl. Merdeka 1"])
    sheet.append(["Pak Joko", 6281260000002, None, "laki-laki", ""])
    sheet.append([None, None, None, None, None])
    sheet.append(["Salah", 123, None, None, None])
    content = io.BytesIO()
    workbook.save(content)
    content.seek(0)
    content.name = "pelanggan.dat"  # the content decides, not the name
    report = run(owner, shop_a, in_shop, content)
    assert (report["created_count"], report["failed_count"]) == (2, 1)
    assert report["errors"] == [{"line": 5, "reason": "Phone “123”: This phone number is not valid."}]
    with in_shop(shop_a.shop):
        ani = Contact.objects.get(phone="+6281260000001")
        assert (ani.name, ani.birthday, ani.gender, ani.address) == (
            "Bu Ani",
            dt.date(1985, 1, 2),
            "f",
            "Jl. Merdeka 1",
        )
        assert Contact.objects.get(phone="+6281260000002").gender == "m"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "This is a PNG file, not a spreadsheet."),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "Old Excel files (.xls) cannot be read."),
        (b"PK\x03\x04 not really a zip", "This file could not be read as an Excel workbook (.xlsx)."),
        (b"", "The file is empty."),
        (b"name,phone\n", "The file has no rows under the header."),
    ],
)
def test_files_that_are_not_contact_lists_are_refused_with_a_reason(owner, content, message):
    response = upload(owner, csv_file("", name="contacts.csv") if not content else _named(content))
    assert response.status_code == 400
    assert response.json()["file"][0].startswith(message)


def _named(content: bytes) -> io.BytesIO:
    upload_file = io.BytesIO(content)
    upload_file.name = "contacts.csv"
    return upload_file


def test_a_mapping_must_name_someone_and_a_job_starts_once(owner, shop_a, in_shop):
    body = upload(owner, csv_file("kota,catatan\nBandung,x\n")).json()
    refused = owner.post(f"/api/crm/imports/{body['id']}/start/", {"mapping": {"kota": "city"}}, **JSON)
    assert refused.status_code == 400
    assert refused.json() == {"mapping": ["Map at least the phone, name or email column."]}
    unknown = owner.post(f"/api/crm/imports/{body['id']}/start/", {"mapping": {"kota": "salary"}}, **JSON)
    assert unknown.json() == {"mapping": ["Unknown field “salary”."]}
    mapping = {"kota": "city", "catatan": "name"}
    assert owner.post(f"/api/crm/imports/{body['id']}/start/", {"mapping": mapping}, **JSON).status_code == 202
    again = owner.post(f"/api/crm/imports/{body['id']}/start/", {"mapping": mapping}, **JSON)
    assert again.status_code == 400 and again.json()["code"] == "already_started"


def test_progress_is_saved_per_chunk_and_a_long_error_list_is_capped(owner, shop_a, in_shop, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 3)
    monkeypatch.setattr(imports, "MAX_STORED_ERRORS", 2)
    rows = [f"Orang {n},0812 7000 {n:04d}" for n in range(1, 6)] + [f"Salah {n},12" for n in range(4)]
    report = run(owner, shop_a, in_shop, csv_file("name,phone\n" + "\n".join(rows) + "\n"))
    assert (report["processed_rows"], report["created_count"], report["failed_count"]) == (9, 5, 4)
    assert [error["line"] for error in report["errors"]] == [7, 8]
    assert report["errors_note"] == "2 more lines failed; only the first 2 are listed."


def test_a_re_delivered_job_resumes_after_its_last_committed_chunk(owner, shop_a, in_shop, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    rows = [f"Orang {n},0812 7100 {n:04d}" for n in range(1, 6)]
    body = upload(owner, csv_file("name,phone\n" + "\n".join(rows) + "\n")).json()
    owner.post(f"/api/crm/imports/{body['id']}/start/", {"mapping": body["suggested_mapping"]}, **JSON)
    with in_shop(shop_a.shop):
        first_two = imports._Importer(ContactImport.objects.get(pk=body["id"]))
        first_two._commit(
            [(line, first_two.parse(line, cells)) for line, cells in [(2, rows[0].split(",")), (3, rows[1].split(","))]]
        )
        run_contact_import(body["id"], "en")  # the worker died after one chunk; the job runs again
        assert Contact.objects.filter(phone_digits__startswith="8127100").count() == 5
    report = owner.get(f"/api/crm/imports/{body['id']}/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert (report["processed_rows"], report["created_count"], report["failed_count"]) == (5, 5, 0)


def test_rows_past_the_plan_contact_limit_are_refused_line_by_line_and_the_rest_import(owner, shop_a, in_shop):
    with in_shop(shop_a.shop):
        limit = Contact.objects.count() + 2
    Plan.objects.filter(code="growth").update(contact_limit=limit)  # shop A is on Growth
    text = "name,phone\nRina,0812-3000-0001\nBudi,0812-3000-0002\nSiti,0812-3000-0003\nDewi,0812-3000-0004\n"
    report = run(owner, shop_a, in_shop, csv_file(text))
    assert (report["status"], report["created_count"], report["failed_count"]) == ("done", 2, 2)
    # The cheapest public plan with more room (here Starter, whose 5,000 beat the lowered Growth limit).
    refusal = f"Your Growth plan includes {limit} contacts. Upgrade to Starter in Settings > Billing for more."
    assert report["errors"] == [{"line": 4, "reason": refusal}, {"line": 5, "reason": refusal}]
    with in_shop(shop_a.shop):
        assert set(
            Contact.objects.filter(name__in=["Rina", "Budi", "Siti", "Dewi"]).values_list("name", flat=True)
        ) == {
            "Rina",
            "Budi",
        }


def test_imports_belong_to_their_shop(owner, shop_b, in_shop):
    body = upload(owner, csv_file("name\nRina\n")).json()
    other = shop_b.client(shop_b.owner)
    assert other.get(f"/api/crm/imports/{body['id']}/").status_code == 404
    assert shop_b.client().post("/api/crm/imports/", {"file": csv_file("name\nRina\n")}).status_code in (401, 403)


# --- export


def export(client, **filters) -> list[list[str]]:
    response = client.get("/api/crm/contacts/export/", filters, **EN)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="contacts-')
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    return list(csv.reader(io.StringIO(content.removeprefix("\ufeff"))))


@pytest.fixture
def customers(shop_a, in_shop):
    with in_shop(shop_a.shop):
        vip, reseller = Label.objects.create(name="VIP"), Label.objects.create(name="Reseller")
        rina = Contact.objects.create(name="Bu Rina", phone="+6281280000001", phone_digits="81280000001",
                                      city="Bandung", email="rina@example.test")  # fmt: skip
        rina.labels.add(vip, reseller)
        last = dt.datetime(2026, 3, 1, 17, 30, tzinfo=dt.UTC)  # 00:30 on 2 March in Jakarta
        Order.objects.create(number="EXP-1", contact=rina, total=150_000, created_at=last)
        Contact.objects.filter(pk=rina.pk).update(order_count=1, total_spent=150_000, last_order_at=last,
                                                  created_at=dt.datetime(2026, 1, 1, 3, 0, tzinfo=dt.UTC))  # fmt: skip
        budi = Contact.objects.create(name="=HYPERLINK(1)", phone="+6281280000002", phone_digits="81280000002",
                                      city="Surabaya", marketing_opt_out=True)  # fmt: skip
    return rina, budi


def test_export_streams_the_filtered_list_with_labels_and_shop_times(owner, customers, django_assert_max_num_queries):
    rina, _budi = customers
    with django_assert_max_num_queries(12):
        rows = export(owner)
    assert rows[0] == ["name", "phone", "email", "city", "labels", "total_spent", "order_count", "last_order_at",
                       "marketing_opt_out", "created_at"]  # fmt: skip
    by_phone = {row[1]: row for row in rows[1:]}
    assert by_phone["+6281280000001"] == ["Bu Rina", "+6281280000001", "rina@example.test", "Bandung",
                                          "Reseller, VIP", "150000", "1", "2026-03-02 00:30", "no",
                                          "2026-01-01 10:00"]  # fmt: skip
    # A name that a spreadsheet would run as a formula is written as text.
    assert by_phone["+6281280000002"][0] == "'=HYPERLINK(1)" and by_phone["+6281280000002"][8] == "yes"
    assert [row[1] for row in export(owner, city="bandung")[1:]] == ["+6281280000001"]
    vip = rina.labels.get(name="VIP")
    assert [row[1] for row in export(owner, label=vip.pk)[1:]] == ["+6281280000001"]
    assert [row[1] for row in export(owner, consent="opted_out")[1:]] == ["+6281280000002"]
    assert [row[1] for row in export(owner, q="0812 8000 0001")[1:]] == ["+6281280000001"]
    assert [row[1] for row in export(owner, q="rina", source="manual")[1:]] == ["+6281280000001"]


def test_export_needs_a_shop_member(shop_a):
    assert shop_a.client().get("/api/crm/contacts/export/").status_code in (401, 403)
    agent = shop_a.client(shop_a.agent)
    assert agent.get("/api/crm/contacts/export/").status_code == 200


def test_an_export_imports_back_into_the_same_contacts(owner, shop_a, in_shop, customers):
    exported = export(owner, city="bandung")
    text = "\n".join(",".join(f'"{cell}"' for cell in row) for row in exported) + "\n"
    report = run(owner, shop_a, in_shop, csv_file(text), update_existing=True)
    assert (report["created_count"], report["updated_count"], report["failed_count"]) == (0, 1, 0)
    with in_shop(shop_a.shop):
        assert timezone.now() - Contact.objects.get(phone="+6281280000001").updated_at < dt.timedelta(minutes=1)
