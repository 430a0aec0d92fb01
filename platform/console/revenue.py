"""The operator's revenue report: per shop and in total, WhatsApp usage, Meta cost, billed amount, margin, plans.

Usage comes from the daily rollups in one grouped query for all shops (the ledger is far too big to
scan); shops, plans and subscription states in a second. Plan revenue is the plan's monthly price of
a shop whose subscription is active, trialing or past due, from its current state: the database keeps
no history of subscription states, so for a past month it shows today's subscriptions.
"""

import calendar
import csv
import zoneinfo
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import Q, Sum
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import BillingAccount, Plan, UsageRollup
from billing.wallet import money
from tenants.models import Shop

CURRENCIES = ("IDR", "USD")
# Columns of the report, and the categories Meta reports that each one counts.
CATEGORY_COLUMNS = {
    "marketing": ("marketing", "marketing_lite"),
    "utility": ("utility",),
    "authentication": ("authentication", "authentication-international"),
    "service": ("service",),
}
Status = BillingAccount.SubscriptionStatus
PAYING = (Status.ACTIVE, Status.TRIALING, Status.PAST_DUE)
DELINQUENT = (Status.PAST_DUE, Status.UNPAID)
SORTS = {
    "name": lambda row: (row.shop.name.lower(), row.shop.pk),
    "margin": lambda row: (row.margin, row.shop.pk),
    "-margin": lambda row: (-row.margin, row.shop.pk),
}


@dataclass
class Row:
    shop: Shop | None
    plan: Plan | None = None
    status: str = ""
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CATEGORY_COLUMNS, 0))
    messages: int = 0
    meta_cost: Decimal = Decimal(0)
    billed: Decimal = Decimal(0)
    plan_revenue: Decimal = Decimal(0)

    @property
    def margin(self) -> Decimal:
        return self.billed - self.meta_cost

    @property
    def margin_percent(self) -> Decimal | None:
        """Margin as a share of what the shop was billed."""
        if not self.billed:
            return None
        return (self.margin * 100 / self.billed).quantize(Decimal("0.01"))

    @property
    def past_due(self) -> bool:
        return self.status in DELINQUENT

    def add(self, other: "Row") -> None:
        for name in CATEGORY_COLUMNS:
            self.counts[name] += other.counts[name]
        self.messages += other.messages
        self.meta_cost += other.meta_cost
        self.billed += other.billed
        self.plan_revenue += other.plan_revenue


@dataclass
class Report:
    month: date
    currency: str
    rows: list[Row]
    total: Row
    mrr: Decimal
    past_due_shops: int


def month_start(value: str | None, today: date) -> date:
    """The first day of a `YYYY-MM` month; of this month when absent or unreadable."""
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return today.replace(day=1)


def units(minor: int, currency: str) -> Decimal:
    """Currency units from a plan's price (plans keep USD in cents, IDR has no minor unit)."""
    return Decimal(minor) / 100 if currency == "USD" else Decimal(minor)


def _shop_filter(plan_id: int | None, past_due_only: bool, prefix: str = "") -> Q:
    condition = Q()
    if plan_id:
        condition &= Q(**{f"{prefix}plan_id": plan_id})
    if past_due_only:
        condition &= Q(**{f"{prefix}billing__subscription_status__in": DELINQUENT})
    return condition


def build(month: date, currency: str, *, plan_id: int | None = None, past_due_only: bool = False, sort="name"):
    """The report for one month and currency: every shop with usage, a paying subscription or an unpaid one."""
    start = month.replace(day=1)
    end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
    usage = (
        UsageRollup.objects.filter(day__gte=start, day__lte=end, currency=currency)
        .filter(_shop_filter(plan_id, past_due_only, "shop__"))
        .values("shop_id")
        .order_by()
        .annotate(
            all_messages=Sum("messages"),
            cost=Sum("meta_cost"),
            billed=Sum("price"),
            **{name: Sum("messages", filter=Q(category__in=kinds)) for name, kinds in CATEGORY_COLUMNS.items()},
        )
    )
    usage_by_shop = {row["shop_id"]: row for row in usage}
    billed_here = Q(billing__currency=currency, billing__subscription_status__in={*PAYING, *DELINQUENT})
    shops = (
        Shop.objects.shops()
        .filter(_shop_filter(plan_id, past_due_only))
        .filter(Q(pk__in=list(usage_by_shop)) | billed_here)
        .select_related("plan", "billing")
    )
    rows = []
    for shop in shops:
        account = getattr(shop, "billing", None)
        status = account.subscription_status if account else ""
        row = Row(shop=shop, plan=shop.plan, status=status)
        if status in PAYING and account.currency == currency:
            row.plan_revenue = units(shop.plan.monthly_price(currency), currency) if shop.plan else Decimal(0)
        used = usage_by_shop.get(shop.pk)
        if used:
            row.counts = {name: used[name] or 0 for name in CATEGORY_COLUMNS}
            row.messages, row.meta_cost, row.billed = used["all_messages"], used["cost"], used["billed"]
        rows.append(row)
    rows.sort(key=SORTS.get(sort, SORTS["name"]))
    total = Row(shop=None)
    for row in rows:
        total.add(row)
    return Report(
        month=start,
        currency=currency,
        rows=rows,
        total=total,
        mrr=mrr(currency),
        past_due_shops=Shop.objects.shops()
        .filter(billing__currency=currency, billing__subscription_status__in=DELINQUENT)
        .count(),
    )


