"""Settings > Team: invitations by email link, roles, removal; a shop always keeps an owner."""

import re

import pytest
from django.core import mail
from django.test import Client
from django_tenants.utils import schema_context

from tenants.activity.models import ActivityEvent
from tenants.models import Membership, Role
from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

JSON = {"content_type": "application/json", "HTTP_ACCEPT_LANGUAGE": "en"}


def invite(client, email, role="agent"):
    return client.post("/api/team/invitations/", {"email": email, "role": role}, **JSON)


def test_owner_invites_an_agent_who_joins_and_logs_in(shop_a, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = invite(shop_a.client(shop_a.owner), "dewi@example.test")
    assert response.status_code == 201
    link = response.json()["accept_url"]
    assert link in mail.outbox[0].body and mail.outbox[0].to == ["dewi@example.test"]
    token = re.search(r"/invite/(\S+)$", link).group(1)

    newcomer = Client(HTTP_HOST=shop_a.host)
    preview = newcomer.get(f"/api/invitations/{token}/").json()
    assert preview == {"shop_name": shop_a.shop.name, "email": "dewi@example.test", "role": "agent"}
    joined = newcomer.post(f"/api/invitations/{token}/accept/", {"name": "Dewi", "password": PASSWORD}, **JSON)
    assert joined.status_code == 200
    assert joined.json()["role"] == "agent"
    assert newcomer.get("/api/auth/session/").json()["user"]["email"] == "dewi@example.test"
    # The link is spent.
    again = Client(HTTP_HOST=shop_a.host).post(f"/api/invitations/{token}/accept/", {"password": PASSWORD}, **JSON)
    assert again.status_code == 404
    with schema_context(shop_a.shop.schema_name):
        assert ActivityEvent.objects.filter(action="team.joined").exists()


def test_an_invitation_is_valid_only_on_its_own_shop(shop_a, shop_b):
    link = invite(shop_a.client(shop_a.owner), "salah@example.test").json()["accept_url"]
    token = link.rsplit("/", 1)[1]
    assert Client(HTTP_HOST=shop_b.host).get(f"/api/invitations/{token}/").status_code == 404


def test_an_agent_cannot_invite_change_roles_or_remove(shop_a):
    agent = shop_a.client(shop_a.agent)
    assert invite(agent, "x@example.test").status_code == 403
    admin_id = shop_a.membership(shop_a.admin).pk
    assert agent.patch(f"/api/team/members/{admin_id}/", {"role": "agent"}, **JSON).status_code == 403
    assert agent.delete(f"/api/team/members/{admin_id}/").status_code == 403
    assert shop_a.membership(shop_a.admin).role == Role.ADMIN
    # But everyone may see who is on the team.
    assert len(agent.get("/api/team/members/").json()) >= 3


def test_an_admin_manages_agents_but_not_owners(shop_a):
    admin = shop_a.client(shop_a.admin)
    assert invite(admin, "calon-owner@example.test", role="owner").status_code == 403
    owner_id = shop_a.membership(shop_a.owner).pk
    assert admin.patch(f"/api/team/members/{owner_id}/", {"role": "agent"}, **JSON).status_code == 403
    helper = MembershipFactory(shop=shop_a.shop)
    assert admin.patch(f"/api/team/members/{helper.pk}/", {"role": "admin"}, **JSON).json()["role"] == "admin"
    assert admin.delete(f"/api/team/members/{helper.pk}/").status_code == 204
    assert not Membership.objects.filter(pk=helper.pk).exists()


def test_the_last_owner_can_be_neither_demoted_nor_removed(shop_a):
    owner = shop_a.client(shop_a.owner)
    owner_id = shop_a.membership(shop_a.owner).pk
    demoted = owner.patch(f"/api/team/members/{owner_id}/", {"role": "admin"}, **JSON)
    assert demoted.status_code == 400
    assert demoted.json()["detail"] == "A shop must keep at least one owner."
    assert owner.delete(f"/api/team/members/{owner_id}/", **JSON).status_code == 400
    assert shop_a.membership(shop_a.owner).role == Role.OWNER


def test_with_a_second_owner_the_first_may_step_down(shop_a):
    second = MembershipFactory(shop=shop_a.shop, role=Role.OWNER)
    owner_id = shop_a.membership(shop_a.owner).pk
    response = shop_a.client(shop_a.owner).patch(f"/api/team/members/{owner_id}/", {"role": "admin"}, **JSON)
    assert response.status_code == 200
    assert Membership.objects.filter(shop=shop_a.shop, role=Role.OWNER).get() == second


def test_members_of_another_shop_cannot_be_touched(shop_a, shop_b):
    victim = shop_b.membership(shop_b.agent)
    owner_a = shop_a.client(shop_a.owner)
    assert owner_a.patch(f"/api/team/members/{victim.pk}/", {"role": "admin"}, **JSON).status_code == 404
    assert owner_a.delete(f"/api/team/members/{victim.pk}/").status_code == 404
    victim.refresh_from_db()
    assert victim.role == Role.AGENT


def test_an_existing_account_joins_with_its_own_password(shop_a):
    existing = UserFactory()
    link = invite(shop_a.client(shop_a.owner), existing.email.upper()).json()["accept_url"]
    token = link.rsplit("/", 1)[1]
    wrong = Client(HTTP_HOST=shop_a.host).post(f"/api/invitations/{token}/accept/", {"password": "x" * 10}, **JSON)
    assert wrong.status_code == 400 and "password" in wrong.json()
    right = Client(HTTP_HOST=shop_a.host).post(f"/api/invitations/{token}/accept/", {"password": PASSWORD}, **JSON)
    assert right.status_code == 200
    assert Membership.objects.filter(user=existing, shop=shop_a.shop).exists()


def test_a_revoked_invitation_no_longer_works(shop_a):
    owner = shop_a.client(shop_a.owner)
    created = invite(owner, "batal@example.test").json()
    assert owner.delete(f"/api/team/invitations/{created['id']}/").status_code == 204
    token = created["accept_url"].rsplit("/", 1)[1]
    assert Client(HTTP_HOST=shop_a.host).get(f"/api/invitations/{token}/").status_code == 404
    assert all(i["id"] != created["id"] for i in owner.get("/api/team/invitations/").json())
