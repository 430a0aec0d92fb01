"""Bad input gets a clear error and nothing is stored wrongly: wrong content types, malformed JSON, a CSV over
the upload limit, files that are not what they claim, invalid phone numbers, a malformed Stripe webhook.
(Malformed and oversized WhatsApp webhooks: tests/whatsapp/test_webhook_intake.py.)"""

import base64

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_tenants.utils import schema_context

from billing.models import StripeEvent
from crm.models import Contact, ContactImport
from whatsapp.models import Conversation, Message

pytestmark = pytest.mark.django_db

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def contacts_in(world) -> int:
    with schema_context(world.shop.schema_name):
        return Contact.objects.count()


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/octet-stream"])
def test_the_api_refuses_a_body_it_cannot_read_with_415_and_a_message(shop_a, content_type):
    owner = shop_a.client(shop_a.owner)
    before = contacts_in(shop_a)
    response = owner.post("/api/crm/contacts/", b"name=Ani&phone=081234567890", content_type=content_type)
    assert response.status_code == 415
    assert content_type in response.json()["detail"]
    assert contacts_in(shop_a) == before


def test_malformed_json_gets_400_with_the_reason(shop_a):
    response = shop_a.client(shop_a.owner).post(
        "/api/crm/contacts/", b'{"name": "Ani", "phone": ', content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


@pytest.mark.parametrize("body", [b'"just a string"', b"[1, 2]", b"42", b"null"])
def test_json_that_is_not_an_object_gets_400_everywhere_even_at_login(shop_a, body):
    for client, path in ((shop_a.client(shop_a.owner), "/api/crm/contacts/"), (shop_a.client(), "/api/auth/login/")):
        response = client.post(path, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400, path
        assert response.json()["detail"] == "The request body must be a JSON object with named fields."


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("12", "This phone number is not valid."),
        ("telepon saya", "This is not a phone number."),
        ("+1 555 0100", "This phone number is not valid."),
        ("0812" + "9" * 30, "This is not a phone number."),
    ],
)
def test_an_invalid_phone_number_is_refused_with_a_clear_message(shop_a, phone, message):
    before = contacts_in(shop_a)
    response = shop_a.client(shop_a.owner).post(
        "/api/crm/contacts/", {"name": "Ani", "phone": phone}, content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["phone"] == [message]
    assert contacts_in(shop_a) == before


def test_a_csv_over_the_upload_limit_is_refused_before_it_is_read(shop_a):
    with schema_context(shop_a.shop.schema_name):
        before = ContactImport.objects.count()
    row = b"Pelanggan Setia,081234567890,catatan yang panjang sekali\n"
    huge = b"name,phone,notes\n" + row * (21 * 1024 * 1024 // len(row))
    response = shop_a.client(shop_a.owner).post(
        "/api/crm/imports/", {"file": SimpleUploadedFile("pelanggan.csv", huge, "text/csv")}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.json()["file"] == ["The file is larger than 20 MB. Split it into smaller files."]
    with schema_context(shop_a.shop.schema_name):
        assert ContactImport.objects.count() == before


def test_a_picture_named_like_a_csv_is_refused_for_what_it_is(shop_a):
    response = shop_a.client(shop_a.owner).post(
        "/api/crm/imports/", {"file": SimpleUploadedFile("pelanggan.csv", PNG, "text/csv")}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.json()["file"][0].startswith("This is a PNG file, not a spreadsheet.")


@pytest.fixture
def open_conversation(shop_a):
    with schema_context(shop_a.shop.schema_name):
        contact = Contact.objects.create(name="Rina", phone="+6281277712345", wa_id="6281277712345",
                                         last_inbound_at=timezone.now())  # fmt: skip
        conversation = Conversation.objects.create(contact=contact, last_message_at=timezone.now())
    yield conversation
    with schema_context(shop_a.shop.schema_name):
        contact.delete()


@pytest.mark.parametrize(
    ("name", "content", "claimed"),
    [
        ("foto.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg"),
        ("katalog.pdf", b"MZ\x90\x00" + b"\x00" * 64, "application/pdf"),
        ("catatan.txt", b"\xff\xfe\x00\x00binary", "text/plain"),
    ],
)
def test_an_attachment_is_judged_by_its_content_not_its_name_or_claimed_type(
    shop_a, open_conversation, name, content, claimed
):
    response = shop_a.client(shop_a.agent).post(
        f"/api/inbox/conversations/{open_conversation.pk}/attachments/",
        {"file": SimpleUploadedFile(name, content, claimed)},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert response.json()["file"] == ["WhatsApp cannot send this kind of file; use a photo (JPEG, PNG) or a PDF."]
    with schema_context(shop_a.shop.schema_name):
        assert not Message.objects.filter(conversation=open_conversation).exists()


def test_an_attachment_over_the_largest_whatsapp_limit_is_refused_before_it_is_read(shop_a, open_conversation):
    too_big = PNG + b"\x00" * (100 * 1024 * 1024)
    response = shop_a.client(shop_a.agent).post(
        f"/api/inbox/conversations/{open_conversation.pk}/attachments/",
        {"file": SimpleUploadedFile("besar.png", too_big, "image/png")},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert response.json()["file"] == ["This file is larger than WhatsApp allows (100 MB)."]


@pytest.mark.parametrize(
    "body", [b"{not json", b"", b'{"id": "evt_1", "type": "invoice.paid", "pad": "' + b"x" * (2 * 1024 * 1024) + b'"}']
)
def test_a_malformed_or_unsigned_stripe_webhook_is_refused_and_changes_nothing(portal, body):
    before = StripeEvent.objects.count()
    response = portal.post(
        "/webhooks/stripe/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE="t=1,v1=deadbeef"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid Stripe signature or payload."}
    assert StripeEvent.objects.count() == before
