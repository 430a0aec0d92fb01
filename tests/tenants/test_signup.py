"""Signup on the portal: validation, a shop that works at once, races and failures that leave nothing."""

import pytest
from django.db import connection
from django.utils import translation
from django_tenants.utils import schema_context

from tenants import provisioning
from tenants.activity.models import ActivityEvent
from tenants.models import Domain, Membership, Shop, User
from tenants.services.signup import SignupInvalid, sign_up
from tests.factories import PASSWORD, create_shop, signup_form

pytestmark = pytest.mark.django_db


def post_signup(portal, language="id", **overrides):
    form = signup_form(**overrides)
    return portal.post(
        "/api/portal/signup/", form.__dict__, content_type="application/json", HTTP_ACCEPT_LANGUAGE=language
    )


def test_owner_lands_logged_in_on_the_new_shop(portal, client):
    response = post_signup(portal, shop_name="Gamis Cantik", subdomain="gamis-cantik", phone="0812-3456-7890")

    assert response.status_code == 201
    redirect = response.json()["redirect_url"]
    assert redirect.startswith("http://gamis-cantik.localhost:8000/auth/handoff/")
    shop = Shop.objects.get(slug="gamis-cantik")
    assert (shop.status, shop.time_zone, shop.locale, shop.currency) == ("trial", "Asia/Jakarta", "id", "IDR")
    assert shop.plan.code == "trial"
    owner = Membership.objects.get(shop=shop).user
    assert owner.phone == "+6281234567890"

    handoff = client.get(redirect.split(":8000")[1], HTTP_HOST="gamis-cantik.localhost")
    assert handoff.status_code == 302 and handoff["Location"] == "/inbox"
    session = client.get("/api/auth/session/", HTTP_HOST="gamis-cantik.localhost").json()
    assert session["role"] == "owner"
    assert session["shop"]["name"] == "Gamis Cantik"


def test_the_new_shop_has_its_own_working_schema():
    shop, owner = create_shop()
    with schema_context(shop.schema_name):
        ActivityEvent.objects.create(actor_id=owner.pk, action="test", summary="hello")
        assert connection.schema_name == shop.schema_name
        assert ActivityEvent.objects.count() == 1


def test_the_login_handoff_works_once(portal, client):
    redirect = post_signup(portal, subdomain="sekali-pakai").json()["redirect_url"]
    path = redirect.split(":8000")[1]
    assert client.get(path, HTTP_HOST="sekali-pakai.localhost").status_code == 302
    again = client.get(path, HTTP_HOST="sekali-pakai.localhost")
    assert again.status_code == 400
    assert b"log in" in again.content


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"shop_name": "  "}, "shop_name", "shop's name"),
        ({"subdomain": "ab"}, "subdomain", "3 to 30 characters"),
        ({"subdomain": "Toko_Baju"}, "subdomain", "lowercase letters"),
        ({"subdomain": "-toko"}, "subdomain", "starting and ending"),
        ({"subdomain": "www"}, "subdomain", "reserved"),
        ({"subdomain": "admin"}, "subdomain", "reserved"),
        ({"subdomain": "api"}, "subdomain", "reserved"),
        ({"owner_name": ""}, "owner_name", "your name"),
        ({"email": "sari@"}, "email", "valid email"),
        ({"password": "short1"}, "password", "too short"),
        ({"password": "password123"}, "password", "too common"),
        ({"password": "83749261538"}, "password", "entirely numeric"),
        ({"phone": "12"}, "phone", "phone number"),
    ],
)
def test_each_invalid_field_gets_its_own_message(portal, overrides, field, fragment):
    shops_before = Shop.objects.count()
    response = post_signup(portal, language="en", **overrides)

    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field]
    assert fragment in " ".join(errors[field])
    assert Shop.objects.count() == shops_before


def test_a_taken_subdomain_is_refused(portal):
    create_shop(subdomain="sudah-ada")
    response = post_signup(portal, language="en", subdomain="sudah-ada")
    assert response.status_code == 400
    assert response.json() == {"subdomain": ["This address is already taken."]}


def test_messages_speak_indonesian_by_default(portal):
    response = post_signup(portal, subdomain="www")
    assert response.json()["subdomain"] == ["Alamat ini sudah dipesan. Silakan pilih yang lain."]


def test_an_existing_person_can_open_a_second_shop_with_their_password():
    _, owner = create_shop()
    _, owner2 = create_shop(email=owner.email.upper(), password=PASSWORD, owner_name="Same person")
    assert owner2 == owner
    assert Membership.objects.filter(user=owner).count() == 2
    with pytest.raises(SignupInvalid) as refused, translation.override("en"):
        create_shop(email=owner.email, password="Another-Pass-123")
    assert "already has an account" in refused.value.errors["email"][0]


def test_subdomain_check_says_why(portal, shop_a):
    check = lambda s: portal.get("/api/portal/subdomain-check/", {"subdomain": s}, HTTP_ACCEPT_LANGUAGE="en").json()  # noqa: E731
    assert check("toko-baru-sekali") == {"available": True, "reason": None}
    assert check(shop_a.shop.slug)["reason"] == "This address is already taken."
    assert "reserved" in check("www")["reason"]


def test_a_failure_half_way_leaves_nothing_behind(monkeypatch):
    pool_before = set(Shop.objects.filter(status=Shop.Status.POOL).values_list("pk", flat=True))
    form = signup_form(subdomain="setengah-jadi", email="setengah@example.test")

    def broken_create(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Membership.objects, "create", broken_create)
    with pytest.raises(RuntimeError):
        sign_up(form)

    assert not Shop.objects.filter(slug="setengah-jadi").exists()
    assert not Domain.objects.filter(domain__startswith="setengah-jadi.").exists()
    assert not User.objects.filter(email="setengah@example.test").exists()
    # The schema it had claimed is back in the pool, untouched.
    assert set(Shop.objects.filter(status=Shop.Status.POOL).values_list("pk", flat=True)) == pool_before


def test_an_empty_pool_slows_signup_down_but_does_not_break_it():
    Shop.objects.filter(status=Shop.Status.POOL).update(status=Shop.Status.SUSPENDED, slug=None)
    assert provisioning.ready_count() == 0
    shop, _ = create_shop()
    assert shop.status == Shop.Status.TRIAL
    with schema_context(shop.schema_name):
        assert ActivityEvent.objects.count() == 0
