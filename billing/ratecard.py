"""Meta's price of a message: by recipient market and category, versioned by date, converted at a recorded FX rate."""

import csv
import functools
import io
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import phonenumbers
from django.db import connection, transaction
from django.utils.translation import gettext as _
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from tenants.services.errors import ServiceError

from .models import FxRate, RateCardEntry

FOUR_PLACES = Decimal("0.0001")
OTHER_MARKETS = "*"
BILLED_CATEGORIES = ("marketing", "utility", "authentication", "authentication-international")
# Categories Meta reports that share another's rate on the card.
CATEGORY_ALIASES = {"marketing_lite": "marketing", "authentication-international": "authentication"}
FREE_CATEGORIES = ("service", "referral_conversion")

# Seeded from ../shared/design/whatsapp-cloud-api.md (USD per delivered message, per-message pricing since
# 1 July 2025). "Other markets" takes the highest figure seen per category, so an estimate never undershoots.
SEED_EFFECTIVE_FROM = date(2025, 7, 1)
SEED_USD = {
    ("62", "Indonesia"): {"marketing": "0.0411", "utility": "0.0200", "authentication": "0.0300"},
    ("91", "India"): {"marketing": "0.0129", "utility": "0.0017", "authentication": "0.0017"},
    ("55", "Brazil"): {"marketing": "0.0688", "utility": "0.0088", "authentication": "0.0048"},
    ("1", "United States"): {"marketing": "0.0275", "utility": "0.0044", "authentication": "0.0044"},
    (OTHER_MARKETS, "Other markets"): {"marketing": "0.0688", "utility": "0.0200", "authentication": "0.0300"},
}
SEED_FX = [("USD", "IDR", Decimal("16500"), SEED_EFFECTIVE_FROM)]


@dataclass(frozen=True)
class Price:
    category: str
    market: str
    rate_currency: str
    rate: Decimal
    fx_rate: Decimal
    currency: str
    meta_cost: Decimal
    price: Decimal


def seed() -> None:
    """Idempotent: the protocol note's figures and one FX rate, for a fresh platform."""
    for (market, name), prices in SEED_USD.items():
        for category, price in prices.items():
            RateCardEntry.objects.get_or_create(
                market=market,
                category=category,
                currency="USD",
                effective_from=SEED_EFFECTIVE_FROM,
                defaults={"price": Decimal(price), "market_name": name},
            )
    for base, quote, rate, effective_from in SEED_FX:
        FxRate.objects.get_or_create(base=base, quote=quote, effective_from=effective_from, defaults={"rate": rate})


def market_of(wa_id: str | None) -> str:
    """The recipient's calling code (`62` for +62 812...), or `*` when the number cannot be read.

    A WhatsApp id is plain digits: its calling code is the first 1-3 digits that name one (calling codes are
    prefix-free), as phonenumbers finds it, without parsing the whole number for every status of a batch.
    """
    if not wa_id:
        return OTHER_MARKETS
    digits = wa_id.lstrip("+")
    if digits.isascii() and digits.isdigit():
        code = _calling_code(digits[:3])
        if code and MIN_NATIONAL_DIGITS <= len(digits) - len(code) <= MAX_NATIONAL_DIGITS:
            return code
    try:
        return str(phonenumbers.parse("+" + digits, None).country_code)
    except phonenumbers.NumberParseException:
        return OTHER_MARKETS


MIN_NATIONAL_DIGITS, MAX_NATIONAL_DIGITS = 2, 17  # what phonenumbers accepts after the calling code


@functools.lru_cache(maxsize=1024)
def _calling_code(prefix: str) -> str | None:
    if prefix.startswith("0"):
        return None  # no calling code starts with 0
    return next((prefix[:n] for n in (1, 2, 3) if int(prefix[:n]) in COUNTRY_CODE_TO_REGION_CODE), None)


def _version_sql(table: str) -> str:
    # Changes with any insert, update or delete (xmin is the writing transaction), and with a rollback of one.
    return (
        f"(SELECT count(*) || '.' || coalesce(max(id), 0) || '.' || coalesce(sum(xmin::text::bigint), 0) FROM {table})"
    )


# One scalar SQL expression naming the visible state of the rate card and FX rates: a few hundred rows summed,
# far cheaper than loading them. Meant to ride along in a query the caller makes anyway.
VERSION_SQL = f"{_version_sql(RateCardEntry._meta.db_table)} || ':' || {_version_sql(FxRate._meta.db_table)}"
_cached: tuple[str, "RateBook"] | None = None


