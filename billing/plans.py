"""Plans, their limits, and the check that refuses what a shop's plan does not include."""

from django.db.models import Q
from django.utils.translation import gettext as _

from tenants.models import Shop
from tenants.services.errors import ServiceError

from .models import Plan

DEFAULT_PLANS = [
    {
        "code": "trial",
        "name": "Trial",
        "monthly_price_idr": 0,
        "monthly_price_usd_cents": 0,
        "trial_days": 14,
        "staff_seats": 3,
        "contact_limit": 1_000,
        "broadcasts_per_month": 2,
        "automation_rules": 5,
        "whatsapp_markup_percent": 20,
        "is_trial_plan": True,
        "is_public": False,
        "features": ["inbox", "auto_reply", "crm"],
    },
    {
        "code": "starter",
        "name": "Starter",
        "monthly_price_idr": 149_000,
        "monthly_price_usd_cents": 900,
        "staff_seats": 3,
        "contact_limit": 5_000,
        "broadcasts_per_month": 10,
        "automation_rules": 20,
        "whatsapp_markup_percent": 20,
        "features": ["inbox", "auto_reply", "crm", "broadcasts"],
    },
    {
        "code": "growth",
        "name": "Growth",
        "monthly_price_idr": 399_000,
        "monthly_price_usd_cents": 2_500,
        "staff_seats": 10,
        "contact_limit": 50_000,
        "broadcasts_per_month": 100,
        "automation_rules": None,
        "whatsapp_markup_percent": 15,
        "features": ["inbox", "auto_reply", "crm", "broadcasts", "analytics_export"],
    },
    {
        "code": "scale",
        "name": "Scale",
        "monthly_price_idr": 999_000,
        "monthly_price_usd_cents": 6_500,
        "staff_seats": 30,
        "contact_limit": None,
        "broadcasts_per_month": None,
        "automation_rules": None,
        "whatsapp_markup_percent": 10,
        "usage_billing": Plan.UsageBilling.POSTPAID,
        "features": ["inbox", "auto_reply", "crm", "broadcasts", "analytics_export", "postpaid_usage"],
    },
]

LIMIT_NAMES = {
    "staff_seats": lambda limit: _("%(limit)d staff seat(s)") % {"limit": limit},
    "contact_limit": lambda limit: _("%(limit)d contacts") % {"limit": limit},
    "broadcasts_per_month": lambda limit: _("%(limit)d broadcasts a month") % {"limit": limit},
    "automation_rules": lambda limit: _("%(limit)d auto-reply rules") % {"limit": limit},
}


class LimitReached(ServiceError):
    """Something the shop's plan does not include; the message names the limit and a plan that lifts it."""


def ensure_default_plans() -> None:
    for plan in DEFAULT_PLANS:
        Plan.objects.get_or_create(code=plan["code"], defaults=plan)


def trial_plan() -> Plan | None:
    return Plan.objects.filter(is_trial_plan=True).first()


def plan_of(shop: Shop) -> Plan | None:
    return Plan.objects.filter(pk=shop.plan_id).first() if shop.plan_id else None


def check_limit(shop: Shop, limit: str, *, in_use, adding: int = 1) -> None:
    """Refuses going from `in_use` to `in_use + adding` when the plan's `limit` does not allow it.

    `in_use` may be a function: it is only counted when the plan has that limit.
    """
    plan = plan_of(shop)
    allowed = getattr(plan, limit, None) if plan else None
    if allowed is None:
        return
    in_use = in_use() if callable(in_use) else in_use
    if in_use + adding <= allowed:
        return
    lifting = (
        Plan.objects.filter(is_public=True, is_trial_plan=False)
        .filter(Q(**{f"{limit}__isnull": True}) | Q(**{f"{limit}__gte": in_use + adding}))
        .order_by("monthly_price_idr")
        .first()
    )
    message = _("Your %(plan)s plan includes %(limit)s.") % {"plan": plan.name, "limit": LIMIT_NAMES[limit](allowed)}
    if lifting:
        message += " " + _("Upgrade to %(plan)s in Settings > Billing for more.") % {"plan": lifting.name}
    raise LimitReached(message, code="plan_limit")


def check_limit_here(limit: str, *, in_use, adding: int = 1) -> None:
    """check_limit for the shop whose schema is active (services running inside a shop)."""
    from django.db import connection

    shop = connection.tenant
    if not isinstance(shop, Shop):
        shop = Shop.objects.get(schema_name=connection.schema_name)
    check_limit(shop, limit, in_use=in_use, adding=adding)
