"""The analytics dashboard on a hand-checked shop: 1-10 March 2026 (Jakarta) against 19-28 February."""

import csv
import datetime as dt
import io
import zoneinfo

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import schema_context

from crm.models import Contact, DailyStats, Deal, Order, OrderItem, OrderSequence, Product, ProductDay, Stage, Variant
from crm.services import analytics, contacts, orders, pipeline, rollups
from crm.services.contacts import refresh_order_aggregates
from tenants import provisioning
from tests.conftest import ShopWorld
from whatsapp.models import Conversation, Message

pytestmark = pytest.mark.django_db
JAKARTA = zoneinfo.ZoneInfo("Asia/Jakarta")
PERIOD = {"from": "2026-03-01", "to": "2026-03-10"}


def at(text: str) -> dt.datetime:
    """A Jakarta wall-clock time, "2026-03-10 23:30"."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=JAKARTA)


@pytest.fixture(scope="module")
def world(committed):
    provisioning.refill_pool(4)
    return ShopWorld("analytics")


@pytest.fixture
def shop(world):
    """Seven customers, their orders, chats and deals. Every number asserted below is counted from here."""
    with schema_context(world.shop.schema_name):
        people = {
            name: Contact.objects.create(name=name, phone=f"+62811000001{n}", created_at=at(created))
            for n, (name, created) in enumerate(
                [
                    ("Ani", "2026-03-02 08:00"),
                    ("Budi", "2026-02-20 08:00"),
                    ("Citra", "2026-03-10 23:30"),
                    ("Dewi", "2026-03-11 00:30"),  # the day after the period, in Jakarta
                    ("Eko", "2025-06-01 08:00"),
                    ("Fajar", "2025-01-01 08:00"),
                    ("Gita", "2025-01-01 08:00"),
                ]
            )
        }
        kemeja, sarung, peci = (Product.objects.create(name=n) for n in ("Kemeja", "Sarung", "Peci"))
        orders = [
            ("Ani", "2026-03-02 10:00", [(kemeja, 2, 100_000)], "completed"),
            ("Ani", "2026-03-05 10:00", [(sarung, 1, 300_000)], "paid"),
            ("Budi", "2026-02-21 10:00", [(kemeja, 1, 50_000)], "completed"),
            ("Budi", "2026-03-03 10:00", [(kemeja, 4, 200_000)], "completed"),
            ("Citra", "2026-03-06 10:00", [(kemeja, 10, 500_000)], "cancelled"),
            ("Citra", "2026-03-10 23:30", [(peci, 1, 80_000)], "new"),
            ("Dewi", "2026-03-11 00:30", [(sarung, 3, 999_000)], "new"),
            ("Eko", "2025-10-01 10:00", [(peci, 1, 70_000)], "completed"),
            ("Eko", "2026-02-25 10:00", [(peci, 1, 40_000)], "completed"),
            ("Eko", "2026-03-04 10:00", [(peci, 1, 120_000)], "completed"),
            ("Fajar", "2025-08-01 10:00", [(peci, 1, 70_000)], "completed"),
            ("Gita", "2025-12-05 10:00", [(peci, 1, 70_000)], "completed"),
        ]
        for number, (name, when, items, status) in enumerate(orders):
            total = sum(line for _product, _quantity, line in items)
            order = Order.objects.create(
                number=f"T-{number}", contact=people[name], status=status, total=total, created_at=at(when)
            )
            for product, quantity, line in items:
                OrderItem.objects.create(
                    order=order, product_id=product.pk, description=product.name, quantity=quantity,
                    unit_price=line // quantity, line_total=line,
                )  # fmt: skip
        for contact in people.values():
            refresh_order_aggregates(contact)

        chats = {
            "Ani": [
                ("in", "2026-03-03 09:00:00", False),  # waits; the auto-reply answers in 5 s
                ("out", "2026-03-03 09:00:05", True),
                ("in", "2026-03-03 09:01:00", False),  # waits; staff answer 600 s later
                ("in", "2026-03-03 09:02:00", False),  # still the same wait
                ("note", "2026-03-03 09:05:00", False),
                ("out", "2026-03-03 09:11:00", False),
            ],
            "Budi": [
                ("out", "2026-02-21 10:30:00", False),  # previous period
                ("in", "2026-03-04 10:00:00", False),  # waits; auto-reply in 2 s
                ("out", "2026-03-04 10:00:02", True),
                ("in", "2026-03-04 10:05:00", False),  # waits; staff in 1800 s
                ("out", "2026-03-04 10:35:00", False),
            ],
            "Citra": [
                ("in", "2026-02-28 23:00:00", False),  # previous period
                ("in", "2026-03-01 08:00:00", False),  # not a new wait: she was already waiting
                ("out", "2026-03-01 08:20:00", False),
                ("in", "2026-03-02 12:00:00", False),  # waits; staff in 120 s
                ("out", "2026-03-02 12:02:00", False),
            ],
            "Eko": [
                ("in", "2026-03-10 23:00:00", False),  # waits; answered after the period, 7200 s later
                ("out", "2026-03-11 01:00:00", False),
            ],
        }
        for name, messages in chats.items():
            conversation = Conversation.objects.create(contact=people[name])
            for direction, when, automated in messages:
                Message.objects.create(
                    conversation=conversation, direction=direction, automated=automated, created_at=at(when),
                    status="received" if direction == "in" else "read", text="…",
                )  # fmt: skip

        stages = {stage.kind: stage for stage in Stage.objects.order_by("-position")}
        contacted = Stage.objects.get(name="Dihubungi")
        Deal.objects.create(
            title="Seragam kantor", contact=people["Ani"], stage=stages["won"], created_at=at("2026-03-01 09:00"),
            contacted_at=at("2026-03-02 09:00"), closed_at=at("2026-03-06 09:00"),
        )  # fmt: skip
        Deal.objects.create(
            title="Grosir peci", contact=people["Budi"], stage=contacted, created_at=at("2026-03-01 09:00"),
            contacted_at=at("2026-03-03 09:00"),
        )  # fmt: skip
        Deal.objects.create(
            title="Sarung lebaran", contact=people["Eko"], stage=stages["won"], created_at=at("2026-02-19 09:00"),
            contacted_at=at("2026-02-20 09:00"), closed_at=at("2026-02-25 09:00"),
        )  # fmt: skip
        # Made with the ORM at chosen times, past the services that keep the rollups: rebuilt as after a bulk load.
        rollups.rebuild_daily_rollups()
    return {"kemeja": kemeja, "sarung": sarung, "peci": peci, "people": people}


def test_kpis_for_the_period_and_the_one_before(world, shop):
    body = world.client(world.agent).get("/api/crm/analytics/", PERIOD).json()
    assert (body["from"], body["to"], body["previous_from"], body["previous_to"]) == (
        "2026-03-01", "2026-03-10", "2026-02-19", "2026-02-28"
    )  # fmt: skip
    assert body["kpis"] == {
        "new_contacts": {"value": 2, "previous": 1},  # Ani, Citra (23:30 on the 10th); Budi. Dewi is the 11th.
        # As of each period's end, an order in the 90 days before it: Ani, Budi, Citra, Eko; Budi, Eko, Gita.
        "active_customers": {"value": 4, "previous": 3},
        # Ordered before the end but not active: Fajar and Gita; Fajar.
        "passive_customers": {"value": 2, "previous": 1},
        "orders": {"value": 5, "previous": 2},  # Citra's cancelled order and Dewi's (the 11th) left out
        "revenue": {"value": 800_000, "previous": 90_000},
        "average_order_value": {"value": 160_000, "previous": 45_000},
        # Ani (2 in the period), Budi and Eko (earlier orders) of Ani, Budi, Citra, Eko; Eko (October) of Budi, Eko.
        "repeat_purchase_rate": {"value": "0.7500", "previous": "0.5000"},
        # Won / contacted: Ani's deal of Ani's and Budi's; Eko's of Eko's.
        "closing_rate": {"value": "0.5000", "previous": "1.0000"},
        "messages_in": {"value": 8, "previous": 1},
        "messages_out": {"value": 6, "previous": 1},  # notes never count; Eko's answer is on the 11th
    }


def test_the_closing_rate_is_the_pipeline_s_own(world, shop):
    with schema_context(world.shop.schema_name):
        metrics = pipeline.pipeline_metrics(dt.date(2026, 3, 1), dt.date(2026, 3, 10), time_zone="Asia/Jakarta")
        period = analytics.parse_period("2026-03-01", "2026-03-10", "Asia/Jakarta")
        assert analytics.closing_rate_counts(period)["value"] == metrics["closing_rate"]


def test_first_response_times_for_staff_and_auto_replies_apart(world, shop):
    body = world.client(world.agent).get("/api/crm/analytics/", PERIOD).json()
    # Staff: 120, 600, 1800, 7200 s → median (600 + 1800) / 2; p90 = 1800 + 0.7 × (7200 - 1800).
    # Auto-replies: 2 and 5 s → median 3.5 (rounded to 4), p90 = 2 + 0.9 × 3 = 4.7 (rounded to 5).
    assert body["first_response"] == {
        "human": {"p50_seconds": 1200, "p90_seconds": 5580, "count": 4},
        "automated": {"p50_seconds": 4, "p90_seconds": 5, "count": 2},
    }


def test_top_products_customers_daily_trend_and_funnel(world, shop):
    body = world.client(world.agent).get("/api/crm/analytics/", PERIOD).json()
    kemeja, sarung, peci = shop["kemeja"], shop["sarung"], shop["peci"]
    assert body["top_products"] == [
        {"product_id": kemeja.pk, "name": "Kemeja", "quantity": 6, "revenue": 300_000},
        {"product_id": sarung.pk, "name": "Sarung", "quantity": 1, "revenue": 300_000},
        {"product_id": peci.pk, "name": "Peci", "quantity": 2, "revenue": 200_000},
    ]
    people = shop["people"]
    assert [(c["contact_id"], c["name"], c["orders"], c["revenue"]) for c in body["top_customers"]] == [
        (people["Ani"].pk, "Ani", 2, 400_000),
        (people["Budi"].pk, "Budi", 1, 200_000),
        (people["Eko"].pk, "Eko", 1, 120_000),
        (people["Citra"].pk, "Citra", 1, 80_000),
    ]
    assert body["bucket"] == "day"
    assert [(d["date"], d["orders"], d["revenue"]) for d in body["trend"]] == [
        ("2026-03-01", 0, 0), ("2026-03-02", 1, 100_000), ("2026-03-03", 1, 200_000), ("2026-03-04", 1, 120_000),
        ("2026-03-05", 1, 300_000), ("2026-03-06", 0, 0), ("2026-03-07", 0, 0), ("2026-03-08", 0, 0),
        ("2026-03-09", 0, 0), ("2026-03-10", 1, 80_000),
    ]  # fmt: skip
    # Both deals created in the period passed "Prospek" and "Dihubungi"; only Ani's went on (and was won).
    assert [(row["name"], row["reached"]) for row in body["funnel"]] == [
        ("Prospek", 2), ("Dihubungi", 2), ("Negosiasi", 1), ("Menang", 1)
    ]  # fmt: skip


def test_a_period_longer_than_92_days_is_shown_by_week(world, shop):
    body = world.client(world.agent).get("/api/crm/analytics/", {"from": "2025-11-01", "to": "2026-03-10"}).json()
    assert body["bucket"] == "week"
    weeks = {d["date"]: (d["orders"], d["revenue"]) for d in body["trend"]}
    assert (body["trend"][0]["date"], body["trend"][-1]["date"], len(weeks)) == ("2025-10-27", "2026-03-09", 20)
    assert weeks["2025-12-01"] == (1, 70_000)  # Gita, Friday 5 December
    assert weeks["2026-02-16"] == (1, 50_000)  # Budi, the 21st
    assert weeks["2026-02-23"] == (1, 40_000)  # Eko, the 25th
    assert weeks["2026-03-02"] == (4, 720_000)  # the 2nd to the 5th
    assert weeks["2026-03-09"] == (1, 80_000)  # Citra at 23:30 on the 10th
    assert sum(orders for orders, _revenue in weeks.values()) == 8


def test_the_dashboard_is_a_fixed_number_of_queries(world, shop, django_assert_max_num_queries):
    with schema_context(world.shop.schema_name):
        period = analytics.parse_period(PERIOD["from"], PERIOD["to"], "Asia/Jakarta")
        # 12 statements (settings, 5 KPI aggregates, first response, 2 + 1 for the top tables, trend, 2 for the
        # funnel), each preceded by django-tenants' SET search_path.
        with django_assert_max_num_queries(2 * 12):
            analytics.dashboard(period)


def test_tables_export_as_csv(world, shop):
    agent = world.client(world.agent)
    response = agent.get("/api/crm/analytics/export/top_customers/", PERIOD)
    assert response["Content-Disposition"] == 'attachment; filename="top_customers-2026-03-01-2026-03-10.csv"'
    content = response.content.decode("utf-8")
    assert content.startswith("\ufeff")
    ani = shop["people"]["Ani"].pk
    assert list(csv.reader(io.StringIO(content.removeprefix("\ufeff"))))[:2] == [
        ["contact_id", "name", "orders", "revenue"],
        [str(ani), "Ani", "2", "400000"],
    ]
    trend = agent.get("/api/crm/analytics/export/trend/", PERIOD).content.decode("utf-8").removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(trend)))
    assert (rows[0], rows[2], len(rows)) == (["date", "orders", "revenue"], ["2026-03-02", "1", "100000"], 11)
    assert agent.get("/api/crm/analytics/export/everything/", PERIOD).status_code == 404


def test_the_default_period_is_the_last_30_days_and_bad_dates_are_refused(world):
    agent = world.client(world.agent)
    body = agent.get("/api/crm/analytics/").json()
    today = timezone.now().astimezone(JAKARTA).date()
    assert (body["to"], body["from"]) == (today.isoformat(), (today - dt.timedelta(days=29)).isoformat())
    assert body["previous_to"] == (today - dt.timedelta(days=30)).isoformat()
    assert body["kpis"]["orders"] == {"value": 0, "previous": 0}
    assert body["kpis"]["average_order_value"] == {"value": None, "previous": None}
    assert body["first_response"]["human"] == {"p50_seconds": None, "p90_seconds": None, "count": 0}
    refused = agent.get("/api/crm/analytics/", {"from": "2026-03-10", "to": "2026-03-01"}, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400
    assert refused.json() == {"from": ["The start date is after the end date."]}
    assert agent.get("/api/crm/analytics/", {"from": "1 Maret"}).status_code == 400
    assert world.client().get("/api/crm/analytics/").status_code in (401, 403)


def from_the_orders(period: analytics.Period, active_window_days: int = 90) -> dict:
    """The order KPIs counted in Python from the orders themselves, the way the dashboard defines them."""
    rows = [
        (contact_id, created_at.astimezone(JAKARTA).date(), total)
        for contact_id, created_at, total in Order.objects.exclude(status="cancelled").values_list(
            "contact_id", "created_at", "total"
        )
    ]
    live = set(Contact.objects.filter(merged_into__isnull=True).values_list("pk", flat=True))

    def numbers(first: dt.date, last: dt.date) -> dict:
        end = last + dt.timedelta(days=1)
        inside = [row for row in rows if first <= row[1] < end]
        customers = {contact for contact, _day, _total in inside}
        up_to_end = [contact for contact, day, _total in rows if day < end]
        window = {contact for contact, day, _total in rows if end - dt.timedelta(days=active_window_days) <= day < end}
        ever = {contact for contact in up_to_end if contact in live}
        return {
            "orders": len(inside),
            "revenue": sum(total for _contact, _day, total in inside),
            "active": len(window),
            "passive": max(len(ever) - len(window), 0),
            "customers": len(customers),
            "repeat": sum(1 for contact in customers if up_to_end.count(contact) >= 2),
        }

    return {"value": numbers(period.first_day, period.last_day),
            "previous": numbers(period.previous.first_day, period.previous.last_day)}  # fmt: skip


def from_the_dashboard(kpis: dict) -> dict:
    def numbers(key: str) -> dict:
        repeat_rate = kpis["repeat_purchase_rate"][key]
        return {
            "orders": kpis["orders"][key],
            "revenue": kpis["revenue"][key],
            "active": kpis["active_customers"][key],
            "passive": kpis["passive_customers"][key],
            "repeat_rate": repeat_rate,
        }

    return {"value": numbers("value"), "previous": numbers("previous")}


def counted(expected: dict) -> dict:
    def numbers(part: dict) -> dict:
        rate = analytics._ratio(part["repeat"], part["customers"])
        return {key: part[key] for key in ("orders", "revenue", "active", "passive")} | {"repeat_rate": rate}

    return {"value": numbers(expected["value"]), "previous": numbers(expected["previous"])}


def rollup_rows() -> dict:
    """Every rollup row that counts something (a row taken back to zero is as good as none)."""
    return {
        "days": {(r.day, r.new_contacts, r.orders, r.revenue, r.new_customers) for r in DailyStats.objects.all()
                 if (r.new_contacts, r.orders, r.revenue, r.new_customers) != (0, 0, 0, 0)},
        "sequence": {(r.day, r.previous_day, r.ordinal, r.orders) for r in OrderSequence.objects.all() if r.orders},
        "products": {(r.day, r.product_id, r.quantity, r.revenue) for r in ProductDay.objects.all() if r.quantity},
    }  # fmt: skip


def test_a_cancelled_order_and_a_status_change_through_the_services(world, shop):
    agent = world.client(world.agent)
    people = shop["people"]
    with schema_context(world.shop.schema_name):
        period = analytics.parse_period(PERIOD["from"], PERIOD["to"], "Asia/Jakarta")
        citra = Order.objects.get(contact=people["Citra"], status="new")  # 23:30 on the 10th, in Jakarta
        orders.change_status(citra, "cancelled", actor_id=None)
        ani = Order.objects.get(contact=people["Ani"], status="paid")
        orders.change_status(ani, "shipped", actor_id=None, tracking_number="JNE-1")  # counts the same
        expected = from_the_orders(period)
    body = agent.get("/api/crm/analytics/", PERIOD).json()
    assert from_the_dashboard(body["kpis"]) == counted(expected)
    assert (body["kpis"]["orders"]["value"], body["kpis"]["revenue"]["value"]) == (4, 720_000)
    # Citra has no order left: no longer active, nor a customer at all; the others all ordered twice.
    assert body["kpis"]["active_customers"] == {"value": 3, "previous": 3}
    assert body["kpis"]["repeat_purchase_rate"] == {"value": "1.0000", "previous": "0.5000"}
    assert body["trend"][-1] == {"date": "2026-03-10", "orders": 0, "revenue": 0}
    assert [c["contact_id"] for c in body["top_customers"]] == [people[n].pk for n in ("Ani", "Budi", "Eko")]
    assert {p["name"]: p["quantity"] for p in body["top_products"]}["Peci"] == 1


def test_a_merge_moves_the_orders_and_takes_back_the_new_contact(world, shop):
    people = shop["people"]
    with schema_context(world.shop.schema_name):
        contacts.merge(people["Fajar"], people["Gita"], actor_id=None)
        contacts.merge(people["Ani"], people["Citra"], actor_id=None)
        period = analytics.parse_period(PERIOD["from"], PERIOD["to"], "Asia/Jakarta")
        expected = from_the_orders(period)
        kpis = analytics.kpis(period)
    assert from_the_dashboard(kpis) == counted(expected)
    assert kpis["new_contacts"] == {"value": 1, "previous": 1}  # Citra is now part of Ani
    # Budi, Eko and Fajar (Gita's December order); Fajar is one customer with Gita's.
    assert (kpis["active_customers"]["previous"], kpis["passive_customers"]["previous"]) == (3, 0)


def test_the_services_keep_the_rollups_equal_to_a_rebuild(world, shop):
    people = shop["people"]
    with schema_context(world.shop.schema_name):
        variant = Variant.objects.create(product=shop["kemeja"], sku="KMJ-M", size="M", price=150_000, stock=5)
        placed = orders.create_order(contact=people["Budi"], items=[{"variant_id": variant.pk, "quantity": 2}],
                                     actor_id=None, shipping_fee=10_000)  # fmt: skip
        orders.create_order(contact=people["Dewi"], items=[{"variant_id": variant.pk}], actor_id=None)
        orders.change_status(placed, "cancelled", actor_id=None)
        orders.change_status(Order.objects.get(contact=people["Citra"], status="new"), "cancelled", actor_id=None)
        newcomer = contacts.create_contact(actor_id=None, name="Hana", phone="0812 3456 7890")
        orders.create_order(contact=newcomer, items=[{"variant_id": variant.pk}], actor_id=None)
        contacts.upsert_whatsapp_contact(wa_id="6281299990000", business_user_id=None, name="Indra")
        contacts.merge(people["Eko"], people["Budi"], actor_id=None)
        kept = rollup_rows()
        today = timezone.now().astimezone(JAKARTA).date()
        assert (today, 2, 2, 2 * 150_000, 1) in kept["days"]  # Hana and Indra; Dewi's and Hana's (her first) orders
        rollups.rebuild_daily_rollups()
        assert rollup_rows() == kept


def test_the_rebuild_command_counts_rows_loaded_past_the_services(world, shop):
    agent = world.client(world.agent)
    with schema_context(world.shop.schema_name):
        Order.objects.create(
            number="BULK-1", contact=shop["people"]["Fajar"], total=55_000, created_at=at("2026-03-09 07:00")
        )
    assert agent.get("/api/crm/analytics/", PERIOD).json()["kpis"]["orders"]["value"] == 5  # not in the rollups yet
    call_command("rebuild_daily_rollups", schema=[world.shop.schema_name], stdout=io.StringIO())
    kpis = agent.get("/api/crm/analytics/", PERIOD).json()["kpis"]
    assert (kpis["orders"]["value"], kpis["revenue"]["value"], kpis["active_customers"]["value"]) == (6, 855_000, 5)
