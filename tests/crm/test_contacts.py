"""Contacts: one card per customer, found by any phone format, never duplicated, mergeable."""

import pytest
from django.utils import timezone

from crm.models import AttributeDefinition, Contact, Label, Order, TimelineEvent
from whatsapp.models import Conversation, Message

pytestmark = pytest.mark.django_db
JSON = {"content_type": "application/json", "HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def owner(shop_a):
    return shop_a.client(shop_a.owner)


def create(client, **fields):
    return client.post("/api/crm/contacts/", {"name": "Sari", **fields}, **JSON)


def test_any_phone_format_finds_the_same_person(owner):
    sari = create(owner, phone="0812-3456-7890").json()
    assert sari["phone"] == "+6281234567890"
    for typed in ("0812 3456", "+62 812-3456", "62812345", "3456 7890", "Sari", "sar"):
        found = owner.get("/api/crm/contacts/", {"q": typed}).json()["results"]
        assert [c["id"] for c in found] == [sari["id"]], typed


def test_a_number_typed_from_its_start_finds_numbers_that_begin_so(owner):
    sari = create(owner, phone="0812-3456-7890").json()
    budi = create(owner, name="Budi", phone="0857-8123-4567").json()  # 812 3456 in the middle of his number

    def found(typed: str) -> list[int]:
        return [c["id"] for c in owner.get("/api/crm/contacts/", {"q": typed}).json()["results"]]

    for typed in ("0812 3456", "+62 812-3456", "62812345"):
        assert found(typed) == [sari["id"]], typed
    assert found("812 3456") == [budi["id"], sari["id"]]  # digits without 0 or 62 in front: anywhere, newest first
    assert found("0857 81") == [budi["id"]]


def test_the_same_phone_never_makes_two_contacts(owner):
    first = create(owner, phone="+62 812 1111 2222").json()
    again = create(owner, name="Sari lagi", phone="0812-1111-2222")
    assert again.status_code == 400
    assert again.json() == {"phone": [f"A contact with this phone number already exists: Sari (#{first['id']})."]}
    bad = create(owner, phone="12")
    assert bad.status_code == 400 and "phone" in bad.json()


def test_labels_attributes_and_consent_are_validated_and_on_the_timeline(owner, shop_a, in_shop):
    with in_shop(shop_a.shop):
        vip = Label.objects.create(name="VIP", color="#ff0000")
        AttributeDefinition.objects.create(key="ukuran", label="Ukuran", type="choice", choices=["S", "M", "L"])
    created = create(owner, phone="081299990000", label_ids=[vip.pk], attributes={"ukuran": "M"}).json()
    assert [label["name"] for label in created["labels"]] == ["VIP"] and created["attributes"] == {"ukuran": "M"}
    wrong = owner.patch(f"/api/crm/contacts/{created['id']}/", {"attributes": {"ukuran": "XXL"}}, **JSON)
    assert wrong.status_code == 400 and "Ukuran" in wrong.json()["attributes"][0]
    owner.patch(f"/api/crm/contacts/{created['id']}/", {"marketing_opt_out": True, "label_ids": []}, **JSON)
    detail = owner.get(f"/api/crm/contacts/{created['id']}/").json()
    assert detail["marketing_opt_out"] and detail["marketing_opt_out_at"] and detail["labels"] == []
    kinds = [item["kind"] for item in owner.get(f"/api/crm/contacts/{created['id']}/timeline/").json()["results"]]
    assert {"created", "label.added", "label.removed", "consent"} <= set(kinds)


def test_notes_and_messages_share_the_timeline(owner, shop_a, in_shop):
    created = create(owner, phone="081277776666").json()
    with in_shop(shop_a.shop):
        conversation = Conversation.objects.create(contact_id=created["id"])
        Message.objects.create(conversation=conversation, direction="in", text="mau pesan 2", status="received")
    owner.post(f"/api/crm/contacts/{created['id']}/notes/", {"text": "Suka warna hitam"}, **JSON)
    items = owner.get(f"/api/crm/contacts/{created['id']}/timeline/").json()["results"]
    summaries = [item["summary"] for item in items]
    assert "Suka warna hitam" in summaries and "mau pesan 2" in summaries
    assert next(i for i in items if i["summary"] == "Suka warna hitam")["actor_name"] == shop_a.owner.name


def test_merging_keeps_all_history(owner, shop_a, in_shop):
    keep = create(owner, phone="081211112222", name="Sari").json()
    other = create(owner, phone="081233334444", name="Sari (nomor lama)", email="sari@example.test").json()
    with in_shop(shop_a.shop):
        other_contact = Contact.objects.get(pk=other["id"])
        Order.objects.create(number="OLD-1", contact=other_contact, total=100_000, status="completed",
                             created_at=timezone.now())  # fmt: skip
        conversation = Conversation.objects.create(contact=other_contact)
        Message.objects.create(conversation=conversation, direction="in", text="dari nomor lama", status="received")
    merged = owner.post(f"/api/crm/contacts/{keep['id']}/merge/", {"other_id": other["id"]}, **JSON).json()
    assert merged["email"] == "sari@example.test" and merged["order_count"] == 1 and merged["total_spent"] == 100_000
    with in_shop(shop_a.shop):
        assert Order.objects.get(number="OLD-1").contact_id == keep["id"]
        assert Message.objects.get(text="dari nomor lama").conversation.contact_id == keep["id"]
        assert TimelineEvent.objects.filter(contact_id=keep["id"], kind="merge").exists()
    assert owner.get(f"/api/crm/contacts/{other['id']}/").status_code == 404
    # The old number now finds the kept card... not a ghost.
    assert [c["id"] for c in owner.get("/api/crm/contacts/", {"q": "0812 1111"}).json()["results"]] == [keep["id"]]


def test_bulk_labels_and_owner(owner, shop_a, in_shop):
    ids = [create(owner, name=f"C{n}", phone=f"08121000000{n}").json()["id"] for n in range(3)]
    with in_shop(shop_a.shop):
        promo = Label.objects.create(name="Promo")
    done = owner.post("/api/crm/contacts/bulk/", {"ids": ids[:2], "add_label_ids": [promo.pk],
                                                 "owner_id": shop_a.agent.pk}, **JSON).json()  # fmt: skip
    assert done == {"updated": 2}
    listed = owner.get("/api/crm/contacts/", {"label": promo.pk}).json()["results"]
    assert sorted(c["id"] for c in listed) == sorted(ids[:2])
    assert {c["owner_name"] for c in listed} == {shop_a.agent.name}


def test_the_list_pages_with_a_cursor_and_a_bounded_number_of_queries(owner, shop_a, in_shop,
                                                                      django_assert_max_num_queries):  # fmt: skip
    with in_shop(shop_a.shop):
        label = Label.objects.create(name="Pelanggan")
        for n in range(60):
            contact = Contact.objects.create(name=f"Pelanggan {n}", phone=f"+62812200000{n:02d}")
            contact.labels.add(label)
    with django_assert_max_num_queries(12):
        first = owner.get("/api/crm/contacts/", {"label": label.pk}).json()
    assert len(first["results"]) == 50 and first["next_cursor"]
    second = owner.get("/api/crm/contacts/", {"label": label.pk, "cursor": first["next_cursor"]}).json()
    assert len(second["results"]) == 10 and second["next_cursor"] is None
    assert not {c["id"] for c in first["results"]} & {c["id"] for c in second["results"]}
