"""The prepaid WhatsApp balance: top-ups, reservations before a paid send, settlement when Meta prices it.

A send that Meta may charge for first reserves its estimated price under a row lock on the shop's
account, so parallel workers can never spend the same money twice: `balance - reserved` is what is
available, and a reservation that does not fit (or would pass the monthly cap) is refused before the
message leaves. The ledger settles the reservation to the actual price.
"""

import logging
import uuid
import zoneinfo
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tenants.models import Membership, Role, Shop
from tenants.services.errors import ServiceError

from .models import BalanceEntry, BillingAccount, LedgerEntry, Reservation, UsageRollup

logger = logging.getLogger(__name__)
CAP_ALERT_LEVELS = (100, 80)
# Our whole amounts (top-ups, plan prices, thresholds) are in these minor units per currency unit:
# whole rupiah for IDR, cents for USD. Balances and ledger amounts are Decimal currency units.
MINOR_PER_UNIT = {"IDR": 1, "USD": 100}


def from_minor(amount: int, currency: str) -> Decimal:
    return Decimal(amount) / MINOR_PER_UNIT.get(currency, 100)


class SpendRefused(ServiceError):
    """A paid send that the balance or the monthly cap does not allow."""


def account_for(shop: Shop | int) -> BillingAccount:
    shop_id = shop if isinstance(shop, int) else shop.pk
    account = BillingAccount.objects.filter(shop_id=shop_id).first()
    if account is None:
        currency = Shop.objects.filter(pk=shop_id).values_list("currency", flat=True).first() or "IDR"
        try:
            with transaction.atomic():
                account = BillingAccount.objects.create(shop_id=shop_id, currency=currency)
        except IntegrityError:
            account = BillingAccount.objects.get(shop_id=shop_id)
    return account


def _locked(shop_id: int) -> BillingAccount:
    account_for(shop_id)
    return BillingAccount.objects.select_for_update().select_related("shop").get(shop_id=shop_id)


def local_today(shop: Shop) -> date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(shop.time_zone or settings.SHOP_DEFAULT_TIME_ZONE)).date()


def spent_this_month(shop: Shop) -> Decimal:
    today = local_today(shop)
    total = UsageRollup.objects.filter(shop_id=shop.pk, day__gte=today.replace(day=1), day__lte=today).aggregate(
        total=Sum("price")
    )["total"]
    return total or Decimal(0)


def credit_top_up(shop_id: int, amount: int, reference: str, description: str = "") -> bool:
    """Adds a paid top-up (whole minor units) once per reference (a Stripe payment id); False if already done."""
    with transaction.atomic():
        account = _locked(shop_id)
        if BalanceEntry.objects.filter(account=account, reference=reference).exists():
            return False
        credit = from_minor(amount, account.currency)
        account.balance += credit
        account.auto_recharge_error = ""
        account.save(update_fields=["balance", "auto_recharge_error"])
        BalanceEntry.objects.create(
            account=account,
            kind=BalanceEntry.Kind.TOP_UP,
            amount=credit,
            balance_after=account.balance,
            reference=reference,
            description=description or _("WhatsApp balance top-up"),
        )
    return True


def reserve(shop_id: int, reference: str, amount: Decimal, *, prepaid: bool = True) -> Reservation | None:
    """Holds `amount` for a paid send, or refuses it with the reason the shop will read.

    Postpaid shops hold nothing but are still held to their monthly cap.
    """
    if amount <= 0:
        return None
    with transaction.atomic():
        account = _locked(shop_id)
        if account.monthly_cap is not None:
            committed = spent_this_month(account.shop) + account.reserved + amount
            if committed > account.monthly_cap:
                raise SpendRefused(
                    _("This month's WhatsApp spending cap of %(cap)s is reached. Raise it in Settings > Billing.")
                    % {"cap": money(account.monthly_cap, account.currency)},
                    code="cap_reached",
                )
        if not prepaid:
            return None
        if account.available < amount:
            raise SpendRefused(
                _(
                    "Your WhatsApp balance is too low for this message (%(needed)s needed, %(left)s left). "
                    "Top up in Settings > Billing."
                )
                % {"needed": money(amount, account.currency), "left": money(account.available, account.currency)},
                code="balance_empty",
            )
        existing = Reservation.objects.filter(account=account, reference=reference).first()
        if existing:
            return existing
        account.reserved += amount
        account.save(update_fields=["reserved"])
        return Reservation.objects.create(account=account, reference=reference, amount=amount, remaining=amount)


def attach_wamid(shop_id: int, reference: str, wamid: str) -> None:
    """Links a reservation to the WhatsApp id Meta gave the message, which its pricing will carry.

    When the priced status came first (webhooks race the send's answer), the ledger already debited it.
    """
    held = Reservation.objects.filter(account__shop_id=shop_id, reference=reference).update(wamid=wamid)
    if held and LedgerEntry.objects.filter(wamid=wamid).exists():
        release(shop_id, reference=reference)


def release(shop_id: int, *, reference: str | None = None, wamid: str | None = None) -> None:
    """Gives back what a send held when it failed before Meta could charge it."""
    if not reference and not wamid:
        return
    with transaction.atomic():
        account = _locked(shop_id)
        held = Reservation.objects.select_for_update().filter(account=account, state=Reservation.State.HELD)
        held = held.filter(reference=reference) if reference else held.filter(wamid=wamid)
        freed = sum((r.remaining for r in held), Decimal(0))
        if not freed:
            return
        held.update(state=Reservation.State.RELEASED, remaining=0)
        account.reserved = max(account.reserved - freed, Decimal(0))
        account.save(update_fields=["reserved"])


