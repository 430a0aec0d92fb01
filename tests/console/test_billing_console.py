"""The operator's billing views: revenue and margin per shop and in total, the rate card, read-only money."""

import csv
import io
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from billing import metering, wallet
from billing.models import BillingAccount, LedgerEntry, Plan, RateCardEntry, UsageRollup
from tenants.services.lifecycle import apply_plan
from tests.factories import PASSWORD, UserFactory, create_shop

pytestmark = pytest.mark.django_db

# Seeded card, Indonesia, USD x 16,500 IDR/USD: Meta's cost of one message in rupiah.
MARKETING = Decimal("678.15")  # 0.0411 USD
UTILITY = Decimal("330.00")  # 0.0200 USD
AUTHENTICATION = Decimal("495.00")  # 0.0300 USD
# Inside February 2026 on the shops' Jakarta clock, the last one on the 1st of March there.
FEBRUARY = datetime(2026, 2, 10, 5, 0, tzinfo=UTC)
LAST_OF_FEBRUARY = datetime(2026, 2, 28, 16, 30, tzinfo=UTC)  # 23:30 in Jakarta
FIRST_OF_MARCH = datetime(2026, 2, 28, 17, 30, tzinfo=UTC)  # 00:30 in Jakarta


def status(wamid, category="marketing", *, kind="regular", at=FEBRUARY, recipient="6281234567890"):
    return {
        "id": wamid,
        "status": "delivered",
        "timestamp": str(int(at.timestamp())),
        "recipient_id": recipient,
        "pricing": {"billable": kind == "regular", "pricing_model": "PMP", "type": kind, "category": category},
    }


def record(shop, statuses):
    with tenant_context(shop):
        metering.record_statuses(statuses)


def subscribe(shop, plan_code: str, state: str):
    """The state Stripe's webhooks would leave: the plan applied and the subscription's status."""
    plan = Plan.objects.get(code=plan_code)
    if not plan.is_trial_plan:
        apply_plan(shop, plan)
    account = wallet.account_for(shop)
    account.subscription_status = state
    account.past_due_since = timezone.now() if state == "past_due" else None
    account.save(update_fields=["subscription_status", "past_due_since"])
    return shop


@pytest.fixture
def console():
    operator = UserFactory(is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST=settings.PLATFORM_HOST, HTTP_ACCEPT_LANGUAGE="en")
    assert client.login(email=operator.email, password=PASSWORD)
    return client


@pytest.fixture
def two_shops():
    """Kopi (trial plan, 20% markup) and Batik (Growth, 15% markup) with February's WhatsApp usage."""
    kopi, _ = create_shop(shop_name="Kopi Senja")
    batik, _ = create_shop(shop_name="Batik Sari")
    subscribe(batik, "growth", "active")
    record(
        kopi,
        [
            status("wamid.k1"),
            status("wamid.k2"),
            status("wamid.k3", at=LAST_OF_FEBRUARY),
            status("wamid.k4", "utility"),
            status("wamid.k5", "utility"),
            status("wamid.k6", "authentication"),
            status("wamid.k7", "service", kind="free_customer_service"),
            status("wamid.k8", "service", kind="free_customer_service"),
            status("wamid.k9", at=FIRST_OF_MARCH),  # March on the shop's clock
            status("wamid.k1"),  # a repeated webhook
        ],
    )
    record(
        batik,
        [
            status("wamid.b1"),
            status("wamid.b2"),
            status("wamid.b3", "authentication-international"),
            status("wamid.b4", kind="free_entry_point"),
        ],
    )
    return kopi, batik