def mrr(currency: str) -> Decimal:
    """Monthly recurring revenue: the monthly prices of every shop subscribed to a paid plan."""
    price = "plan__monthly_price_usd_cents" if currency == "USD" else "plan__monthly_price_idr"
    total = (
        Shop.objects.shops()
        .filter(billing__currency=currency, billing__subscription_status__in=PAYING)
        .aggregate(total=Sum(price))["total"]
    )
    return units(total or 0, currency)


def _params(request) -> dict:
    today = timezone.now().astimezone(zoneinfo.ZoneInfo(settings.SHOP_DEFAULT_TIME_ZONE)).date()
    currency = request.GET.get("currency", "IDR")
    plan = request.GET.get("plan", "")
    return {
        "month": month_start(request.GET.get("month"), today),
        "currency": currency if currency in CURRENCIES else "IDR",
        "plan_id": int(plan) if plan.isdigit() else None,
        "past_due_only": request.GET.get("past_due") == "1",
        "sort": request.GET.get("o", "name") if request.GET.get("o") in SORTS else "name",
    }


def page(request, context: dict) -> TemplateResponse:
    params = _params(request)
    report = build(**params)
    currency = report.currency
    query = request.GET.copy()
    query.pop("o", None)
    context.update(
        title=_("Revenue and margin"),
        report=report,
        params=params,
        month_value=report.month.strftime("%Y-%m"),
        currencies=CURRENCIES,
        plans=Plan.objects.all(),
        rows=[_display(row, currency) for row in report.rows],
        total=_display(report.total, currency),
        mrr=money(report.mrr, currency),
        filter_query=query.urlencode(),
        export_query=request.GET.urlencode(),
        categories=list(CATEGORY_COLUMNS),
    )
    return TemplateResponse(request, "console/billing/revenue.html", context)


def _display(row: Row, currency: str) -> dict:
    """Strings for the page: amounts formatted once here, so the locale cannot reformat them."""
    percent = row.margin_percent
    return {
        "row": row,
        "status": Status(row.status).label if row.status in Status.values else row.status,
        "counts": [row.counts[name] for name in CATEGORY_COLUMNS],
        "meta_cost": money(row.meta_cost, currency),
        "billed": money(row.billed, currency),
        "margin": money(row.margin, currency),
        "margin_percent": "" if percent is None else f"{percent}%",
        "plan_revenue": money(row.plan_revenue, currency),
    }


CSV_COLUMNS = [
    "shop",
    "subdomain",
    "plan",
    "subscription_status",
    *[f"{name}_messages" for name in CATEGORY_COLUMNS],
    "messages",
    "meta_cost",
    "billed",
    "margin",
    "margin_percent",
    "plan_revenue",
    "currency",
]


def export(request) -> HttpResponse:
    """The same rows as the page, with amounts as plain decimals for a spreadsheet."""
    report = build(**_params(request))
    filename = f"revenue-{report.month:%Y-%m}-{report.currency}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        percent = row.margin_percent
        writer.writerow(
            [
                _text(row.shop.name),
                row.shop.slug,
                _text(row.plan.code) if row.plan else "",
                row.status,
                *[row.counts[name] for name in CATEGORY_COLUMNS],
                row.messages,
                row.meta_cost,
                row.billed,
                row.margin,
                "" if percent is None else percent,
                row.plan_revenue,
                report.currency,
            ]
        )
    return response


def _text(value: str) -> str:
    """Shop names are typed by anyone who signs up: never let a spreadsheet read one as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