def settle_usage(shop_id: int, priced: list[tuple[str, Decimal]]) -> None:
    """Debits newly ledgered messages, releasing what their sends held. Runs in the ledger's transaction.

    A message billed above what it held (Meta priced it differently) takes at most what the balance has:
    the balance never goes below zero, the ledger keeps the full price.
    """
    charged = sum((price for _wamid, price in priced), Decimal(0))
    account = _locked(shop_id)
    held = list(
        Reservation.objects.select_for_update()
        .filter(account=account, state=Reservation.State.HELD, wamid__in=[wamid for wamid, _ in priced])
        .values_list("pk", "remaining")
    )
    freed = sum((remaining for _pk, remaining in held), Decimal(0))
    if held:
        Reservation.objects.filter(pk__in=[pk for pk, _ in held]).update(state=Reservation.State.SETTLED, remaining=0)
    if not charged and not freed:
        return
    debit = min(charged, account.balance)
    account.balance -= debit
    account.reserved = max(account.reserved - freed, Decimal(0))
    account.save(update_fields=["balance", "reserved"])
    if debit:
        BalanceEntry.objects.create(
            account=account,
            kind=BalanceEntry.Kind.USAGE,
            amount=-debit,
            balance_after=account.balance,
            reference=f"usage:{uuid.uuid4().hex}",
            description=_("%(count)d WhatsApp message(s)") % {"count": len(priced)},
        )
    transaction.on_commit(lambda: after_spend(shop_id))


def after_spend(shop_id: int) -> None:
    """Cap alerts and auto-recharge, once the spend is committed."""
    account = BillingAccount.objects.select_related("shop").get(shop_id=shop_id)
    _alert_on_cap(account)
    below = from_minor(account.auto_recharge_below, account.currency)
    if account.auto_recharge and account.saved_payment_method and account.available < below:
        from .tasks import auto_recharge

        try:
            auto_recharge.delay(shop_id)
        except Exception:
            logger.warning("could not queue auto-recharge for shop %s", shop_id)


def cap_percent(account: BillingAccount) -> int | None:
    if not account.monthly_cap:
        return None
    return int(spent_this_month(account.shop) * 100 / account.monthly_cap)


def _alert_on_cap(account: BillingAccount) -> None:
    percent = cap_percent(account)
    if percent is None:
        return
    level = next((level for level in CAP_ALERT_LEVELS if percent >= level), 0)
    month = local_today(account.shop).replace(day=1)
    sent = account.cap_alert_percent if account.cap_alert_month == month else 0
    if level <= sent:
        return
    updated = BillingAccount.objects.filter(pk=account.pk, cap_alert_month=account.cap_alert_month).update(
        cap_alert_month=month, cap_alert_percent=level
    )
    if not updated:
        return  # another worker sent this alert
    with translation.override(account.shop.locale or "id"):
        email_owners(
            account.shop,
            _("WhatsApp spending at %(percent)d%% of your cap") % {"percent": level},
            _(
                "%(shop)s has spent %(spent)s of its %(cap)s monthly WhatsApp cap. "
                "At 100%% paid messages stop until the cap is raised in Settings > Billing."
            )
            % {
                "shop": account.shop.name,
                "spent": money(spent_this_month(account.shop), account.currency),
                "cap": money(account.monthly_cap, account.currency),
            },
        )


def set_preferences(
    shop_id: int,
    *,
    monthly_cap: Decimal | None,
    auto_recharge: bool,
    auto_recharge_below: int,
    auto_recharge_amount: int,
) -> BillingAccount:
    if monthly_cap is not None and monthly_cap < 0:
        raise ServiceError(_("The cap cannot be negative."), field="monthly_cap")
    if auto_recharge and auto_recharge_amount <= 0:
        raise ServiceError(_("Choose how much to top up automatically."), field="auto_recharge_amount")
    with transaction.atomic():
        account = _locked(shop_id)
        if auto_recharge and not account.saved_payment_method:
            raise ServiceError(
                _("Top up once with a card and save it to turn on auto-recharge."), field="auto_recharge"
            )
        account.monthly_cap = monthly_cap
        account.auto_recharge = auto_recharge
        account.auto_recharge_below = auto_recharge_below
        account.auto_recharge_amount = auto_recharge_amount
        if monthly_cap is not None and account.cap_alert_month:
            account.cap_alert_percent = 0  # a new cap earns new alerts
        account.save()
    return account


def email_owners(shop: Shop, subject: str, body: str) -> None:
    owners = Membership.objects.filter(shop=shop, role=Role.OWNER).select_related("user")
    for membership in owners:
        send_mail(subject, body, None, [membership.user.email], fail_silently=True)


def money(amount: Decimal | int, currency: str) -> str:
    """Rp1.234 for IDR (no minor unit), US$1.23 for USD."""
    if currency == "IDR":
        return "Rp" + f"{Decimal(amount).quantize(Decimal(1)):,}".replace(",", ".")
    return f"US${Decimal(amount).quantize(Decimal('0.01')):,}"
