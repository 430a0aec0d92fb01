"""Shop A's people, sessions and tokens can neither see nor change shop B, on any API route.

The routes come from the URL configuration, so a new endpoint is covered without editing this file.
"""

import json

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django_tenants.utils import schema_context

from crm.models import (
    AttributeDefinition,
    Contact,
    ContactImport,
    Deal,
    Label,
    Order,
    OrderItem,
    Product,
    Segment,
    Stage,
    Variant,
)
from tenants.activity.models import ActivityEvent
from tenants.models import ApiToken, AuditEvent, Invitation, Membership, Shop
from tenants.portability.models import ShopExport
from tenants.scopes import ALL_SCOPES
from tests.factories import PASSWORD
from whatsapp.broadcasts.models import Broadcast, ConsentSettings, Recipient
from whatsapp.models import AutoReplyRule, BusinessHours, Conversation, Message, MessageTemplate, QuickReply

pytestmark = pytest.mark.django_db

# Routes anyone may call (they authenticate or answer nothing about a shop's data).
OPEN_ROUTES = {
    "api/auth/csrf/",
    "api/auth/login/",
    "api/auth/logout/",
    "api/auth/password-reset/",
    "api/auth/password-reset/confirm/",
    "api/schema/",
    "api/docs/",
}
METHODS = ["get", "post", "patch", "delete"]


def api_routes(urlconf="config.urls_shop", prefix=""):
    for entry in get_resolver(urlconf).url_patterns if not prefix else urlconf:
        if isinstance(entry, URLResolver):
            yield from api_routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            if route.startswith("api/"):
                yield route


def fill(route: str, ids: dict[str, object]) -> str:
    for name, value in ids.items():
        route = route.replace(f"<int:{name}>", str(value)).replace(f"<str:{name}>", str(value))
    assert "<" not in route, f"no value for a parameter of {route}: add it to the ids below"
    return "/" + route


def snapshot(world) -> str:
    shop = world.shop
    with schema_context(shop.schema_name):
        activity = list(ActivityEvent.objects.values_list("pk", "action"))
        inbox = [
            list(Conversation.objects.order_by("pk").values_list("pk", "status", "assignee_id", "unread_count")),
            list(Message.objects.order_by("pk").values_list("pk", "text", "status")),
            list(AutoReplyRule.objects.order_by("pk").values_list("pk", "name", "active", "reply_text")),
            list(QuickReply.objects.order_by("pk").values_list("pk", "shortcut", "text")),
            list(BusinessHours.objects.values_list("weekly", flat=True)),
            list(
                Contact.objects.order_by("pk").values_list(
                    "pk", "name", "phone", "owner_id", "marketing_opt_out", "erased_at"
                )
            ),
            list(Label.objects.order_by("pk").values_list("pk", "name", "color")),
            list(Order.objects.order_by("pk").values_list("pk", "status", "total", "notes")),
            list(Product.objects.order_by("pk").values_list("pk", "name", "active")),
            list(Deal.objects.order_by("pk").values_list("pk", "stage_id", "value", "title")),
            list(Stage.objects.order_by("pk").values_list("pk", "name", "position")),
            list(Segment.objects.order_by("pk").values_list("pk", "name")),
            list(ContactImport.objects.order_by("pk").values_list("pk", "status")),
            list(Broadcast.objects.order_by("pk").values_list("pk", "name", "status", "recipient_count")),
            list(Recipient.objects.order_by("pk").values_list("pk", "status", "wa_id")),
            list(ConsentSettings.objects.values_list("stop_words", "confirmation")),
        ]
    return json.dumps(
        {
            "members": list(Membership.objects.filter(shop=shop).order_by("pk").values_list("pk", "user_id", "role")),
            "invitations": list(
                Invitation.objects.filter(shop=shop)
                .order_by("pk")
                .values_list("pk", "email", "accepted_at", "revoked_at")
            ),
            "tokens": list(ApiToken.objects.filter(shop=shop).order_by("pk").values_list("pk", "revoked_at")),
            "exports": list(ShopExport.objects.filter(shop=shop).order_by("pk").values_list("pk", "status")),
            "activity": activity,
            "audit": list(AuditEvent.objects.filter(shop=shop).order_by("pk").values_list("pk", "action")),
            "inbox": inbox,
            "shop": list(Shop.objects.filter(pk=shop.pk).values_list("name", "status", "deletion_due_at")),
        },
        default=str,
    )


