"""The prepaid WhatsApp balance: top-ups, reservations before a paid send, settlement when Meta prices it.

A send that Meta may charge for first reserves its estimated price under a row lock on the shop's
account, so parallel workers can never spend the same money twice: `balance - reserved` is what is
available, and a reservation that does not fit (or would pass the monthly cap) is refused before the
message leaves. The ledger settles the reservation to the actual price. A broadcast holds its whole estimate
once (`broadcast:<id>`); each of its messages, when priced, frees its share of that group reservation, and a
recipient that fails or is skipped frees its share with `free_hold`.
"""

import logging
import uuid
import zoneinfo
from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.db.models.functions import Greatest
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


def free_hold(shop_id: int, reference: str, amount: Decimal) -> Decimal:
    """Gives back part of a held reservation (a broadcast recipient that failed or was skipped); returns what was freed.

    Neither the reservation's remaining nor the account's reserved amount goes below zero; a reservation with
    nothing left is closed.
    """
    if amount <= 0:
        return Decimal(0)
    with transaction.atomic():
        account = _locked(shop_id)
        freed = _free_group_holds(account.pk, {reference: amount})
        if freed:
            BillingAccount.objects.filter(pk=account.pk).update(reserved=Greatest(F("reserved") - freed, Decimal(0)))
    return freed


def _free_group_holds(account_id: int, amounts: dict[str, Decimal]) -> Decimal:
    """Takes `amounts` off the named held reservations (never below zero), in one statement; returns the total taken.

    The caller holds the account's row lock.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {Reservation._meta.db_table} AS r
            SET remaining = GREATEST(held.remaining - held.amount, 0),
                state = CASE WHEN held.remaining <= held.amount THEN %s ELSE r.state END
            FROM (
                SELECT r2.id, r2.remaining, u.amount
                FROM {Reservation._meta.db_table} AS r2
                JOIN unnest(%s::varchar[], %s::numeric[]) AS u(reference, amount) ON u.reference = r2.reference
                WHERE r2.account_id = %s AND r2.state = %s
                FOR UPDATE OF r2
            ) AS held
            WHERE r.id = held.id
            RETURNING LEAST(held.remaining, held.amount)
            """,
            [
                Reservation.State.SETTLED,
                list(amounts),
                list(amounts.values()),
                account_id,
                Reservation.State.HELD,
            ],
        )
        return sum((taken for (taken,) in cursor.fetchall()), Decimal(0))


def settle_usage(
    shop_id: int, priced: list[tuple[str, Decimal]], holds: dict[str, tuple[str, Decimal]] | None = None
) -> None:
    """Debits newly ledgered messages, freeing what their sends held. Runs in the ledger's transaction.

    A message's own reservation (`msg:<pk>`, linked by its WhatsApp id) is settled whole; a message covered by a
    group reservation (`holds`: wamid -> (reference, its share), e.g. a broadcast's) frees its share of it. Called
    only with rows the ledger has just inserted, so a repeated webhook never frees or debits twice.
    A message billed above what it held takes at most what the balance has: the balance never goes below zero,
    the ledger keeps the full price. A few statements whatever the batch size: this is the metering hot path.
    """
    charged = sum((price for _wamid, price in priced), Decimal(0))
    table = BillingAccount._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, balance, monthly_cap, auto_recharge AND saved_payment_method <> '' "
            f"FROM {table} WHERE shop_id = %s FOR UPDATE",
            [shop_id],
        )
        row = cursor.fetchone()
        if row is None:
            account_for(shop_id)
            return settle_usage(shop_id, priced, holds)
        account_id, balance, monthly_cap, recharges = row
        reservations = Reservation._meta.db_table
        cursor.execute(
            f"""
            UPDATE {reservations} AS r SET state = %s, remaining = 0
            FROM (SELECT id, remaining FROM {reservations} WHERE account_id = %s AND state = %s AND wamid = ANY(%s)
                  FOR UPDATE) AS held
            WHERE r.id = held.id RETURNING held.remaining
            """,
            [Reservation.State.SETTLED, account_id, Reservation.State.HELD, [wamid for wamid, _ in priced]],
        )
        freed = sum((remaining for (remaining,) in cursor.fetchall()), Decimal(0))
        group: dict[str, Decimal] = defaultdict(Decimal)
        for wamid, _price in priced:
            if holds and wamid in holds:
                reference, share = holds[wamid]
                group[reference] += share
        if group:
            freed += _free_group_holds(account_id, group)
        if not charged and not freed:
            return
        debit = min(charged, balance)
        # The balance, what is held and the balance's history in one statement.
        cursor.execute(
            f"""
            WITH account AS (
                UPDATE {table} SET balance = balance - %(debit)s, reserved = GREATEST(reserved - %(freed)s, 0)
                WHERE id = %(id)s RETURNING balance
            )
            INSERT INTO {BalanceEntry._meta.db_table}
                (account_id, kind, amount, balance_after, reference, description, created_at)
            SELECT %(id)s, %(kind)s, -%(debit)s, account.balance, %(reference)s, %(description)s, %(now)s
            FROM account WHERE %(debit)s > 0
            """,
            {
                "id": account_id,
                "debit": debit,
                "freed": freed,
                "kind": BalanceEntry.Kind.USAGE,
                "reference": f"usage:{uuid.uuid4().hex}",
                "description": _("%(count)d WhatsApp message(s)") % {"count": len(priced)},
                "now": timezone.now(),
            },
        )
    if monthly_cap is not None or (recharges and debit):
        # Cap alerts and auto-recharge read the committed account; nothing to look at otherwise.
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
