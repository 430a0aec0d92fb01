"""Stripe webhook events: verified, applied once by event id, and safe in any order.

Subscription events are not applied from their payload: the subscription is fetched from Stripe, so an
`updated` that arrives before `created` (or an old event redelivered late) still leaves the latest state.
"""

import logging
from datetime import UTC, datetime

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tenants.models import Shop
from tenants.services.lifecycle import apply_plan

from . import stripe_gateway, wallet
from .models import BillingAccount, Plan, StripeEvent

logger = logging.getLogger(__name__)


class BadEvent(Exception):
    """Refused: not signed by Stripe with our endpoint secret, or not JSON."""


def verify(body: bytes, signature: str | None) -> stripe.Event:
    try:
        return stripe.Webhook.construct_event(body, signature or "", settings.STRIPE_WEBHOOK_SECRET)
    except (ValueError, stripe.SignatureVerificationError) as error:
        raise BadEvent(str(error)) from error


def handle(event: stripe.Event) -> bool:
    """Applies an event unless it was applied before; False for a repeat. Raises to make Stripe retry."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                StripeEvent.objects.create(
                    event_id=event.id, type=event.type, created=datetime.fromtimestamp(event.created, tz=UTC)
                )
        except IntegrityError:
            return False
        handler = HANDLERS.get(event.type)
        if handler:
            handler(event.data.object.to_dict())
    return True


def _shop_for(obj) -> Shop | None:
    metadata = obj.get("metadata") or {}
    if metadata.get("shop_id"):
        return Shop.objects.filter(pk=int(metadata["shop_id"])).first()
    customer = obj.get("customer")
    account = BillingAccount.objects.filter(stripe_customer_id=customer).select_related("shop").first()
    return account.shop if account else None


def _checkout_completed(session) -> None:
    shop = _shop_for(session)
    if shop is None:
        logger.warning("checkout %s for an unknown shop", session["id"])
        return
    if session["mode"] == "subscription" and session.get("subscription"):
        sync_subscription(shop, _id(session["subscription"]))
    elif session["mode"] == "payment" and session.get("payment_status") == "paid":
        intent = stripe_gateway.client().v1.payment_intents.retrieve(_id(session["payment_intent"]))
        _credit_intent(shop, intent.to_dict())


def _payment_intent_succeeded(intent) -> None:
    shop = _shop_for(intent)
    if shop is not None:
        _credit_intent(shop, intent)


def _credit_intent(shop: Shop, intent) -> None:
    """Top-ups credit once per payment, whichever of its two events (checkout, payment intent) comes first."""
    if (intent.get("metadata") or {}).get("kind") != "top_up" or intent["status"] != "succeeded":
        return
    amount = stripe_gateway.from_stripe(intent["amount"], intent["currency"])
    wallet.credit_top_up(shop.pk, amount, f"pi:{intent['id']}")
    method = _id(intent.get("payment_method"))
    if method and intent.get("setup_future_usage") == "off_session":
        BillingAccount.objects.filter(shop=shop).update(saved_payment_method=method)


def _subscription_changed(subscription) -> None:
    shop = _shop_for(subscription)
    if shop is not None:
        sync_subscription(shop, subscription["id"])


def _invoice_changed(invoice) -> None:
    shop = _shop_for(invoice)
    subscription = _id(
        invoice.get("subscription") or (invoice.get("parent") or {}).get("subscription_details", {}).get("subscription")
    )
    if shop is None or not subscription:
        return
    before = wallet.account_for(shop).subscription_status
    sync_subscription(shop, subscription)
    if invoice.get("status") != "paid" and before != BillingAccount.SubscriptionStatus.PAST_DUE:
        transaction.on_commit(lambda: _email_payment_failed(shop))


def sync_subscription(shop: Shop, subscription_id: str) -> None:
    """Copies the subscription's current state from Stripe: status, plan, period, past-due start."""
    subscription = stripe_gateway.client().v1.subscriptions.retrieve(subscription_id).to_dict()
    account = BillingAccount.objects.select_for_update().get(pk=wallet.account_for(shop).pk)
    replaced = account.stripe_subscription_id and account.stripe_subscription_id != subscription["id"]
    if replaced and subscription["status"] in ("canceled", "incomplete_expired"):
        return  # an old subscription ending does not undo the current one
    status = subscription["status"]
    account.stripe_subscription_id = subscription["id"]
    account.subscription_status = status if status in BillingAccount.SubscriptionStatus.values else "canceled"
    item = subscription["items"]["data"][0] if subscription["items"]["data"] else {}
    period_end = item.get("current_period_end") or subscription.get("current_period_end")
    account.current_period_end = datetime.fromtimestamp(period_end, tz=UTC) if period_end else None
    account.cancel_at_period_end = bool(subscription.get("cancel_at_period_end"))
    if status in ("past_due", "unpaid"):
        account.past_due_since = account.past_due_since or timezone.now()
    else:
        account.past_due_since = None
    account.save()
    price = (item.get("price") or {}).get("id")
    plan = (
        Plan.objects.filter(stripe_price_idr=price).first()
        or Plan.objects.filter(stripe_price_usd=price).first()
        or Plan.objects.filter(code=(subscription.get("metadata") or {}).get("plan")).first()
    )
    if plan and status in ("active", "trialing", "past_due") and shop.plan_id != plan.pk:
        apply_plan(shop, plan)


def _email_payment_failed(shop: Shop) -> None:
    with translation.override(shop.locale or "id"):
        wallet.email_owners(
            shop,
            _("Payment for Warung CRM failed"),
            _(
                "We could not charge your card for %(shop)s. Update it in Settings > Billing within %(days)d days; "
                "after that the shop becomes read-only (incoming messages are still received)."
            )
            % {"shop": shop.name, "days": settings.BILLING_PAST_DUE_GRACE_DAYS},
        )


def _id(value) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    return value.get("id", "")


HANDLERS = {
    "checkout.session.completed": _checkout_completed,
    "payment_intent.succeeded": _payment_intent_succeeded,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_changed,
    "invoice.paid": _invoice_changed,
    "invoice.payment_failed": _invoice_changed,
}
