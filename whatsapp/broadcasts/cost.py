"""What a broadcast will cost before it goes: its audience by market, times the rate card's price for the
template's category with the plan's markup, in the shop's currency; and whether the balance and the monthly
cap allow it. The same prices are what each recipient holds once the audience freezes, and what the ledger
charges when Meta prices the message, so the estimate and the bill agree to the minor unit."""

from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from billing import metering, wallet
from billing.models import RateCardEntry
from billing.ratecard import rate_book

from . import audience
from .models import Broadcast


@dataclass
class Estimate:
    recipients: int
    excluded: dict[str, int]
    markets: list[dict]
    total: Decimal
    currency: str
    balance: Decimal | None
    cap_left: Decimal | None
    refusal: str | None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def unit_prices(broadcast: Broadcast, markets) -> dict[str, Decimal]:
    """One message's price per market, as the ledger will charge it today."""
    terms = metering.current_terms()
    today = timezone.now().astimezone(terms.time_zone).date()
    book = rate_book()
    category = broadcast.template.category.lower()
    return {
        market: book.price(
            market=market, category=category, on=today, currency=terms.currency,
            markup_percent=terms.markup_percent, billed=True,
        ).price
        for market in markets
    }  # fmt: skip


def estimate(broadcast: Broadcast) -> Estimate:
    resolved = audience.resolve(broadcast)
    counts = resolved.by_market()
    prices = unit_prices(broadcast, counts)
    names = dict(RateCardEntry.objects.filter(market__in=list(counts)).values_list("market", "market_name"))
    markets = [
        {"market": market, "name": names.get(market) or market, "count": count, "unit_price": prices[market],
         "total": prices[market] * count}
        for market, count in sorted(counts.items(), key=lambda item: -item[1])
    ]  # fmt: skip
    total = sum((row["total"] for row in markets), Decimal(0))
    terms = metering.current_terms()
    balance, cap_left = money_left(terms)
    return Estimate(
        recipients=sum(counts.values()),
        excluded=resolved.excluded,
        markets=markets,
        total=total,
        currency=terms.currency,
        balance=balance,
        cap_left=cap_left,
        refusal=refusal(total, balance, cap_left, terms.currency),
    )


def money_left(terms) -> tuple[Decimal | None, Decimal | None]:
    """What the shop can still spend: its available balance (prepaid only) and what its monthly cap leaves."""
    account = wallet.account_for(terms.shop_id)
    balance = account.available if terms.prepaid else None
    cap_left = None
    if account.monthly_cap is not None:
        cap_left = max(account.monthly_cap - wallet.spent_this_month(account.shop) - account.reserved, Decimal(0))
    return balance, cap_left


def refusal(total: Decimal, balance: Decimal | None, cap_left: Decimal | None, currency: str) -> str | None:
    """Why the send cannot go, and what to do about it; None when it can."""
    if cap_left is not None and total > cap_left:
        return _(
            "This broadcast costs %(cost)s but only %(left)s is left under this month's spending cap. "
            "Raise the cap in Settings > Billing or choose a smaller audience."
        ) % {"cost": wallet.money(total, currency), "left": wallet.money(cap_left, currency)}
    if balance is not None and total > balance:
        return _(
            "This broadcast costs %(cost)s but your WhatsApp balance is %(balance)s. "
            "Top up in Settings > Billing or choose a smaller audience."
        ) % {"cost": wallet.money(total, currency), "balance": wallet.money(balance, currency)}
    return None
