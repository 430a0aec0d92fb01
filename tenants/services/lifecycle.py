"""Operator actions on a whole shop. Suspension blocks staff, never incoming data."""

from django.utils import timezone

from console.models import OperatorAction

from .. import audit
from ..models import Shop, User


def suspend_shop(shop: Shop, operator: User, reason: str = "") -> None:
    if shop.status == Shop.Status.SUSPENDED:
        return
    shop.status = Shop.Status.SUSPENDED
    shop.suspended_at = timezone.now()
    shop.suspended_reason = reason[:200]
    shop.save(update_fields=["status", "suspended_at", "suspended_reason"])
    OperatorAction.objects.create(operator=operator, shop=shop, action="shop.suspended", detail={"reason": reason})
    audit.record("shop.suspended", actor=operator, shop=shop, details={"reason": reason[:200]})


def reactivate_shop(shop: Shop, operator: User) -> None:
    if shop.status != Shop.Status.SUSPENDED:
        return
    if shop.deletion_due_at is not None:  # suspended while its deletion was pending: still pending
        shop.status = Shop.Status.DELETION_PENDING
    else:
        shop.status = Shop.Status.ACTIVE if shop.plan and not shop.plan.is_trial_plan else Shop.Status.TRIAL
    shop.suspended_at = None
    shop.suspended_reason = ""
    shop.save(update_fields=["status", "suspended_at", "suspended_reason"])
    OperatorAction.objects.create(operator=operator, shop=shop, action="shop.reactivated", detail={})
    audit.record("shop.reactivated", actor=operator, shop=shop)


def apply_plan(shop: Shop, plan) -> None:
    """A paid plan started or changed (from billing); a suspended shop stays suspended."""
    shop.plan = plan
    if shop.status == Shop.Status.TRIAL and not plan.is_trial_plan:
        shop.status = Shop.Status.ACTIVE
    shop.save(update_fields=["plan", "status"])
