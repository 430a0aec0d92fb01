"""Whether a shop may send and change data: a trial that ended or a payment past its grace makes it read-only.

Read-only never stops incoming messages: the inbox keeps receiving, nothing is deleted.
"""

import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from tenants.models import Shop

from .models import BillingAccount


def read_only_reason(shop: Shop, account: BillingAccount | None = None) -> str | None:
    account = account or BillingAccount.objects.filter(shop_id=shop.pk).first()
    status = account.subscription_status if account else ""
    now = timezone.now()
    if status in (BillingAccount.SubscriptionStatus.PAST_DUE, BillingAccount.SubscriptionStatus.UNPAID):
        grace = timedelta(days=settings.BILLING_PAST_DUE_GRACE_DAYS)
        if account.past_due_since and now - account.past_due_since > grace:
            return _(
                "Your subscription payment is overdue: the shop is read-only until it is paid in Settings > Billing."
            )
        return None
    if status in (BillingAccount.SubscriptionStatus.ACTIVE, BillingAccount.SubscriptionStatus.TRIALING):
        return None
    if status == BillingAccount.SubscriptionStatus.CANCELED:
        return _("Your subscription has ended: choose a plan in Settings > Billing to send messages again.")
    plan = shop.plan
    if plan and plan.is_trial_plan and plan.trial_days and now > shop.created_at + timedelta(days=plan.trial_days):
        return _("Your free trial has ended: choose a plan in Settings > Billing to send messages again.")
    return None


def payment_warning(shop: Shop, account: BillingAccount | None = None) -> str | None:
    """The banner while a payment is overdue but still inside its grace period."""
    account = account or BillingAccount.objects.filter(shop_id=shop.pk).first()
    if account and account.subscription_status == BillingAccount.SubscriptionStatus.PAST_DUE:
        deadline = (account.past_due_since or timezone.now()) + timedelta(days=settings.BILLING_PAST_DUE_GRACE_DAYS)
        return _("Your last payment failed. Update your card before %(date)s to keep sending.") % {
            "date": timezone.localtime(
                deadline, timezone=zoneinfo.ZoneInfo(shop.time_zone or settings.SHOP_DEFAULT_TIME_ZONE)
            ).strftime("%d-%m-%Y")
        }
    return None
