"""Segments: every rule type on hand-checked contacts, nesting, RFM groups, built-ins, the API and its CSV."""

import csv
import io
import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone, translation
from django_tenants.utils import schema_context

from crm import tasks
from crm.models import (
    AttributeDefinition,
    Contact,
    ContactRfm,
    Label,
    Order,
    OrderItem,
    Product,
    Segment,
    ShopSettings,
)
from crm.services import contacts, segments
from crm.services.contacts import refresh_order_aggregates
from tenants import provisioning
from tenants.services.errors import ServiceError
from tests.conftest import ShopWorld

pytestmark = pytest.mark.django_db
JSON = {"content_type": "application/json", "HTTP_ACCEPT_LANGUAGE": "en"}


def request_queries(own: int) -> int:
    """A request's tenant, session, user and membership, then the view's own queries (django-tenants sends a
    SET search_path before each one)."""
    return 8 + 2 * own


@pytest.fixture(scope="module")
def world(committed):
    """A shop of its own, so that counts over "all contacts" are exactly this file's contacts."""
    provisioning.refill_pool(4)
    return ShopWorld("segments")


def _order(contact, number, days_ago, total, product=None, status="completed"):
    order = Order.objects.create(
        number=number, contact=contact, status=status, total=total,
        created_at=timezone.now() - timedelta(days=days_ago),
    )  # fmt: skip
    if product is not None:
        OrderItem.objects.create(
            order=order, product_id=product.pk, description=product.name, quantity=1, unit_price=total,
            line_total=total,
        )  # fmt: skip


@pytest.fixture
def people(world):
    """Ani, Budi, Citra and Eka (and Dedi, merged into Ani), with labels, fields, consent and orders."""
    with schema_context(world.shop.schema_name):
        vip, reseller = Label.objects.create(name="VIP"), Label.objects.create(name="Reseller")
        for key, kind, choices in [
            ("size", "text", []), ("budget", "number", []), ("joined", "date", []),
            ("tier", "choice", ["gold", "silver"]), ("member", "checkbox", []),
        ]:  # fmt: skip
            AttributeDefinition.objects.create(key=key, label=key.title(), type=kind, choices=choices)
        kemeja, sarung = Product.objects.create(name="Kemeja"), Product.objects.create(name="Sarung")
        now = timezone.now()
        ani = Contact.objects.create(
            name="Ani", phone="+6281100000001", city="Bandung", last_inbound_at=now - timedelta(days=1),
            attributes={"size": "L", "budget": 250000, "joined": "2025-01-15", "tier": "gold", "member": True},
        )  # fmt: skip
        budi = Contact.objects.create(
            name="Budi", phone="+6281100000002", city="Jakarta Selatan", marketing_opt_out=True,
            attributes={"size": "M", "budget": 100000, "joined": "2025-06-01", "tier": "silver", "member": False},
        )  # fmt: skip
        citra = Contact.objects.create(
            name="Citra", phone="+6281100000003", city="bandung", attributes={"size": "XL", "joined": "2025-03-10"}
        )
        eka = Contact.objects.create(name="Eka", phone="+6281100000004", attributes={"budget": "banyak"})
        dedi = Contact.objects.create(name="Dedi", phone="+6281100000005", city="Bandung", merged_into=ani)
        ani.labels.add(vip)
        citra.labels.add(vip, reseller)
        dedi.labels.add(vip)
        _order(ani, "A-1", 200, 300000, kemeja)
        _order(ani, "A-2", 40, 300000, sarung)
        _order(ani, "A-3", 5, 300000, kemeja)
        _order(budi, "B-1", 120, 150000, sarung)
        _order(budi, "B-2", 10, 500000, kemeja, status="cancelled")  # never "bought"
        for day in range(5):
            _order(eka, f"E-{day}", 400 + day, 400000)
        for contact in (ani, budi, eka):
            refresh_order_aggregates(contact)
    return {"vip": vip, "reseller": reseller, "kemeja": kemeja, "sarung": sarung}


def _names(world, rules) -> list[str]:
    with schema_context(world.shop.schema_name):
        return sorted(segments.segment_queryset(rules).values_list("name", flat=True))


def rule(field, operator, value=None) -> dict:
    return {"field": field, "operator": operator, "value": value}


def _case(field, operator, value, expected):
    return pytest.param(rule(field, operator, value), expected, id=f"{field}-{operator}")


