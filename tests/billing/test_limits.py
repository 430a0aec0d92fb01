"""Plan limits refuse where they bite, naming the limit and the plan that lifts it."""

import pytest
from django.test import Client

from billing.models import Plan
from tests.factories import PASSWORD, create_shop

pytestmark = pytest.mark.django_db
JSON = {"content_type": "application/json", "HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def owner():
    shop, owner = create_shop()
    client = Client(HTTP_HOST=shop.primary_host)
    assert client.post("/api/auth/login/", {"email": owner.email, "password": PASSWORD}, **JSON).status_code == 200
    return client


def test_a_fourth_person_on_a_three_seat_plan_is_refused(owner):
    for email in ("dewi@example.test", "rina@example.test"):
        assert owner.post("/api/team/invitations/", {"email": email, "role": "agent"}, **JSON).status_code == 201
    refused = owner.post("/api/team/invitations/", {"email": "sari@example.test", "role": "agent"}, **JSON)
    assert refused.status_code == 400
    assert refused.json()["detail"] == (
        "Your Trial plan includes 3 staff seat(s). Upgrade to Growth in Settings > Billing for more."
    )
    # Inviting someone again replaces their invitation: it takes no second seat.
    assert (
        owner.post("/api/team/invitations/", {"email": "dewi@example.test", "role": "admin"}, **JSON).status_code == 201
    )


def test_contacts_past_the_plan_limit_are_refused(owner):
    Plan.objects.filter(code="trial").update(contact_limit=2)
    for phone in ("081211110001", "081211110002"):
        assert owner.post("/api/crm/contacts/", {"name": "Pelanggan", "phone": phone}, **JSON).status_code == 201
    refused = owner.post("/api/crm/contacts/", {"name": "Satu lagi", "phone": "081211110003"}, **JSON)
    assert refused.status_code == 400
    assert (
        refused.json()["detail"]
        == "Your Trial plan includes 2 contacts. Upgrade to Starter in Settings > Billing for more."
    )


def test_auto_reply_rules_past_the_plan_limit_are_refused(owner):
    Plan.objects.filter(code="trial").update(automation_rules=1)
    rule = {"name": "Harga", "kind": "keyword", "keywords": ["harga"], "reply_text": "Cek katalog ya kak"}
    assert owner.post("/api/whatsapp/auto-replies/", rule, **JSON).status_code == 201
    refused = owner.post("/api/whatsapp/auto-replies/", {**rule, "name": "Ongkir"}, **JSON)
    assert refused.status_code == 400
    assert "includes 1 auto-reply rules" in refused.json()["detail"]
