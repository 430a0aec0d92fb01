"""Billing lives in the public schema: the operator sees every shop's plan, usage and revenue in one place.

Amounts are Decimal in currency units (4 decimal places: a WhatsApp message costs fractions of a US
cent), with the currency beside them; what a shop tops up or pays for a plan is whole minor units.
"""

from decimal import Decimal

from django.db import models
from django.utils import timezone

MONEY = {"max_digits": 18, "decimal_places": 4}


class Plan(models.Model):
    """A subscription plan a shop is on. Prices are integer minor units (IDR has none, USD cents)."""

    class UsageBilling(models.TextChoices):
        PREPAID = "prepaid", "Prepaid WhatsApp balance"
        POSTPAID = "postpaid", "Postpaid, reported to Stripe"

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    monthly_price_idr = models.PositiveBigIntegerField(default=0)
    monthly_price_usd_cents = models.PositiveIntegerField(default=0)
    trial_days = models.PositiveSmallIntegerField(default=0)
    staff_seats = models.PositiveSmallIntegerField(default=3)
    contact_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    broadcasts_per_month = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    automation_rules = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    features = models.JSONField(default=list, blank=True)
    whatsapp_markup_percent = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("20.00"))
    usage_billing = models.CharField(max_length=10, choices=UsageBilling.choices, default=UsageBilling.PREPAID)
    is_trial_plan = models.BooleanField(default=False, help_text="New shops start on this plan.")
    is_public = models.BooleanField(default=True, help_text="Offered to shops on the billing page.")
    stripe_price_idr = models.CharField(max_length=80, blank=True)
    stripe_price_usd = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["monthly_price_idr"]

    def __str__(self) -> str:
        return self.name

    def monthly_price(self, currency: str) -> int:
        return self.monthly_price_usd_cents if currency == "USD" else self.monthly_price_idr


class BillingAccount(models.Model):
    """A shop's side of billing: Stripe ids, subscription state, WhatsApp balance and cap."""

    class SubscriptionStatus(models.TextChoices):
        NONE = "", "No subscription"
        TRIALING = "trialing", "Trialing"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        UNPAID = "unpaid", "Unpaid"
        INCOMPLETE = "incomplete", "Incomplete"
        CANCELED = "canceled", "Canceled"

    shop = models.OneToOneField("tenants.Shop", on_delete=models.CASCADE, related_name="billing")
    currency = models.CharField(max_length=3, default="IDR")
    stripe_customer_id = models.CharField(max_length=80, blank=True, db_index=True)
    stripe_subscription_id = models.CharField(max_length=80, blank=True, db_index=True)
    subscription_status = models.CharField(max_length=12, choices=SubscriptionStatus.choices, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    past_due_since = models.DateTimeField(null=True, blank=True)
    balance = models.DecimalField(**MONEY, default=Decimal(0))
    reserved = models.DecimalField(**MONEY, default=Decimal(0), help_text="Held for sends not yet priced.")
    monthly_cap = models.DecimalField(**MONEY, null=True, blank=True, help_text="Empty: no cap.")
    cap_alert_month = models.DateField(null=True, blank=True)
    cap_alert_percent = models.PositiveSmallIntegerField(default=0, help_text="Highest alert sent that month.")
    auto_recharge = models.BooleanField(default=False)
    auto_recharge_below = models.PositiveBigIntegerField(default=0)
    auto_recharge_amount = models.PositiveBigIntegerField(default=0)
    saved_payment_method = models.CharField(max_length=80, blank=True)
    auto_recharge_error = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(balance__gte=0), name="billing_balance_never_negative"),
            models.CheckConstraint(condition=models.Q(reserved__gte=0), name="billing_reserved_never_negative"),
        ]

    def __str__(self) -> str:
        return f"Billing of {self.shop}"

    @property
    def available(self) -> Decimal:
        return self.balance - self.reserved


class BalanceEntry(models.Model):
    """Every change of a balance, keyed so a retried top-up or settlement applies once."""

    class Kind(models.TextChoices):
        TOP_UP = "top_up", "Top-up"
        USAGE = "usage", "WhatsApp usage"
        ADJUSTMENT = "adjustment", "Adjustment"

    account = models.ForeignKey(BillingAccount, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount = models.DecimalField(**MONEY, help_text="Positive credits, negative debits.")
    balance_after = models.DecimalField(**MONEY)
    reference = models.CharField(max_length=120)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "reference"], name="balance_entry_once")]
        indexes = [models.Index(fields=["account", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} ({self.reference})"


class Reservation(models.Model):
    """Money held for a send until Meta prices it, so parallel sends cannot spend the same balance."""

    class State(models.TextChoices):
        HELD = "held", "Held"
        SETTLED = "settled", "Settled"
        RELEASED = "released", "Released"

    account = models.ForeignKey(BillingAccount, on_delete=models.CASCADE, related_name="reservations")
    reference = models.CharField(max_length=120, help_text="msg:<message id> or broadcast:<id>.")
    amount = models.DecimalField(**MONEY)
    remaining = models.DecimalField(**MONEY)
    wamid = models.CharField(max_length=128, blank=True, db_index=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.HELD)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "reference"], name="reservation_once")]

    def __str__(self) -> str:
        return f"{self.reference}: {self.remaining} of {self.amount} {self.state}"