# Ani: 3 orders / 900,000, last 5 days ago, first 200; Budi: 1 / 150,000 at 120 days (a cancelled one at 10);
# Citra: no orders, never wrote; Eka: 5 orders / 2,000,000, last 400 days ago.
RULE_CASES = [
    ("label", "has", "vip", ["Ani", "Citra"]),
    ("label", "has_not", "vip", ["Budi", "Eka"]),
    ("city", "is", "BANDUNG", ["Ani", "Citra"]),
    ("city", "is_not", "Bandung", ["Budi", "Eka"]),
    ("city", "contains", "jakarta", ["Budi"]),
    ("attribute:size", "is", "l", ["Ani"]),
    ("attribute:size", "contains", "L", ["Ani", "Citra"]),
    ("attribute:budget", "eq", 100000, ["Budi"]),
    ("attribute:budget", "gt", 100000, ["Ani"]),
    ("attribute:budget", "lt", 250000, ["Budi"]),  # Eka's "banyak" is not a number: never matches
    ("attribute:budget", "between", [100000, 250000], ["Ani", "Budi"]),
    ("attribute:joined", "before", "2025-03-10", ["Ani"]),
    ("attribute:joined", "after", "2025-03-10", ["Budi"]),
    ("attribute:joined", "between", ["2025-03-10", "2025-06-01"], ["Budi", "Citra"]),
    ("attribute:tier", "is", "gold", ["Ani"]),
    ("attribute:tier", "in", ["gold", "silver"], ["Ani", "Budi"]),
    ("attribute:member", "is_true", None, ["Ani"]),
    ("attribute:member", "is_false", None, ["Budi", "Citra", "Eka"]),
    ("consent", "is", "opted_out", ["Budi"]),
    ("consent", "is", "opted_in", ["Ani", "Citra", "Eka"]),
    ("total_spent", "gt", 900000, ["Eka"]),
    ("total_spent", "lt", 900000, ["Budi", "Citra"]),
    ("total_spent", "between", [150000, 900000], ["Ani", "Budi"]),
    ("order_count", "eq", 0, ["Citra"]),
    ("order_count", "gt", 1, ["Ani", "Eka"]),
    ("order_count", "lt", 3, ["Budi", "Citra"]),
    ("order_count", "between", [1, 3], ["Ani", "Budi"]),
    ("last_order_at", "within_days", 30, ["Ani"]),
    ("last_order_at", "not_within_days", 30, ["Budi", "Eka"]),
    ("last_order_at", "never", None, ["Citra"]),
    ("first_order_at", "within_days", 300, ["Ani", "Budi"]),
    ("last_inbound_at", "within_days", 2, ["Ani"]),
    ("last_inbound_at", "never", None, ["Budi", "Citra", "Eka"]),
    ("activity", "is", "active", ["Ani"]),  # default window: 90 days
    ("activity", "is", "passive", ["Budi", "Eka"]),
    ("activity", "is", "loyal", ["Ani", "Eka"]),  # at least 3 orders
]


@pytest.mark.parametrize(("rules", "expected"), [_case(*case) for case in RULE_CASES])
def test_each_rule_type_selects_the_hand_checked_contacts(world, people, rules, expected):
    if rules["field"] == "label":
        rules = {**rules, "value": people[rules["value"]].pk}
    assert _names(world, rules) == expected


def test_dates_before_and_after_are_whole_days_in_the_shop_time_zone(world, people):
    with schema_context(world.shop.schema_name):
        ani = Contact.objects.get(name="Ani")
        # 23:30 in Jakarta on 1 March is still 1 March there (16:30 UTC).
        Contact.objects.filter(pk=ani.pk).update(last_order_at="2026-03-01T16:30:00Z")
    assert "Ani" in _names(world, rule("last_order_at", "before", "2026-03-02"))
    assert "Ani" not in _names(world, rule("last_order_at", "after", "2026-03-01"))
    assert "Ani" in _names(world, rule("last_order_at", "after", "2026-02-28"))


def test_product_bought_counts_only_orders_that_were_not_cancelled(world, people):
    assert _names(world, rule("product_bought", "is", people["kemeja"].pk)) == ["Ani"]
    assert _names(world, rule("product_bought", "is", people["sarung"].pk)) == ["Ani", "Budi"]


def test_nested_and_or_groups_combine_as_written(world, people):
    # (VIP and (in Bandung or spent over 1,000,000)) or (opted out and no order in 30 days)
    #   VIP: Ani, Citra; Bandung: Ani, Citra; > 1,000,000: Eka → first half: Ani, Citra
    #   opted out: Budi; not within 30 days: Budi, Eka → second half: Budi
    rules = {
        "op": "or",
        "rules": [
            {
                "op": "and",
                "rules": [
                    rule("label", "has", people["vip"].pk),
                    {"op": "or", "rules": [rule("city", "is", "bandung"), rule("total_spent", "gt", 1000000)]},
                ],
            },
            {"op": "and", "rules": [rule("consent", "is", "opted_out"), rule("last_order_at", "not_within_days", 30)]},
        ],
    }
    assert _names(world, rules) == ["Ani", "Budi", "Citra"]
    # The same, but the VIP branch also needs an order: Citra has none.
    rules["rules"][0]["rules"].append(rule("order_count", "gt", 0))
    assert _names(world, rules) == ["Ani", "Budi"]


