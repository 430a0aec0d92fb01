"""The shared inbox API and Settings > WhatsApp, as the dashboard uses them."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from crm.models import Contact, Label
from whatsapp.models import Conversation, Message, MessageTemplate

pytestmark = pytest.mark.django_db
JSON = {"content_type": "application/json", "HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def thread(wa_a, in_schema):
    """A conversation whose customer wrote an hour ago (window open)."""
    with in_schema(wa_a):
        contact = Contact.objects.create(
            wa_id="6281288880001",
            phone="+6281288880001",
            name="Bu Rina",
            last_inbound_at=timezone.now() - timedelta(hours=1),
        )
        conversation = Conversation.objects.create(contact=contact, unread_count=2, last_message_at=timezone.now())
        Message.objects.create(
            conversation=conversation, direction="in", wamid="wamid.rina1", text="ada size L?", status="received"
        )
    return conversation


def test_staff_list_search_and_open_conversations(wa_a, thread, in_schema):
    agent = wa_a.client(wa_a.agent)
    listed = agent.get("/api/inbox/conversations/").json()["results"]
    row = next(c for c in listed if c["id"] == thread.pk)
    assert (row["contact"]["name"], row["unread_count"], row["window_open"]) == ("Bu Rina", 2, True)
    assert [c["id"] for c in agent.get("/api/inbox/conversations/", {"q": "0812 8888 0001"}).json()["results"]] == [
        thread.pk
    ]
    assert agent.get("/api/inbox/conversations/", {"q": "nobody-like-this"}).json()["results"] == []
    with in_schema(wa_a):
        vip = Label.objects.create(name="VIP")
    assert agent.get("/api/inbox/conversations/", {"label": vip.pk}).json()["results"] == []
    with in_schema(wa_a):
        thread.contact.labels.add(vip)
    assert [c["id"] for c in agent.get("/api/inbox/conversations/", {"label": vip.pk}).json()["results"]] == [thread.pk]
    messages = agent.get(f"/api/inbox/conversations/{thread.pk}/messages/").json()
    assert [m["text"] for m in messages["results"]] == ["ada size L?"] and messages["has_more"] is False


def list_row(world, conversation_id: int) -> dict:
    listed = world.client(world.owner).get("/api/inbox/conversations/").json()["results"]
    return next(row for row in listed if row["id"] == conversation_id)


def test_the_list_shows_the_customer_as_they_are_now_however_their_contact_changed(wa_a, thread, in_schema):
    # Staff edit the contact page.
    edited = wa_a.client(wa_a.owner).patch(
        f"/api/crm/contacts/{thread.contact_id}/", {"name": "Ibu Rina Wijaya", "email": "rina@example.test"}, **JSON
    )
    assert edited.status_code == 200, edited.content
    row = list_row(wa_a, thread.pk)
    assert (row["contact"]["name"], row["contact"]["email"], row["window_open"]) == (
        "Ibu Rina Wijaya", "rina@example.test", True
    )  # fmt: skip
    assert row["contact"] == {
        key: edited.json()[key]
        for key in ("id", "name", "phone", "wa_id", "email", "source", "marketing_opt_out", "created_at")
    }
    # A set-based write, as CSV imports and message processing make: consent and the service window.
    with in_schema(wa_a):
        Contact.objects.filter(pk=thread.contact_id).update(
            marketing_opt_out=True, last_inbound_at=timezone.now() - timedelta(hours=25)
        )
    row = list_row(wa_a, thread.pk)
    assert (row["contact"]["marketing_opt_out"], row["window_open"]) == (True, False)


def test_a_contact_change_reaches_its_own_shop_inbox_only(wa_a, wa_b, in_schema):
    """Both shops have a contact with the same id: renaming shop A's leaves shop B's inbox as it was."""
    conversations = {}
    for world, name in ((wa_a, "Pelanggan Toko A"), (wa_b, "Pelanggan Toko B")):
        with in_schema(world):
            contact = Contact.objects.create(pk=770001, wa_id="6281277000001", phone="+6281277000001", name=name)
            conversations[world] = Conversation.objects.create(contact=contact, last_message_at=timezone.now()).pk
    renamed = wa_a.client(wa_a.owner).patch("/api/crm/contacts/770001/", {"name": "Sudah Diganti"}, **JSON)
    assert renamed.status_code == 200, renamed.content
    assert list_row(wa_a, conversations[wa_a])["contact"]["name"] == "Sudah Diganti"
    assert list_row(wa_b, conversations[wa_b])["contact"]["name"] == "Pelanggan Toko B"


def test_a_reply_inside_the_window_is_queued_by_its_author(wa_a, thread, in_schema):
    response = wa_a.client(wa_a.agent).post(
        f"/api/inbox/conversations/{thread.pk}/messages/", {"text": "Ada kak"}, **JSON
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["direction"], body["author_name"]) == ("pending", "out", wa_a.agent.name)
    with in_schema(wa_a):
        assert Message.objects.get(pk=body["id"]).payload["text"]["body"] == "Ada kak"


def test_a_free_form_reply_after_24_hours_is_refused_with_the_reason(wa_a, thread, in_schema):
    with in_schema(wa_a):
        Contact.objects.filter(pk=thread.contact_id).update(last_inbound_at=timezone.now() - timedelta(hours=25))
    response = wa_a.client(wa_a.agent).post(
        f"/api/inbox/conversations/{thread.pk}/messages/", {"text": "Halo?"}, **JSON
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "More than 24 hours since the customer wrote: use a template.",
        "code": "window_closed",
    }
    # A template goes through outside the window.
    with in_schema(wa_a):
        template = MessageTemplate.objects.create(
            name="order_update", language="id", category="utility", status="approved",
            body_text="Halo {{1}}, pesanan {{2}} sudah dikirim.", parameter_count=2,
        )  # fmt: skip
    sent = wa_a.client(wa_a.agent).post(
        f"/api/inbox/conversations/{thread.pk}/template/",
        {"template_id": template.pk, "parameters": ["Rina", "#1024"]},
        **JSON,
    )
    assert sent.status_code == 201
    assert sent.json()["text"] == "Halo Rina, pesanan #1024 sudah dikirim."


def test_notes_assignment_closing_and_reading(wa_a, thread, in_schema):
    client = wa_a.client(wa_a.owner)
    note = client.post(f"/api/inbox/conversations/{thread.pk}/notes/", {"text": "VIP, kasih diskon"}, **JSON).json()
    assert note["direction"] == "note"
    assigned = client.patch(f"/api/inbox/conversations/{thread.pk}/", {"assignee_id": wa_a.agent.pk}, **JSON).json()
    assert assigned["assignee_name"] == wa_a.agent.name
    mine = wa_a.client(wa_a.agent).get("/api/inbox/conversations/", {"view": "mine"}).json()["results"]
    assert [c["id"] for c in mine] == [thread.pk]
    stranger = client.patch(f"/api/inbox/conversations/{thread.pk}/", {"assignee_id": 999999}, **JSON)
    assert stranger.status_code == 400
    assert (
        client.patch(f"/api/inbox/conversations/{thread.pk}/", {"status": "closed"}, **JSON).json()["status"]
        == "closed"
    )
    assert client.post(f"/api/inbox/conversations/{thread.pk}/read/").status_code == 204
    with in_schema(wa_a):
        assert Conversation.objects.get(pk=thread.pk).unread_count == 0


def test_credentials_are_encrypted_at_rest_and_never_returned(wa_a):
    owner = wa_a.client(wa_a.owner)
    account = owner.get("/api/whatsapp/account/").json()
    assert account["connected"] and account["phone_number_id"] == wa_a.number
    assert "access_token" not in account and "app_secret" not in account
    assert account["webhook_url"].endswith("/webhooks/whatsapp/")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token, app_secret FROM public.whatsapp_channel_whatsappaccount WHERE phone_number_id = %s",
            [wa_a.number],
        )
        token, secret = cursor.fetchone()
    assert wa_a.token not in token and wa_a.secret not in secret
    assert token.startswith("gAAAA")  # a Fernet token


def test_a_number_belongs_to_one_shop_and_agents_cannot_change_it(wa_a, wa_b):
    taken = wa_b.client(wa_b.owner).put(
        "/api/whatsapp/account/",
        {
            "phone_number_id": wa_a.number,
            "waba_id": "W",
            "display_phone_number": "62811",
            "access_token": "t",
            "app_secret": "s",
        },
        **JSON,
    )
    assert taken.status_code == 400
    assert taken.json() == {"phone_number_id": ["This phone number is connected to another shop."]}
    assert wa_a.client(wa_a.agent).get("/api/whatsapp/account/").status_code == 403