class RateCardEntry(models.Model):
    """Meta's price of one message, by market (calling code, `*` for the rest) and category, from a date."""

    market = models.CharField(max_length=8, help_text="Calling code without +, e.g. 62; * for other markets.")
    market_name = models.CharField(max_length=80, blank=True)
    category = models.CharField(max_length=32)
    currency = models.CharField(max_length=3)
    price = models.DecimalField(max_digits=12, decimal_places=6)
    effective_from = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["market", "category", "currency", "effective_from"], name="rate_card_entry_unique"
            )
        ]
        ordering = ["market", "category", "-effective_from"]

    def __str__(self) -> str:
        return f"+{self.market} {self.category} {self.price} {self.currency} from {self.effective_from}"


class FxRate(models.Model):
    """Units of `quote` per one unit of `base`, from a date; recorded on every ledger row that used it."""

    base = models.CharField(max_length=3, default="USD")
    quote = models.CharField(max_length=3, default="IDR")
    rate = models.DecimalField(max_digits=14, decimal_places=6)
    effective_from = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["base", "quote", "effective_from"], name="fx_rate_unique")]

    def __str__(self) -> str:
        return f"{self.base}/{self.quote} {self.rate} from {self.effective_from}"


class LedgerEntry(models.Model):
    """One row per message Meta prices, keyed by its WhatsApp id: a repeated webhook cannot bill twice."""

    class PricingType(models.TextChoices):
        REGULAR = "regular", "Billed"
        FREE_CUSTOMER_SERVICE = "free_customer_service", "Free: customer service window"
        FREE_ENTRY_POINT = "free_entry_point", "Free: entry point (ad) window"

    shop = models.ForeignKey("tenants.Shop", on_delete=models.CASCADE, related_name="+", db_index=False)
    wamid = models.CharField(max_length=128, unique=True)
    occurred_at = models.DateTimeField()
    day = models.DateField(help_text="The shop's local day.")
    category = models.CharField(max_length=32)
    market = models.CharField(max_length=8)
    pricing_type = models.CharField(max_length=32)
    billable = models.BooleanField()
    priced_from = models.CharField(max_length=12, help_text="webhook or rate_card")
    rate_currency = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=12, decimal_places=6)
    fx_rate = models.DecimalField(max_digits=14, decimal_places=6)
    currency = models.CharField(max_length=3)
    meta_cost = models.DecimalField(**MONEY)
    price = models.DecimalField(**MONEY)

    class Meta:
        indexes = [models.Index(fields=["shop", "day"])]
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        return f"{self.wamid} {self.category} {self.price} {self.currency}"


class UsageRollup(models.Model):
    """Sums of the ledger per shop, local day and category, written in the ledger's transaction."""

    shop = models.ForeignKey("tenants.Shop", on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    category = models.CharField(max_length=32)
    currency = models.CharField(max_length=3)
    messages = models.PositiveBigIntegerField(default=0)
    billable_messages = models.PositiveBigIntegerField(default=0)
    meta_cost = models.DecimalField(**MONEY, default=Decimal(0))
    price = models.DecimalField(**MONEY, default=Decimal(0))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "day", "category"], name="usage_rollup_unique")]
        indexes = [models.Index(fields=["day"], name="usage_rollup_day")]  # the operator's month across shops

    def __str__(self) -> str:
        return f"{self.day} {self.category}: {self.messages} messages, {self.price} {self.currency}"


class StripeEvent(models.Model):
    """A Stripe webhook event we have applied; its id makes a redelivery a no-op."""

    event_id = models.CharField(max_length=80, unique=True)
    type = models.CharField(max_length=80)
    created = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class MeterReport(models.Model):
    """Usage of a postpaid shop's closed local day sent to a Stripe Billing Meter, in minor units.

    Written before it is sent (an outbox): a retry resends the same identifier, which Stripe dedupes.
    A status that lands after its day was reported adds a second report with the difference.
    """

    shop = models.ForeignKey("tenants.Shop", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    identifier = models.CharField(max_length=120, unique=True)
    value = models.DecimalField(**MONEY)
    reported_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return self.identifier