@pytest.fixture
def look_alike(shop_a, shop_b):
    """Both shops get the same kinds of objects; returns B's ids and A's credentials."""
    ids = {}
    for world in (shop_a, shop_b):
        owner = world.client(world.owner)
        invitation = owner.post(
            "/api/team/invitations/", {"email": "same@example.test", "role": "agent"}, content_type="application/json"
        ).json()
        token = owner.post(
            "/api/tokens/", {"name": "Same name", "scopes": ALL_SCOPES}, content_type="application/json"
        ).json()
        with schema_context(world.shop.schema_name):
            contact = Contact.objects.create(wa_id="6281200001111", phone="+6281200001111", name="Same customer")
            conversation = Conversation.objects.create(contact=contact, last_message_at=contact.created_at)
            # Look-alike, but each shop's rows carry a marker that must never show up in the other shop.
            message = Message.objects.create(
                conversation=conversation,
                direction="in",
                text=f"same text {marker(world)}",
                status="received",
                type="image",
                media_id="same-media",
            )
            rule = AutoReplyRule.objects.create(name="Same rule", kind="keyword", keywords=["harga"], reply_text="x")
            crm = look_alike_crm(contact, marker(world))
            quick = QuickReply.objects.create(shortcut="same", text="same")
            broadcast = look_alike_broadcast(contact, marker(world))
        export = ShopExport.objects.create(shop=world.shop, requested_by=world.owner, status="ready")
        ids[world.shop.slug] = {
            "export_id": export.pk,
            "broadcast_id": broadcast.pk,
            "conversation_id": conversation.pk,
            "message_id": message.pk,
            "pk": rule.pk,
            "quick_reply_pk": quick.pk,
            **crm,
            "membership_id": world.membership(world.agent).pk,
            "invitation_id": invitation["id"],
            "token_id": token["id"],
            "token": invitation["accept_url"].rsplit("/", 1)[1],
            "secret": token["token"],
        }
    return ids[shop_a.shop.slug], ids[shop_b.shop.slug]


def look_alike_crm(contact, mark: str) -> dict:
    """One of every CRM object, carrying the shop's marker where there is text."""
    label = Label.objects.create(name=f"label {mark}")
    attribute = AttributeDefinition.objects.create(key="same", label=f"attr {mark}", type="text")
    product = Product.objects.create(name=f"product {mark}")
    variant = Variant.objects.create(product=product, sku=f"sku-{mark}", price=1000)
    order = Order.objects.create(number=f"ORD-{mark}", contact=contact, total=1000, notes=mark)
    OrderItem.objects.create(
        order=order, variant=variant, description=mark, quantity=1, unit_price=1000, line_total=1000
    )
    stage = Stage.objects.order_by("position").first()
    deal = Deal.objects.create(title=f"deal {mark}", contact=contact, stage=stage, value=1000)
    segment = Segment.objects.create(name=f"segment {mark}", rules={"op": "and", "rules": []})
    upload = ContactImport.objects.create(filename=f"{mark}.csv", content=b"name\n" + mark.encode())
    return {"contact_id": contact.pk, "label_id": label.pk, "attribute_id": attribute.pk, "product_id": product.pk,
            "order_id": order.pk, "stage_id": stage.pk, "deal_id": deal.pk, "segment_id": segment.pk,
            "import_id": upload.pk, "key": "loyal", "table": "trend"}  # fmt: skip


