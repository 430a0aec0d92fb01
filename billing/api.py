"""Settings > Billing: plan and limits, WhatsApp balance and top-up, this month's usage, cap, invoices."""

import calendar
from datetime import timedelta
from decimal import Decimal

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from crm.models import Contact
from tenants.models import Invitation, Membership
from tenants.permissions import IsShopManager
from whatsapp.models import AutoReplyRule

from . import access, stripe_gateway, wallet
from .metering import month_to_date
from .models import Plan, UsageRollup


class SubscribeSerializer(serializers.Serializer):
    plan = serializers.SlugField()


class TopUpSerializer(serializers.Serializer):
    amount = serializers.IntegerField(min_value=1)
    save_card = serializers.BooleanField(default=False)


class PreferencesSerializer(serializers.Serializer):
    monthly_cap = serializers.DecimalField(max_digits=18, decimal_places=4, allow_null=True, min_value=Decimal(0))
    auto_recharge = serializers.BooleanField(default=False)
    auto_recharge_below = serializers.IntegerField(min_value=0, default=0)
    auto_recharge_amount = serializers.IntegerField(min_value=0, default=0)


def _return_url(request) -> str:
    return request.build_absolute_uri("/settings/billing")


def _plan(plan: Plan, currency: str) -> dict:
    return {
        "code": plan.code,
        "name": plan.name,
        "monthly_price": plan.monthly_price(currency),
        "staff_seats": plan.staff_seats,
        "contact_limit": plan.contact_limit,
        "broadcasts_per_month": plan.broadcasts_per_month,
        "automation_rules": plan.automation_rules,
        "whatsapp_markup_percent": str(plan.whatsapp_markup_percent),
        "usage_billing": plan.usage_billing,
        "features": plan.features,
        "is_trial_plan": plan.is_trial_plan,
    }


def _limits(shop, plan: Plan | None) -> list[dict]:
    seats = Membership.objects.filter(shop=shop).count()
    seats += sum(1 for invitation in Invitation.objects.filter(shop=shop) if invitation.is_pending)
    used = {
        "staff_seats": seats,
        "contact_limit": Contact.objects.count(),
        "automation_rules": AutoReplyRule.objects.count(),
    }
    return [{"limit": name, "used": count, "allowed": getattr(plan, name, None)} for name, count in used.items()]


@extend_schema(tags=["billing"])
@api_view(["GET"])
@permission_classes([IsShopManager])
def overview(request):
    return Response(_overview(request.tenant))


def _overview(shop) -> dict:
    account = wallet.account_for(shop)
    plan = Plan.objects.filter(pk=shop.plan_id).first()
    today = wallet.local_today(shop)
    usage = month_to_date(shop.pk, today)
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    projected = (usage["total"]["price"] * days_in_month / today.day).quantize(Decimal("0.0001"))
    daily = (
        UsageRollup.objects.filter(shop_id=shop.pk, day__gte=usage["from"], day__lte=today)
        .order_by("day", "category")
        .values("day", "category", "messages", "price")
    )
    return {
        "currency": account.currency,
        "plan": _plan(plan, account.currency) if plan else None,
        "plans": [_plan(p, account.currency) for p in Plan.objects.filter(is_public=True, is_trial_plan=False)],
        "limits": _limits(shop, plan),
        "subscription": {
            "status": account.subscription_status,
            "current_period_end": account.current_period_end,
            "cancel_at_period_end": account.cancel_at_period_end,
            "trial_ends_at": (
                shop.created_at + timedelta(days=plan.trial_days) if plan and plan.is_trial_plan else None
            ),
        },
        "read_only": access.read_only_reason(shop, account),
        "payment_warning": access.payment_warning(shop, account),
        "balance": {
            "balance": str(account.balance),
            "reserved": str(account.reserved),
            "available": str(account.available),
            "saved_card": bool(account.saved_payment_method),
            "auto_recharge": account.auto_recharge,
            "auto_recharge_below": account.auto_recharge_below,
            "auto_recharge_amount": account.auto_recharge_amount,
            "auto_recharge_error": account.auto_recharge_error,
        },
        "cap": {
            "monthly_cap": str(account.monthly_cap) if account.monthly_cap is not None else None,
            "percent": wallet.cap_percent(account),
        },
        "usage": {
            "from": usage["from"],
            "to": today,
            "by_category": [
                {**row, "meta_cost": str(row["meta_cost"]), "price": str(row["price"])}
                for row in usage["by_category"].values()
            ],
            "total_messages": usage["total"]["messages"],
            "total_billable": usage["total"]["billable_messages"],
            "total_price": str(usage["total"]["price"]),
            "projected_price": str(projected),
            "daily": [{**row, "price": str(row["price"])} for row in daily],
        },
    }


@extend_schema(request=SubscribeSerializer, tags=["billing"])
@api_view(["POST"])
@permission_classes([IsShopManager])
def subscribe(request):
    serializer = SubscribeSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    plan = Plan.objects.filter(code=serializer.validated_data["plan"], is_public=True).first()
    if plan is None:
        raise serializers.ValidationError({"plan": [_("Choose one of the offered plans.")]})
    return Response({"url": stripe_gateway.subscribe_checkout(request.tenant, plan, _return_url(request))})


@extend_schema(request=TopUpSerializer, tags=["billing"])
@api_view(["POST"])
@permission_classes([IsShopManager])
def top_up(request):
    serializer = TopUpSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    url = stripe_gateway.top_up_checkout(
        request.tenant,
        serializer.validated_data["amount"],
        _return_url(request),
        save_card=serializer.validated_data["save_card"],
    )
    return Response({"url": url})


@extend_schema(tags=["billing"])
@api_view(["POST"])
@permission_classes([IsShopManager])
def customer_portal(request):
    return Response({"url": stripe_gateway.portal(request.tenant, _return_url(request))})


@extend_schema(request=PreferencesSerializer, tags=["billing"])
@api_view(["PUT"])
@permission_classes([IsShopManager])
def preferences(request):
    serializer = PreferencesSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    wallet.set_preferences(request.tenant.pk, **serializer.validated_data)
    return Response(_overview(request.tenant))


@extend_schema(tags=["billing"])
@api_view(["GET"])
@permission_classes([IsShopManager])
def invoices(request):
    return Response(stripe_gateway.invoices(request.tenant))
