"""Orders: totals from the catalog, a status flow that refuses nonsense, notifications through WhatsApp."""

import pytest
from django.utils import timezone

from crm.models import Contact, ShopSettings, Variant
from whatsapp.models import Message, MessageTemplate

pytestmark = pytest.mark.django_db
JSON = {"content_type": "application/json", "HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def owner(shop_a):
    return shop_a.client(shop_a.owner)


@pytest.fixture
def gamis(owner):
    product = owner.post("/api/crm/products/", {"name": "Gamis Rayon", "variants": [
        {"sku": "GR-M-HTM", "size": "M", "color": "Hitam", "price": 150_000, "stock": 10},
        {"sku": "GR-L-HTM", "size": "L", "color": "Hitam", "price": 160_000, "stock": 5},
    ]}, **JSON)  # fmt: skip
    assert product.status_code == 201, product.content
    return {v["sku"]: v for v in product.json()["variants"]}


@pytest.fixture
def customer(owner):
    return owner.post("/api/crm/contacts/", {"name": "Rina", "phone": "081288880000"}, **JSON).json()


def test_an_order_computes_its_totals_and_updates_the_customer(owner, gamis, customer, shop_a, in_shop):
    created = owner.post("/api/crm/orders/", {
        "contact_id": customer["id"], "items": [{"variant_id": gamis["GR-M-HTM"]["id"], "quantity": 2}],
        "shipping_fee": 10_000, "discount": 5_000, "payment_method": "Transfer BCA",
    }, **JSON)  # fmt: skip
    assert created.status_code == 201, created.content
    order = created.json()
    assert (order["subtotal"], order["total"], order["status"]) == (300_000, 305_000, "new")
    assert order["items"][0]["description"] == "Gamis Rayon / M / Hitam"
    assert order["allowed_transitions"] == ["confirmed", "paid", "cancelled"]
    card = owner.get(f"/api/crm/contacts/{customer['id']}/").json()
    assert (card["order_count"], card["total_spent"]) == (1, 305_000)
    with in_shop(shop_a.shop):
        assert Variant.objects.get(sku="GR-M-HTM").stock == 8


def test_status_flow_and_invalid_transitions(owner, gamis, customer):
    order = owner.post("/api/crm/orders/", {"contact_id": customer["id"],
                       "items": [{"variant_id": gamis["GR-L-HTM"]["id"], "quantity": 1}]}, **JSON).json()  # fmt: skip
    url = f"/api/crm/orders/{order['id']}/status/"
    assert owner.post(url, {"status": "shipped"}, **JSON).json() == {"status": ["Cannot go from new to shipped."]}
    assert owner.post(url, {"status": "confirmed"}, **JSON).json()["status"] == "confirmed"
    no_tracking = owner.post(url, {"status": "shipped"}, **JSON)
    assert no_tracking.status_code == 400 and "tracking_number" in no_tracking.json()
    shipped = owner.post(url, {"status": "shipped", "tracking_number": "JNE123"}, **JSON).json()
    assert [h["status"] for h in shipped["status_history"]] == ["new", "confirmed", "shipped"]
    assert shipped["status_history"][-1]["by_name"] == owner.get("/api/auth/session/").json()["user"]["name"]
    assert owner.post(url, {"status": "new"}, **JSON).status_code == 400


def test_cancelling_returns_stock_and_leaves_the_spend(owner, gamis, customer, shop_a, in_shop):
    order = owner.post("/api/crm/orders/", {"contact_id": customer["id"],
                       "items": [{"variant_id": gamis["GR-L-HTM"]["id"], "quantity": 2}]}, **JSON).json()  # fmt: skip
    owner.post(f"/api/crm/orders/{order['id']}/status/", {"status": "cancelled"}, **JSON)
    with in_shop(shop_a.shop):
        assert Variant.objects.get(sku="GR-L-HTM").stock == 5
        assert Contact.objects.get(pk=customer["id"]).total_spent == 0


def test_the_shipped_notification_goes_through_the_outbound_sender(owner, gamis, customer, shop_a, in_shop):
    with in_shop(shop_a.shop):
        template = MessageTemplate.objects.create(
            name="pesanan_dikirim", language="id", category="utility", status="approved",
            body_text="Halo {{1}}, pesanan {{2}} sudah dikirim. Resi: {{3}}.", parameter_count=3,
        )  # fmt: skip
    assert owner.put("/api/crm/order-notifications/", {"shipped": template.pk}, **JSON).json()["shipped"] == template.pk
    order = owner.post("/api/crm/orders/", {"contact_id": customer["id"],
                       "items": [{"variant_id": gamis["GR-M-HTM"]["id"], "quantity": 1}]}, **JSON).json()  # fmt: skip
    url = f"/api/crm/orders/{order['id']}/status/"
    owner.post(url, {"status": "paid"}, **JSON)
    shipped = owner.post(url, {"status": "shipped", "tracking_number": "JNT-777", "notify": True}, **JSON).json()
    assert shipped["notification"]["status"] == "queued"
    with in_shop(shop_a.shop):
        message = Message.objects.get(pk=shipped["notification"]["message_id"])
        assert message.text == f"Halo Rina, pesanan {order['number']} sudah dikirim. Resi: JNT-777."
        assert message.status == "pending" and message.payload["template"]["name"] == "pesanan_dikirim"
        assert ShopSettings.objects.get().order_templates["shipped"] == template.pk


def test_an_order_from_the_inbox_remembers_its_conversation(owner, gamis, customer, shop_a, in_shop):
    from whatsapp.models import Conversation

    with in_shop(shop_a.shop):
        conversation = Conversation.objects.create(contact_id=customer["id"], last_message_at=timezone.now())
    order = owner.post("/api/crm/orders/", {"contact_id": customer["id"], "conversation_id": conversation.pk,
                       "items": [{"variant_id": gamis["GR-M-HTM"]["id"], "quantity": 1}]}, **JSON).json()  # fmt: skip
    assert order["conversation_id"] == conversation.pk and order["channel"] == "whatsapp"
    listed = owner.get("/api/crm/orders/", {"contact_id": customer["id"]}).json()["results"]
    assert [o["id"] for o in listed] == [order["id"]]


def test_catalog_variants_are_matched_by_sku(owner, gamis):
    products = owner.get("/api/crm/products/", {"q": "gamis"}).json()["results"]
    product_id = products[0]["id"]
    updated = owner.patch(f"/api/crm/products/{product_id}/", {"variants": [
        {"sku": "GR-M-HTM", "size": "M", "color": "Hitam", "price": 155_000, "stock": 9},
    ]}, **JSON).json()  # fmt: skip
    by_sku = {v["sku"]: v for v in updated["variants"]}
    assert by_sku["GR-M-HTM"]["price"] == 155_000 and not by_sku["GR-L-HTM"]["active"]
    assert [v["sku"] for v in owner.get("/api/crm/variants/", {"q": "rayon"}).json()] == ["GR-M-HTM"]
    duplicate = owner.post(
        "/api/crm/products/", {"name": "Lain", "variants": [{"sku": "GR-M-HTM", "price": 1}]}, **JSON
    )
    assert duplicate.status_code == 400