def look_alike_broadcast(contact, mark: str) -> Broadcast:
    """A sent promotion with one recipient, named with the shop's marker."""
    template = MessageTemplate.objects.create(name="same_promo", language="id", category="MARKETING",
                                              status="APPROVED", body_text=f"promo {mark}")  # fmt: skip
    broadcast = Broadcast.objects.create(name=f"broadcast {mark}", template=template, status="completed",
                                         audience={"contacts": [contact.pk]}, recipient_count=1)  # fmt: skip
    Recipient.objects.create(broadcast=broadcast, contact=contact, wa_id=contact.wa_id, status="read")
    ConsentSettings.objects.create(stop_words=[f"stop {mark}"])
    return broadcast


def marker(world) -> str:
    return f"only-in-{world.shop.slug}"


def callers(world, secret):
    return {
        "owner session": world.client(world.owner),
        "agent session": world.client(world.agent),
        "api token": Client(HTTP_HOST=world.host, HTTP_AUTHORIZATION=f"Bearer {secret}"),
        "anonymous": Client(HTTP_HOST=world.host),
    }


def test_every_route_is_covered():
    routes = set(api_routes())
    assert {"api/team/members/", "api/tokens/<int:token_id>/", "api/invitations/<str:token>/accept/"} <= routes


def test_shop_a_cannot_reach_shop_b_on_b_domain(shop_a, shop_b, look_alike):
    a_ids, b_ids = look_alike
    before = snapshot(shop_b)
    leaks = []
    for who, client in callers(shop_a, a_ids["secret"]).items():
        for route in api_routes():
            if route in OPEN_ROUTES or route.startswith("api/invitations/"):
                continue
            url = fill(route, b_ids)
            for method in METHODS:
                response = getattr(client, method)(
                    url, data={"role": "owner", "name": "x", "email": "x@x.test"}, content_type="application/json",
                    HTTP_HOST=shop_b.host,
                )  # fmt: skip
                leaked = shop_b.owner.email.encode() in response.content or marker(shop_b).encode() in response.content
                if response.status_code < 400 or leaked:
                    leaks.append((who, method.upper(), url, response.status_code))
    assert leaks == []
    assert snapshot(shop_b) == before


def test_shop_a_cannot_reach_shop_b_objects_through_its_own_domain(shop_a, shop_b, look_alike):
    """Public rows (members, invitations, tokens) have global ids: B's are not found. Shop rows live in
    separate schemas, so B's ids may name A's own rows here; what matters is that nothing of B shows."""
    _, b_ids = look_alike
    before = snapshot(shop_b)
    owner_a = shop_a.client(shop_a.owner)
    for route in api_routes():
        if "<" not in route:
            continue
        url = fill(route, b_ids)
        for method in METHODS:
            response = getattr(owner_a, method)(url, data={"role": "owner", "password": PASSWORD, "name": "x"},
                                                content_type="application/json")  # fmt: skip
            assert marker(shop_b).encode() not in response.content, (method, url)
            if (
                any(f"<int:{name}>" in route for name in ("membership_id", "invitation_id", "token_id", "export_id"))
                or "<str:token>" in route
            ):
                assert response.status_code in (401, 403, 404, 405), (method, url, response.status_code)
    assert snapshot(shop_b) == before


def test_unknown_hosts_get_a_friendly_404_and_the_bare_domain_the_portal(portal):
    unknown = Client(HTTP_HOST="tidak-ada.localhost").get("/inbox")
    assert unknown.status_code == 404
    assert b"Toko tidak ditemukan" in unknown.content and b"Shop not found" in unknown.content
    assert Client(HTTP_HOST="tidak-ada.localhost").get("/api/team/members/").status_code == 404
    page = portal.get("/")
    assert page.status_code == 200
    assert b'"mode": "portal"' in page.content
    assert portal.get("/api/team/members/").status_code == 404
