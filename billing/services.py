"""Billing actions needed by other apps before the billing issue lands."""

from .models import Plan

DEFAULT_PLANS = [
    {
        "code": "trial",
        "name": "Trial",
        "monthly_price_idr": 0,
        "trial_days": 14,
        "staff_seats": 3,
        "is_trial_plan": True,
    },
    {"code": "starter", "name": "Starter", "monthly_price_idr": 149_000, "trial_days": 0, "staff_seats": 3},
    {"code": "growth", "name": "Growth", "monthly_price_idr": 399_000, "trial_days": 0, "staff_seats": 10},
]


def ensure_default_plans() -> None:
    for plan in DEFAULT_PLANS:
        Plan.objects.get_or_create(code=plan["code"], defaults=plan)


def trial_plan() -> Plan | None:
    return Plan.objects.filter(is_trial_plan=True).first()