def test_empty_rules_match_every_contact_but_never_a_merged_one(world, people):
    assert _names(world, {}) == ["Ani", "Budi", "Citra", "Eka"]
    assert _names(world, {"op": "and", "rules": []}) == ["Ani", "Budi", "Citra", "Eka"]


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (rule("shoe_size", "is", "42"), "Rule 1 (shoe_size is): unknown field “shoe_size”."),
        (
            {"op": "and", "rules": [rule("city", "is", "Bandung"), {"op": "or", "rules": [rule("city", "near", "x")]}]},
            "Rule 2.1 (city near): unknown operator; use one of: is, is_not, contains.",
        ),
        (rule("order_count", "gt", "many"), "Rule 1 (order_count gt): the value must be a whole number."),
        (
            rule("total_spent", "between", [5, 1]),
            "Rule 1 (total_spent between): the low value is above the high value.",
        ),
        (rule("attribute:shoe", "is", "x"), "Rule 1 (attribute:shoe is): there is no contact field “shoe”."),
        (
            rule("rfm_segment", "is", "vip"),
            "Rule 1 (rfm_segment is): the value must be one of: "
            "new, champions, loyal, potential, at_risk, hibernating, lost.",
        ),
        ({"op": "xor", "rules": []}, "Group 1 needs “op” (and / or) and a list of “rules”."),
    ],
)
def test_bad_rules_are_refused_naming_the_rule(world, people, rules, message):
    with schema_context(world.shop.schema_name), translation.override("en"), pytest.raises(ServiceError) as refused:
        segments.segment_queryset(rules)
    assert (refused.value.field, refused.value.message) == ("rules", message)


# --- RFM

# name: (days since last order, orders, spent) → hand-computed R, F, M and group; see RFM_FIXTURE notes below.
RFM_FIXTURE = {
    "A": (2, 12, 9_000_000, (5, 5, 5), "champions"),
    "B": (3, 1, 50_000, (5, 1, 1), "new"),
    "C": (10, 8, 5_000_000, (4, 5, 5), "champions"),
    "D": (20, 2, 200_000, (4, 2, 2), "potential"),
    "E": (40, 6, 3_000_000, (3, 4, 4), "loyal"),
    "F": (60, 1, 80_000, (3, 1, 2), "hibernating"),  # FM = round-half-up((1 + 2) / 2) = 2
    "G": (100, 7, 4_000_000, (2, 4, 4), "at_risk"),
    "H": (150, 3, 400_000, (2, 3, 3), "at_risk"),
    "I": (300, 5, 1_000_000, (1, 3, 3), "at_risk"),
    # NTILE puts the three one-order customers B, F, J (in id order) in tiles 1, 1, 2; equal values share
    # the lowest, so J's frequency is 1, not 2.
    "J": (400, 1, 60_000, (1, 1, 1), "lost"),
}


@pytest.fixture
def customers(world):
    now = timezone.now()
    with schema_context(world.shop.schema_name):
        for name, (days, orders, spent, _scores, _group) in RFM_FIXTURE.items():
            Contact.objects.create(
                name=name, order_count=orders, total_spent=spent, first_order_at=now - timedelta(days=days + 30),
                last_order_at=now - timedelta(days=days),
            )  # fmt: skip
        stale = Contact.objects.create(name="no orders any more")
        ContactRfm.objects.create(contact=stale, recency=5, frequency=5, monetary=5, segment="champions")
        merged_into = Contact.objects.get(name="A")
        merged = Contact.objects.create(
            name="merged", order_count=9, total_spent=1, last_order_at=now, merged_into=merged_into
        )
        ContactRfm.objects.create(contact=merged, recency=5, frequency=1, monetary=1, segment="new")


def scores_by_name() -> dict:
    """Each contact's ((R, F, M), group); no scores are (None, None, None) and group ""."""
    rows = {}
    for contact in Contact.objects.select_related("rfm"):
        rfm = getattr(contact, "rfm", None)
        rows[contact.name] = ((rfm.recency, rfm.frequency, rfm.monetary), rfm.segment) if rfm else ((None,) * 3, "")
    return rows


