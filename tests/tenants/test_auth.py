"""Logging in to one shop: sessions bound to its domain, brute-force brakes, password reset by email."""

import re

import pytest
from django.core import mail
from django.test import Client

from tenants.models import Membership
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def login(client: Client, email: str, password: str = PASSWORD):
    return client.post("/api/auth/login/", {"email": email, "password": password}, content_type="application/json")


def test_a_member_logs_in_and_out(shop_a):
    client = shop_a.client()
    response = login(client, shop_a.agent.email.upper())
    assert response.status_code == 200
    assert response.json()["role"] == "agent"
    assert client.get("/api/auth/session/").status_code == 200
    assert client.post("/api/auth/logout/").status_code == 204
    assert client.get("/api/auth/session/").status_code == 401


def test_wrong_password_and_strangers_get_the_same_answer(shop_a):
    stranger = UserFactory()
    wrong = login(shop_a.client(), shop_a.agent.email, "nope-nope-nope")
    outsider = login(shop_a.client(), stranger.email)
    assert wrong.status_code == outsider.status_code == 400
    assert wrong.json() == outsider.json()


def test_a_person_in_two_shops_needs_a_session_on_each(shop_a, shop_b):
    both = UserFactory()
    Membership.objects.create(user=both, shop=shop_a.shop, role="agent")
    Membership.objects.create(user=both, shop=shop_b.shop, role="agent")
    client = Client(HTTP_HOST=shop_a.host)
    assert login(client, both.email).status_code == 200
    # The same cookie jar presented to shop B (as a careless proxy or a stolen cookie would):
    assert client.get("/api/auth/session/", HTTP_HOST=shop_b.host).status_code == 401
    assert client.get("/api/team/members/", HTTP_HOST=shop_b.host).status_code == 401


def test_login_is_throttled_per_account(shop_a):
    client = shop_a.client()
    statuses = [login(client, shop_a.agent.email, f"wrong-{n}").status_code for n in range(10)]
    assert statuses == [400] * 10
    blocked = login(client, shop_a.agent.email)  # even the right password waits now
    assert blocked.status_code == 429
    assert blocked.json()["detail"]  # says how long to wait


def test_password_reset_by_email_link(shop_a, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client = shop_a.client()
    person = UserFactory()
    Membership.objects.create(user=person, shop=shop_a.shop, role="agent")

    assert (
        client.post("/api/auth/password-reset/", {"email": person.email}, content_type="application/json").status_code
        == 200
    )
    assert (
        client.post(
            "/api/auth/password-reset/", {"email": "nobody@x.test"}, content_type="application/json"
        ).status_code
        == 200
    )
    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+/reset-password/(\S+)/(\S+)/", mail.outbox[0].body)
    assert link and link.group(0).startswith(f"http://{shop_a.host}:8000/")

    confirm = {"uid": link.group(1), "token": link.group(2), "new_password": "Baju-Baru-Lebaran-7"}
    assert client.post("/api/auth/password-reset/confirm/", confirm, content_type="application/json").status_code == 200
    assert login(shop_a.client(), person.email, "Baju-Baru-Lebaran-7").status_code == 200
    reused = client.post("/api/auth/password-reset/confirm/", confirm, content_type="application/json")
    assert reused.status_code == 400


def test_password_reset_does_not_mail_people_of_other_shops(shop_a, shop_b, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    shop_a.client().post("/api/auth/password-reset/", {"email": shop_b.agent.email}, content_type="application/json")
    assert mail.outbox == []
