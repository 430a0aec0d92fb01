"""The usage ledger: exactly one row per billed message at the right price, rollups equal to the ledger."""

import random
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db.models import Count, Sum
from django_tenants.utils import schema_context

from billing import metering, wallet
from billing.models import BillingAccount, LedgerEntry, RateCardEntry, UsageRollup
from crm.services.contacts import upsert_whatsapp_contact
from tests.factories import create_shop
from whatsapp.models import Conversation, Message, MessageTemplate

pytestmark = pytest.mark.django_db
JAKARTA_NOON = datetime(2026, 11, 10, 5, 0, tzinfo=UTC)


def status(wamid, name="delivered", *, category="marketing", kind="regular", recipient="6281234567890", at=None):
    body = {
        "id": wamid,
        "status": name,
        "timestamp": str(int((at or JAKARTA_NOON).timestamp())),
        "recipient_id": recipient,
    }
    if category is not None:
        body["pricing"] = {"billable": kind == "regular", "pricing_model": "PMP", "type": kind, "category": category}
    return body


@pytest.fixture
def shop():
    shop, _owner = create_shop()
    return shop


def test_ten_thousand_statuses_with_duplicates_in_any_order_bill_each_message_once(shop):
    messages = [f"wamid.bench{n:05d}" for n in range(2_500)]
    categories = ["marketing", "utility", "authentication", "service"]
    statuses = []
    for n, wamid in enumerate(messages):
        category = categories[n % 4]
        kind = "free_customer_service" if category == "service" else "regular"
        # Meta's sequence: sent and delivered carry pricing, read does not.
        statuses += [status(wamid, "sent", category=category, kind=kind)]
        statuses += [status(wamid, "delivered", category=category, kind=kind)]
        statuses += [status(wamid, "read", category=None)]
    statuses += random.Random(7).sample(statuses, k=len(statuses) // 4)  # 20% of the final stream repeats
    statuses += [status(f"wamid.extra{n}", "sent", category="marketing") for n in range(10_000 - len(statuses))]
    random.Random(11).shuffle(statuses)
    assert len(statuses) == 10_000

    with schema_context(shop.schema_name):
        for start in range(0, len(statuses), 40):  # as webhooks arrive: a few dozen statuses each
            metering.record_statuses(statuses[start : start + 40])

    ledger = LedgerEntry.objects.filter(shop=shop)
    assert ledger.count() == len(messages)  # a message that was only "sent" is not billed (yet)
    assert ledger.values("wamid").distinct().count() == len(messages)
    by_category = dict(ledger.values_list("category").annotate(Count("id")))
    assert by_category == {"marketing": 625, "utility": 625, "authentication": 625, "service": 625}
    rollups = UsageRollup.objects.filter(shop=shop).aggregate(
        messages=Sum("messages"), billable=Sum("billable_messages"), price=Sum("price"), cost=Sum("meta_cost")
    )
    sums = ledger.aggregate(price=Sum("price"), cost=Sum("meta_cost"))
    assert rollups == {
        "messages": len(messages),
        "billable": 1_875,
        "price": sums["price"],
        "cost": sums["cost"],
    }
    # Indonesian marketing: 0.0411 USD x 16,500 IDR/USD = Rp678.15 Meta cost, +20% trial markup = Rp813.78.
    marketing = ledger.filter(category="marketing").first()
    assert (marketing.meta_cost, marketing.price, marketing.currency) == (
        Decimal("678.1500"),
        Decimal("813.7800"),
        "IDR",
    )
    assert marketing.fx_rate == Decimal("16500") and marketing.market == "62"


def test_free_messages_are_recorded_as_free_with_their_reason(shop):
    with schema_context(shop.schema_name):
        metering.record_statuses(
            [
                status("wamid.cs", category="service", kind="free_customer_service"),
                status("wamid.ad", category="marketing", kind="free_entry_point"),
            ]
        )
    rows = {row.wamid: row for row in LedgerEntry.objects.filter(shop=shop)}
    assert rows["wamid.cs"].pricing_type == "free_customer_service" and rows["wamid.cs"].price == 0
    assert rows["wamid.ad"].pricing_type == "free_entry_point" and not rows["wamid.ad"].billable
    assert rows["wamid.ad"].price == 0 and rows["wamid.ad"].rate == Decimal("0.0411")


def _template_message(wamid: str, category: str, *, wrote_at=None) -> None:
    contact = upsert_whatsapp_contact(wa_id="6281299990000", business_user_id=None, name="Rina")
    contact.last_inbound_at = wrote_at
    contact.save(update_fields=["last_inbound_at"])
    conversation, _ = Conversation.objects.get_or_create(contact=contact)
    template, _ = MessageTemplate.objects.get_or_create(
        name=f"promo_{category}", language="id", defaults={"category": category.upper(), "status": "APPROVED"}
    )
    Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        wamid=wamid,
        type="template",
        payload={"template": {"name": template.name, "language": {"code": "id"}}},
        status=Message.Status.SENT,
        created_at=JAKARTA_NOON,
    )


