"""The audit log: each sensitive action writes exactly one event naming who did it, from where, and never a
secret; owners and admins read their own shop's log, newest first, page by page; nobody reads another shop's."""

import json

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from tenants import audit, provisioning
from tenants.models import AuditEvent
from tenants.scopes import ALL_SCOPES
from tests.conftest import ShopWorld
from tests.factories import UserFactory
from tests.whatsapp.broadcasts.factories import BroadcastFactory, ContactFactory

pytestmark = pytest.mark.django_db
JSON = {"content_type": "application/json", "HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(scope="module")
def world(committed):
    """A shop of its own, so its log holds exactly this file's actions."""
    provisioning.refill_pool(4)
    return ShopWorld("audited")


class Log:
    """The events written since it was opened."""

    def __init__(self):
        self.since = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def new(self) -> list[AuditEvent]:
        return list(AuditEvent.objects.filter(pk__gt=self.since).order_by("pk"))

    def one(self, world, action: str, actor) -> AuditEvent:
        events = self.new()
        assert [(e.shop_id, e.action, e.actor_id, e.actor_email) for e in events] == [
            (world.shop.pk, action, actor.pk if actor else None, actor.email if actor else "")
        ]
        self.since = events[-1].pk
        return events[0]


def test_whatsapp_credentials_are_audited_by_name_never_by_value(world):
    owner, log = world.client(world.owner), Log()
    number = {"phone_number_id": "109990000000042", "waba_id": "WABA-AUD", "display_phone_number": "6281100000042"}
    owner.put("/api/whatsapp/account/", {**number, "access_token": "EAAG-first-secret", "app_secret": "s3cret-1"},
              **JSON)  # fmt: skip
    connected = log.one(world, "whatsapp.connected", world.owner)
    assert connected.ip == "127.0.0.1"

    owner.put("/api/whatsapp/account/", {**number, "access_token": "EAAG-second-secret"}, **JSON)

    changed = log.one(world, "whatsapp.credentials_changed", world.owner)
    assert changed.details == {"changed": ["access_token"]}
    for event in (connected, changed):
        written = json.dumps(event.details) + event.target
        assert "EAAG" not in written and "s3cret" not in written


def test_team_changes_are_audited(world):
    owner, log = world.client(world.owner), Log()
    invitation = owner.post("/api/team/invitations/", {"email": "baru@audited.test", "role": "agent"}, **JSON).json()
    invited = log.one(world, "team.invited", world.owner)
    assert invited.details == {"email": "baru@audited.test", "role": "agent"}
    assert invitation["accept_url"].rsplit("/", 1)[1] not in json.dumps(invited.details) + invited.target

    owner.delete(f"/api/team/invitations/{invitation['id']}/")
    log.one(world, "team.invitation_revoked", world.owner)

    agent = world.membership(world.agent)
    owner.patch(f"/api/team/members/{agent.pk}/", {"role": "admin"}, **JSON)
    assert log.one(world, "team.role_changed", world.owner).details == {
        "email": world.agent.email, "from": "agent", "to": "admin",
    }  # fmt: skip

    owner.patch(f"/api/team/members/{agent.pk}/", {"role": "agent"}, **JSON)
    log.one(world, "team.role_changed", world.owner)
    refused = world.client(world.agent).patch(f"/api/team/members/{agent.pk}/", {"role": "owner"}, **JSON)
    assert refused.status_code == 403 and log.new() == []  # a refusal changes nothing, so logs nothing

    leaving = UserFactory()
    membership = world.shop.memberships.create(user=leaving, role="agent")
    owner.delete(f"/api/team/members/{membership.pk}/")
    assert log.one(world, "team.removed", world.owner).target == f"membership:{membership.pk}"


def test_api_tokens_are_audited_without_their_secret(world):
    owner, log = world.client(world.owner), Log()
    created = owner.post("/api/tokens/", {"name": "Spreadsheet", "scopes": ["contacts:read"]}, **JSON).json()
    event = log.one(world, "api_token.created", world.owner)
    assert created["token"] not in json.dumps(event.details) + event.target
    assert event.details["prefix"] == created["token"][:12]

    owner.delete(f"/api/tokens/{created['id']}/")
    log.one(world, "api_token.revoked", world.owner)


def test_broadcast_sends_and_cancellations_are_audited(world):
    with schema_context(world.shop.schema_name):
        broadcast = BroadcastFactory(audience={"contacts": [ContactFactory().pk, ContactFactory().pk]})
    admin, log = world.client(world.admin), Log()

    started = admin.post(f"/api/broadcasts/{broadcast.pk}/send/", {}, **JSON)

    assert started.status_code == 200, started.content
    event = log.one(world, "broadcast.started", world.admin)
    assert event.target == f"broadcast:{broadcast.pk}" and event.details["recipients"] == 2
    assert admin.post(f"/api/broadcasts/{broadcast.pk}/cancel/", **JSON).status_code == 200
    log.one(world, "broadcast.cancelled", world.admin)


def test_suspension_by_an_operator_is_in_the_shop_log(world, settings):
    operator = UserFactory(is_staff=True, is_superuser=True)
    console, log = Client(HTTP_HOST=settings.PLATFORM_HOST), Log()
    console.force_login(operator)

    console.post("/console/tenants/shop/", {"action": "suspend", "_selected_action": [world.shop.pk]})

    assert log.one(world, "shop.suspended", operator).details == {"reason": "Suspended from the operator console"}
    console.post("/console/tenants/shop/", {"action": "reactivate", "_selected_action": [world.shop.pk]})
    log.one(world, "shop.reactivated", operator)


def test_owners_and_admins_read_their_log_newest_first_page_by_page(world, shop_b):
    with schema_context(world.shop.schema_name):
        for n in range(55):
            audit.record("shop.exported", actor=world.owner, target=f"export:{n}")
    audit.record("shop.exported", actor=shop_b.owner, shop=shop_b.shop, target="export:of-b")

    first = world.client(world.admin).get("/api/audit/").json()
    second = world.client(world.owner).get("/api/audit/?page=2").json()

    assert [row["target"] for row in first["results"][:2]] == ["export:54", "export:53"]
    assert len(first["results"]) == 50 and first["next"]
    targets = [row["target"] for row in first["results"] + second["results"]]
    assert "export:0" in targets and "export:of-b" not in targets
    assert first["results"][0]["actor_email"] == world.owner.email


def test_agents_and_api_tokens_cannot_read_the_log(world):
    assert world.client(world.agent).get("/api/audit/").status_code == 403
    secret = (
        world.client(world.owner)
        .post("/api/tokens/", {"name": "Reader", "scopes": list(ALL_SCOPES)}, **JSON)
        .json()["token"]
    )
    token = Client(HTTP_HOST=world.host, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert token.get("/api/audit/").status_code == 403


def test_the_operator_reads_every_shops_log_in_the_console_and_cannot_change_it(world, shop_b, settings):
    mine = audit.record("shop.exported", actor=world.owner, shop=world.shop, target="export:console-a")
    audit.record("shop.exported", actor=shop_b.owner, shop=shop_b.shop, target="export:console-b")
    console = Client(HTTP_HOST=settings.PLATFORM_HOST)
    console.force_login(UserFactory(is_staff=True, is_superuser=True))

    listing = console.get("/console/tenants/auditevent/")

    assert listing.status_code == 200
    assert b"export:console-a" in listing.content and b"export:console-b" in listing.content
    assert console.get("/console/tenants/auditevent/add/").status_code == 403
    console.post(f"/console/tenants/auditevent/{mine.pk}/change/", {"target": "rewritten"})
    console.post(f"/console/tenants/auditevent/{mine.pk}/delete/", {"post": "yes"})
    mine.refresh_from_db()
    assert mine.target == "export:console-a"


def test_a_password_reset_is_audited_in_the_shop_whose_link_it_was(world, mailoutbox):
    import re

    client, log = Client(HTTP_HOST=world.host), Log()
    client.post("/api/auth/password-reset/", {"email": world.agent.email}, **JSON)
    uid, token = re.search(r"/reset-password/(\S+)/(\S+)/", mailoutbox[-1].body).groups()

    confirm = {"uid": uid, "token": token, "new_password": "Baju-Baru-Lebaran-7"}
    assert client.post("/api/auth/password-reset/confirm/", confirm, **JSON).status_code == 200

    event = log.one(world, "user.password_reset", world.agent)
    assert "Baju" not in json.dumps(event.details) + event.target and token not in event.target