def cells(page: str, slug: str) -> dict[str, str]:
    """The cells of one shop's row (or of the totals row: slug "total") on the revenue page, by class."""
    match = re.search(rf'<tr data-shop="{re.escape(slug)}"[^>]*>(.*?)</tr>', page, re.S)
    assert match, f"no row for {slug}"
    row = match.group(0)
    found = {
        name: value.strip()
        for name, value in re.findall(r'<td class="num ([a-z-]+)">(.*?)</td>', row, re.S)
        if name != "count"
    }
    found["counts"] = re.findall(r'<td class="num count">(\d+)</td>', row)
    found["past_due"] = 'class="past-due"' in row
    return found


def rupiah(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text))


def summary(page: str, element: str) -> str:
    return re.search(rf'<div id="{element}">.*?<strong>(.*?)</strong>', page, re.S).group(1)


def test_revenue_shows_each_shops_cost_billed_amount_and_margin(console, two_shops):
    kopi, batik = two_shops
    page = console.get("/console/billing/revenue/", {"month": "2026-02", "currency": "IDR"}).content.decode()

    # Kopi on the trial plan: 3 marketing, 2 utility, 1 authentication billed at cost + 20%; service free.
    kopi_cost = 3 * MARKETING + 2 * UTILITY + AUTHENTICATION  # 3,189.45
    kopi_billed = Decimal("2441.34") + Decimal("792.00") + Decimal("594.00")  # 813.78, 396.00, 594.00 each
    row = cells(page, kopi.slug)
    assert row["counts"] == ["3", "2", "1", "2"]
    assert (row["meta-cost"], row["billed"], row["margin"]) == ("Rp3.189", "Rp3.827", "Rp638")
    assert kopi_billed - kopi_cost == Decimal("637.89")
    assert row["margin-percent"] == "16.67%"
    assert row["plan-revenue"] == "Rp0"  # no paid subscription

    # Batik on Growth: 2 marketing and 1 authentication-international at cost + 15%; an ad-window reply free.
    row = cells(page, batik.slug)
    assert row["counts"] == ["3", "0", "1", "0"]
    assert (row["meta-cost"], row["billed"], row["margin"]) == ("Rp1.851", "Rp2.129", "Rp278")
    assert row["margin-percent"] == "13.04%"
    assert row["plan-revenue"] == "Rp399.000"
    assert batik.name in page and batik.slug in page and "Growth" in page

    total = cells(page, "total")
    assert total["counts"] == ["6", "2", "2", "2"]
    # 3,189.45 + 1,851.30 Meta cost; 3,827.34 + 2,128.995 billed: the sums of the rows, rounded once.
    assert (total["meta-cost"], total["billed"], total["margin"]) == ("Rp5.041", "Rp5.956", "Rp916")