def rate_book(version: str | None = None) -> "RateBook":
    """The rate book of this process, reloaded only when the card or FX rates changed (`version`: VERSION_SQL's value).

    Metering prices every status batch: reading the card for each would cost more than writing the ledger.
    """
    global _cached
    if version is None:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {VERSION_SQL}")
            version = cursor.fetchone()[0]
    cached = _cached
    if cached is not None and cached[0] == version:
        return cached[1]
    book = RateBook()
    _cached = (version, book)
    return book


class RateBook:
    """The rate card and FX rates loaded once, for pricing many messages without a query each."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], list[RateCardEntry]] = {}
        for entry in RateCardEntry.objects.order_by("-effective_from"):
            self.entries.setdefault((entry.market, entry.category), []).append(entry)
        self.fx: dict[tuple[str, str], list[FxRate]] = {}
        for fx in FxRate.objects.order_by("-effective_from"):
            self.fx.setdefault((fx.base, fx.quote), []).append(fx)
        self._prices: dict[tuple, Price] = {}

    def rate(self, market: str, category: str, on: date, currency: str) -> RateCardEntry | None:
        """The card entry in force on `on`: the shop's currency preferred, else any (converted)."""
        category = CATEGORY_ALIASES.get(category, category)
        for candidate_market in (market, OTHER_MARKETS):
            dated = [e for e in self.entries.get((candidate_market, category), []) if e.effective_from <= on]
            if dated:
                newest = dated[0].effective_from
                same_day = [e for e in dated if e.effective_from == newest]
                return next((e for e in same_day if e.currency == currency), same_day[0])
        return None

    def fx_rate(self, base: str, quote: str, on: date) -> Decimal:
        if base == quote:
            return Decimal(1)
        for fx in self.fx.get((base, quote), []):
            if fx.effective_from <= on:
                return fx.rate
        for fx in self.fx.get((quote, base), []):
            if fx.effective_from <= on:
                return (Decimal(1) / fx.rate).quantize(Decimal("0.000001"))
        raise ServiceError(_("No exchange rate from %(base)s to %(quote)s.") % {"base": base, "quote": quote})

    def price(self, *, market: str, category: str, on: date, currency: str, markup_percent: Decimal, billed: bool):
        """What Meta charges and what the shop pays for one message (zero when `billed` is false).

        Remembered per argument set: a batch of statuses has few distinct markets, categories and days.
        """
        key = (market, category, on, currency, markup_percent, billed)
        known = self._prices.get(key)
        if known is None:
            if len(self._prices) > 100_000:
                self._prices.clear()  # a long-lived book: bounded memory
            known = self._prices[key] = self._price(market, category, on, currency, markup_percent, billed)
        return known

    def _price(self, market: str, category: str, on: date, currency: str, markup_percent: Decimal, billed: bool):
        entry = None if category in FREE_CATEGORIES else self.rate(market, category, on, currency)
        rate_currency = entry.currency if entry else currency
        rate = entry.price if entry else Decimal(0)
        fx = self.fx_rate(rate_currency, currency, on) if entry else Decimal(1)
        meta_cost = (rate * fx).quantize(FOUR_PLACES, ROUND_HALF_UP) if billed else Decimal(0)
        price = (meta_cost * (1 + markup_percent / 100)).quantize(FOUR_PLACES, ROUND_HALF_UP)
        return Price(category, market, rate_currency, rate, fx, currency, meta_cost, price)


def import_meta_csv(content: bytes, effective_from: date, currency: str = "USD") -> tuple[int, list[str]]:
    """Imports Meta's rate card CSV (Market, Calling code, Marketing, Utility, Authentication, ...).

    Returns (entries written, errors by line); good lines are written even when others fail.
    """
    text = content.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    columns = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
    code_column = columns.get("calling code") or columns.get("country code") or columns.get("market code")
    if not code_column:
        raise ServiceError(_("The CSV needs a 'Calling code' column."), field="file")
    written, errors = 0, []
    with transaction.atomic():
        for line, row in enumerate(reader, start=2):
            market = (row.get(code_column) or "").strip().lstrip("+") or OTHER_MARKETS
            name = (row.get(columns.get("market", ""), "") or "").strip()
            for category in BILLED_CATEGORIES:
                column = columns.get(category) or columns.get(category.replace("-", " "))
                if not column or not (row.get(column) or "").strip():
                    continue
                try:
                    price = Decimal(row[column].strip().lstrip("$"))
                except InvalidOperation:
                    errors.append(_("Line %(line)d: %(value)r is not a price.") % {"line": line, "value": row[column]})
                    continue
                RateCardEntry.objects.update_or_create(
                    market=market,
                    category=category,
                    currency=currency,
                    effective_from=effective_from,
                    defaults={"price": price, "market_name": name},
                )
                written += 1
    return written, errors