def written_scores() -> list:
    """Each score row's id and the transaction that last wrote it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT contact_id, xmin::text FROM crm_contactrfm ORDER BY contact_id")
        return cursor.fetchall()


def test_rfm_scores_and_groups_match_the_hand_computed_quintiles(world, customers):
    with schema_context(world.shop.schema_name):
        scored, at = segments.refresh_rfm()
        rows = scores_by_name()
        assert ShopSettings.objects.get().rfm_refreshed_at == at
    assert scored == 10
    assert {name: rows[name] for name in RFM_FIXTURE} == {
        name: (scores, group) for name, (*_values, scores, group) in RFM_FIXTURE.items()
    }
    assert rows["no orders any more"] == ((None, None, None), "")
    assert rows["merged"] == ((None, None, None), "")


def test_refreshing_again_reports_every_customer_and_leaves_contact_lists_in_their_order(world, customers):
    with schema_context(world.shop.schema_name):
        segments.refresh_rfm()
        before = list(Contact.objects.order_by("pk").values_list("rfm__segment", "updated_at"))
        scores = written_scores()
        assert segments.refresh_rfm()[0] == 10
        assert list(Contact.objects.order_by("pk").values_list("rfm__segment", "updated_at")) == before
        assert written_scores() == scores  # unchanged scores are not written again


def test_a_merged_customer_leaves_the_rfm_groups_at_once(world, customers):
    with schema_context(world.shop.schema_name):
        segments.refresh_rfm()
        before = {row["key"]: row["count"] for row in segments.builtin_counts()}
        lost = Contact.objects.get(name="J")
        contacts.merge(Contact.objects.get(name="A"), lost, actor_id=None)
        after = {row["key"]: row["count"] for row in segments.builtin_counts()}
        assert not ContactRfm.objects.filter(contact=lost).exists()
    assert (before["rfm:lost"], after["rfm:lost"]) == (1, 0)


def test_the_nightly_task_refreshes_the_shop_it_runs_in(world, customers):
    with schema_context(world.shop.schema_name):
        assert tasks.refresh_rfm() == 10
        assert ContactRfm.objects.get(contact__name="J").segment == "lost"


def test_the_rfm_table_gives_every_score_triple_exactly_one_group():
    groups = {segments.rfm_group(r, f, m) for r, f, m in itertools.product(range(1, 6), repeat=3)}
    assert groups == set(segments.RFM_KEYS)
    assert [segments.rfm_group(5, fm, fm) for fm in range(1, 6)] == [
        "new", "potential", "loyal", "champions", "champions"
    ]  # fmt: skip
    assert [segments.rfm_group(1, fm, fm) for fm in range(1, 6)] == ["lost", "lost", "at_risk", "at_risk", "at_risk"]


def test_refresh_api_then_builtin_segments_with_their_counts(world, customers):
    owner = world.client(world.owner)
    refreshed = owner.post("/api/crm/rfm/refresh/", **JSON)
    assert refreshed.status_code == 200 and refreshed.json()["refreshed"] == 10
    rows = owner.get("/api/crm/segments/builtin/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert [row["key"] for row in rows][:2] + [row["key"] for row in rows][-3:] == [
        "rfm:champions", "rfm:loyal", "active", "passive", "loyal"
    ]  # fmt: skip
    assert rows[0]["name"] == "Champions"
    counts = {row["key"]: row["count"] for row in rows}
    assert counts == {
        "rfm:new": 1, "rfm:champions": 2, "rfm:loyal": 1, "rfm:potential": 1, "rfm:at_risk": 3,
        "rfm:hibernating": 1, "rfm:lost": 1,
        "active": 6,  # ordered within 90 days: A-F
        "passive": 4,  # G-J
        "loyal": 6,  # 3 orders or more: A, C, E, G, H, I
    }  # fmt: skip
    at_risk = owner.get("/api/crm/segments/builtin/rfm:at_risk/contacts/").json()
    assert sorted(c["name"] for c in at_risk["results"]) == ["G", "H", "I"]
    assert {c["rfm_segment"] for c in at_risk["results"]} == {"at_risk"}
    assert at_risk["next_cursor"] is None
    listed = {c["name"]: c["rfm_segment"] for c in owner.get("/api/crm/contacts/").json()["results"]}
    assert (listed["J"], listed["no orders any more"]) == ("lost", "")
    assert owner.get("/api/crm/segments/builtin/rfm:vip/contacts/").status_code == 404


def test_active_and_passive_follow_the_shop_settings(world, customers):
    with schema_context(world.shop.schema_name):
        ShopSettings.objects.update(active_window_days=30, loyal_min_orders=7)
    counts = {row["key"]: row["count"] for row in world.client(world.agent).get("/api/crm/segments/builtin/").json()}
    assert (counts["active"], counts["passive"], counts["loyal"]) == (4, 6, 3)  # A-D; E-J; A, C, G


# --- API


def test_staff_save_preview_edit_and_delete_a_segment(world, people, django_assert_max_num_queries):
    agent = world.client(world.agent)
    rules = rule("city", "is", "bandung")
    with django_assert_max_num_queries(request_queries(1)):
        preview = agent.post("/api/crm/segments/preview/", {"rules": rules}, **JSON)
    assert preview.json() == {"count": 2}

    created = agent.post("/api/crm/segments/", {"name": "Orang Bandung", "rules": rules}, **JSON)
    assert created.status_code == 201
    body = created.json()
    assert (body["name"], body["rules"], body["count"]) == ("Orang Bandung", rules, 2)
    again = agent.post("/api/crm/segments/", {"name": "Orang Bandung", "rules": {}}, **JSON)
    assert again.json() == {"name": ["A segment with this name already exists."]}

    listed = agent.get("/api/crm/segments/").json()
    assert [s["name"] for s in listed["results"]] == ["Orang Bandung"] and listed["next_cursor"] is None

    url = f"/api/crm/segments/{body['id']}/"
    changed = agent.patch(url, {"rules": {"op": "and", "rules": [rules, rule("order_count", "gt", 0)]}}, **JSON)
    assert changed.json()["count"] == 1
    assert agent.get(url).json()["count"] == 1

    bad = agent.patch(url, {"rules": rule("city", "near", "x")}, **JSON)
    assert bad.status_code == 400
    assert bad.json() == {"rules": ["Rule 1 (city near): unknown operator; use one of: is, is_not, contains."]}

    assert agent.delete(url).status_code == 403
    assert world.client(world.owner).delete(url).status_code == 204
    with schema_context(world.shop.schema_name):
        assert not Segment.objects.exists()


def test_segment_contacts_are_paged_with_a_cursor(world, django_assert_max_num_queries):
    with schema_context(world.shop.schema_name):
        Contact.objects.bulk_create(Contact(name=f"Pelanggan {n}", city="Medan") for n in range(55))
        segment = Segment.objects.create(name="Medan", rules=rule("city", "is", "Medan"))
    agent = world.client(world.agent)
    url = f"/api/crm/segments/{segment.pk}/contacts/"
    with django_assert_max_num_queries(request_queries(2)):
        first = agent.get(url).json()
    second = agent.get(url, {"cursor": first["next_cursor"]}).json()
    assert (len(first["results"]), len(second["results"]), second["next_cursor"]) == (50, 5, None)
    assert set(first["results"][0]) == {
        "id", "name", "phone", "email", "city", "total_spent", "order_count", "last_order_at", "rfm_segment"
    }  # fmt: skip
    ids = [c["id"] for c in first["results"] + second["results"]]
    assert len(set(ids)) == 55 and ids == sorted(ids, reverse=True)


def test_segment_export_is_a_csv_for_excel(world, people):
    with schema_context(world.shop.schema_name):
        Contact.objects.create(name="=HYPERLINK(1)", city="Bandung", phone="+6281100000009")
        segment = Segment.objects.create(name="Bandung", rules=rule("city", "is", "Bandung"))
        ani = Contact.objects.get(name="Ani")
    response = world.client(world.agent).get(f"/api/crm/segments/{segment.pk}/export/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="segment-{segment.pk}.csv"'
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(content.removeprefix("\ufeff"))))
    assert rows[0] == ["ID", "Name", "Phone", "Email", "City", "Total spent", "Orders", "Last order", "RFM group"]
    last_order = ani.last_order_at.astimezone(segments.shop_zone()).strftime("%Y-%m-%d %H:%M")
    assert rows[1:] == [
        [str(ani.pk), "Ani", "+6281100000001", "", "Bandung", "900000", "3", last_order, ""],
        [str(ani.pk + 2), "Citra", "+6281100000003", "", "bandung", "0", "0", "", ""],
        [rows[3][0], "'=HYPERLINK(1)", "+6281100000009", "", "Bandung", "0", "0", "", ""],
    ]


def test_segments_need_a_member_of_the_shop(world):
    anonymous = world.client()
    assert anonymous.get("/api/crm/segments/").status_code in (401, 403)
    assert anonymous.post("/api/crm/segments/preview/", {"rules": {}}, **JSON).status_code in (401, 403)