def test_the_csv_export_has_the_same_rows_as_exact_decimals(console, two_shops):
    kopi, batik = two_shops
    response = console.get("/console/billing/revenue/export/", {"month": "2026-02", "currency": "IDR"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="revenue-2026-02-IDR.csv"'
    rows = {row["subdomain"]: row for row in csv.DictReader(io.StringIO(response.content.decode()))}
    assert {kopi.slug, batik.slug} <= set(rows)
    kopi_row, batik_row = rows[kopi.slug], rows[batik.slug]
    assert (kopi_row["meta_cost"], kopi_row["billed"], kopi_row["margin"]) == ("3189.4500", "3827.3400", "637.8900")
    assert (kopi_row["marketing_messages"], kopi_row["service_messages"], kopi_row["messages"]) == ("3", "2", "8")
    assert (batik_row["meta_cost"], batik_row["billed"], batik_row["margin"]) == ("1851.3000", "2128.9950", "277.6950")
    assert (batik_row["margin_percent"], batik_row["plan_revenue"], batik_row["plan"]) == ("13.04", "399000", "growth")
    assert batik_row["subscription_status"] == "active" and batik_row["currency"] == "IDR"

    page = console.get("/console/billing/revenue/", {"month": "2026-02", "currency": "IDR"}).content.decode()
    exported_billed = sum(Decimal(row["billed"]) for row in rows.values())
    assert exported_billed == Decimal("5956.3350")  # no other shop used WhatsApp in February 2026
    assert cells(page, "total")["billed"] == "Rp5.956"


def test_mrr_counts_only_paid_plans_with_a_live_subscription(console):
    before = console.get("/console/billing/revenue/").content.decode()
    mrr_before, past_due_before = rupiah(summary(before, "mrr")), int(summary(before, "past-due-count"))

    subscribe(create_shop()[0], "growth", "active")  # Rp399.000
    late = subscribe(create_shop(shop_name="Toko Telat")[0], "starter", "past_due")  # Rp149.000, still counted
    subscribe(create_shop()[0], "scale", "canceled")  # gone
    subscribe(create_shop()[0], "trial", "trialing")  # free

    page = console.get("/console/billing/revenue/").content.decode()
    assert rupiah(summary(page, "mrr")) == mrr_before + 399_000 + 149_000
    assert int(summary(page, "past-due-count")) == past_due_before + 1
    row = cells(page, late.slug)
    assert row["past_due"] and row["plan-revenue"] == "Rp149.000"

    only_late = console.get("/console/billing/revenue/", {"past_due": "1"}).content.decode()
    assert late.slug in only_late
    assert all(cells(only_late, slug)["past_due"] for slug in re.findall(r'<tr data-shop="([^"]+)"', only_late)[:-1])


def test_filters_by_plan_and_sorts_by_margin(console, two_shops):
    kopi, batik = two_shops
    growth = Plan.objects.get(code="growth")
    page = console.get("/console/billing/revenue/", {"month": "2026-02", "plan": growth.pk}).content.decode()
    assert batik.slug in page and kopi.slug not in page

    def order(sort):
        page = console.get("/console/billing/revenue/", {"month": "2026-02", "o": sort}).content.decode()
        slugs = re.findall(r'<tr data-shop="([^"]+)"', page)
        return [slug for slug in slugs if slug in (kopi.slug, batik.slug)]

    assert order("-margin") == [kopi.slug, batik.slug]  # Rp638 before Rp278
    assert order("margin") == [batik.slug, kopi.slug]


def test_this_months_usage_is_the_default_and_on_the_shops_page(console):
    shop, _ = create_shop()
    record(shop, [status("wamid.now1", at=timezone.now()), status("wamid.now2", "utility", at=timezone.now())])

    page = console.get("/console/").content.decode()
    assert "/console/billing/revenue/" in page  # linked from the console's home
    page = console.get("/console/billing/revenue/").content.decode()
    assert cells(page, shop.slug)["billed"] == "Rp1.210"  # 813.78 + 396.00

    detail = console.get(f"/console/tenants/shop/{shop.pk}/change/").content.decode()
    assert "Rp1.210 for 2 messages" in detail  # spend this month
    assert "Rp202 over Rp1.008 Meta cost" in detail  # margin: 1,209.78 - 1,008.15
    assert "No subscription" in detail


def test_only_operators_see_billing(two_shops):
    kopi, _ = two_shops
    owner_client = Client(HTTP_HOST=settings.PLATFORM_HOST)
    for path in ("/console/billing/revenue/", "/console/billing/revenue/export/", "/console/billing/ledgerentry/"):
        response = owner_client.get(path, {"month": "2026-02"})
        assert response.status_code == 302 and "/console/login/" in response["Location"]
    owner = kopi.memberships.get().user
    assert owner_client.login(email=owner.email, password=PASSWORD)
    response = owner_client.get("/console/billing/revenue/export/", {"month": "2026-02"})
    assert response.status_code == 302 and b"3827" not in response.content


def test_rate_card_import_writes_good_lines_and_names_the_bad_one(console):
    card = (
        b"Market,Calling code,Marketing,Utility,Authentication,Authentication-International\n"
        b"Indonesia,62,0.0450,0.0210,0.0310,\n"
        b"Brazil,55,abc,0.0090,0.0050,\n"
        b"Other,,0.0700,0.0210,0.0310,0.0400\n"
    )
    listing = console.get("/console/billing/ratecardentry/").content.decode()
    assert "/console/billing/ratecardentry/import/" in listing

    response = console.post(
        "/console/billing/ratecardentry/import/",
        {"file": SimpleUploadedFile("card.csv", card), "effective_from": "2026-04-01", "currency": "USD"},
        follow=True,
    )
    page = response.content.decode()
    assert "Imported 9 prices effective from 2026-04-01." in page
    assert "Line 3: &#x27;abc&#x27; is not a price." in page
    april = RateCardEntry.objects.filter(effective_from="2026-04-01")
    assert dict(april.filter(market="62").values_list("category", "price")) == {
        "marketing": Decimal("0.045"),
        "utility": Decimal("0.021"),
        "authentication": Decimal("0.031"),
    }
    assert set(april.filter(market="55").values_list("category", flat=True)) == {"utility", "authentication"}
    assert april.filter(market="*").count() == 4

    no_code_column = {"file": SimpleUploadedFile("card.csv", b"Market,Price\nX,1\n"), "effective_from": "2026-04-01"}
    no_code = console.post("/console/billing/ratecardentry/import/", {**no_code_column, "currency": "IDR"})
    assert no_code.status_code == 200 and "Calling code" in no_code.content.decode()


def test_money_is_shown_but_not_editable_and_the_ledger_is_searched_by_wamid(console, two_shops):
    _kopi, batik = two_shops
    account = wallet.account_for(batik)
    page = console.get(f"/console/billing/billingaccount/{account.pk}/change/").content.decode()
    assert "Rp0" in page and 'name="balance"' not in page and "Active" in page
    refused = console.post(f"/console/billing/billingaccount/{account.pk}/change/", {"balance": "1000000"})
    assert refused.status_code == 403
    assert BillingAccount.objects.get(pk=account.pk).balance == 0

    found = console.get("/console/billing/ledgerentry/", {"q": "wamid.b3"}).content.decode()
    assert "wamid.b3" in found and "wamid.b1" not in found and batik.name in found
    assert console.get("/console/billing/ledgerentry/", {"category": "utility"}).status_code == 200
    assert LedgerEntry.objects.filter(wamid="wamid.b3").exists()

    plan_form = console.get(f"/console/billing/plan/{Plan.objects.get(code='growth').pk}/change/").content.decode()
    for field in ("contact_limit", "whatsapp_markup_percent", "usage_billing", "features", "stripe_price_idr"):
        assert f'name="{field}"' in plan_form
    for path in ("usagerollup", "fxrate", "stripeevent", "meterreport", "ratecardentry"):
        assert console.get(f"/console/billing/{path}/").status_code == 200


def test_usage_is_read_in_one_grouped_query_whatever_the_number_of_shops(console, two_shops):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert console.get("/console/billing/revenue/", {"month": "2026-02"}).status_code == 200
        return [query["sql"] for query in captured.captured_queries]

    with_two = queries()
    third, _ = create_shop()
    subscribe(third, "starter", "active")
    record(third, [status("wamid.t1"), status("wamid.t2", "utility")])
    with_three = queries()
    assert len(with_three) == len(with_two)
    assert sum(UsageRollup._meta.db_table in sql for sql in with_three) == 1
    assert not any(LedgerEntry._meta.db_table in sql for sql in with_three)


def test_a_shop_name_is_never_a_formula_in_the_export(console):
    shop, _ = create_shop(shop_name='=HYPERLINK("http://evil.test")')
    record(shop, [status("wamid.f1")])
    response = console.get("/console/billing/revenue/export/", {"month": "2026-02"})
    rows = {row["subdomain"]: row for row in csv.DictReader(io.StringIO(response.content.decode()))}
    assert rows[shop.slug]["shop"] == '\'=HYPERLINK("http://evil.test")'