def test_a_status_without_pricing_is_priced_from_the_rate_card(shop):
    with schema_context(shop.schema_name):
        _template_message("wamid.nopricing", "utility")
        metering.record_statuses(
            [status("wamid.nopricing", category=None, recipient="6281299990000"),
             status("wamid.freeform", category=None)]
        )  # fmt: skip
    row = LedgerEntry.objects.get(shop=shop, wamid="wamid.nopricing")
    assert (row.priced_from, row.category, row.billable) == ("rate_card", "utility", True)
    assert row.meta_cost == Decimal("330.0000")  # 0.0200 USD x 16,500
    assert not LedgerEntry.objects.filter(wamid="wamid.freeform").exists()  # a free-form reply costs nothing


def test_a_utility_template_inside_the_window_is_free_when_priced_from_the_rate_card(shop):
    with schema_context(shop.schema_name):
        _template_message("wamid.window", "utility", wrote_at=JAKARTA_NOON.replace(hour=1))
        metering.record_statuses([status("wamid.window", category=None, recipient="6281299990000")])
    row = LedgerEntry.objects.get(shop=shop, wamid="wamid.window")
    assert (row.pricing_type, row.price) == ("free_customer_service", 0)


def test_a_new_rate_from_the_first_day_of_a_quarter_prices_messages_by_their_date(shop):
    RateCardEntry.objects.create(
        market="62", category="marketing", currency="USD", price=Decimal("0.0500"), effective_from=date(2027, 1, 1)
    )
    # 31 Dec 2026 23:30 and 1 Jan 2027 00:30 in Jakarta (UTC+7).
    before = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    after = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)
    with schema_context(shop.schema_name):
        metering.record_statuses([status("wamid.old", at=before), status("wamid.new", at=after)])
    rows = {row.wamid: row for row in LedgerEntry.objects.filter(shop=shop)}
    assert (rows["wamid.old"].rate, rows["wamid.old"].day) == (Decimal("0.0411"), date(2026, 12, 31))
    assert (rows["wamid.new"].rate, rows["wamid.new"].day) == (Decimal("0.0500"), date(2027, 1, 1))


def test_a_priced_message_settles_what_its_send_held(shop):
    wallet.credit_top_up(shop.pk, 100_000, "pi:test-1")
    wallet.reserve(shop.pk, "msg:1", Decimal("900"))
    wallet.attach_wamid(shop.pk, "msg:1", "wamid.settle")
    account = BillingAccount.objects.get(shop=shop)
    assert (account.balance, account.reserved, account.available) == (100_000, 900, 99_100)
    with schema_context(shop.schema_name):
        metering.record_statuses([status("wamid.settle"), status("wamid.settle", "read")])
    account.refresh_from_db()
    assert (account.balance, account.reserved) == (Decimal("100000") - Decimal("813.78"), 0)
    assert list(account.entries.values_list("kind", "amount")) == [
        ("top_up", Decimal("100000.0000")),
        ("usage", Decimal("-813.7800")),
    ]


def test_month_to_date_reads_the_rollups_of_this_local_month_only(shop):
    october = datetime(2026, 10, 31, 16, 59, tzinfo=UTC)  # 31 Oct 23:59 Jakarta
    with schema_context(shop.schema_name):
        metering.record_statuses([status("wamid.oct", at=october), status("wamid.nov1"), status("wamid.nov2")])
    usage = metering.month_to_date(shop.pk, date(2026, 11, 24))
    assert usage["total"]["messages"] == 2
    assert usage["total"]["price"] == Decimal("1627.5600")
