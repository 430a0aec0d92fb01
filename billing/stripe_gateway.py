"""Every call we make to Stripe, through the official SDK. Tests and `make run` point it at billing/stripe_fake."""

import logging
from functools import cache

import stripe
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from tenants.models import Membership, Role, Shop
from tenants.services.errors import ServiceError

from . import wallet
from .models import BillingAccount, Plan

logger = logging.getLogger(__name__)
MIN_TOP_UP = {"IDR": 50_000, "USD": 500}  # our minor units: whole rupiah, cents
MAX_TOP_UP = {"IDR": 50_000_000, "USD": 500_000}


class StripeUnavailable(ServiceError):
    pass


# Stripe counts IDR in hundredths of a rupiah (it is not one of its zero-decimal currencies).
STRIPE_FACTOR = {"IDR": 100, "USD": 1}


def to_stripe(amount: int, currency: str) -> int:
    return amount * STRIPE_FACTOR.get(currency, 1)


def from_stripe(amount: int, currency: str) -> int:
    return int(amount) // STRIPE_FACTOR.get(currency.upper(), 1)


@cache
def client() -> stripe.StripeClient:
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=2,
    )


def _call(description: str, operation):
    """Runs one Stripe call; a failure becomes a message the shop can act on, with Stripe's reason logged."""
    try:
        return operation()
    except stripe.CardError as error:
        raise ServiceError(_("The card was declined: %(reason)s") % {"reason": error.user_message or error.code})
    except stripe.StripeError as error:
        logger.warning("stripe %s failed: %s", description, error)
        raise StripeUnavailable(_("Payments are unavailable right now. Please try again in a few minutes.")) from error


def ensure_customer(shop: Shop) -> BillingAccount:
    """One Stripe customer per shop, created on first need, tagged with the shop for the operator."""
    account = wallet.account_for(shop)
    if account.stripe_customer_id:
        return account
    owner = Membership.objects.filter(shop=shop, role=Role.OWNER).select_related("user").order_by("pk").first()
    customer = _call(
        "customer",
        lambda: client().v1.customers.create(
            params={
                "name": shop.name,
                "email": owner.user.email if owner else None,
                "metadata": {"shop_id": str(shop.pk), "subdomain": shop.slug or ""},
                "preferred_locales": [shop.locale or "id"],
            },
            options={"idempotency_key": f"warung-customer-{shop.pk}"},
        ),
    )
    BillingAccount.objects.filter(pk=account.pk, stripe_customer_id="").update(stripe_customer_id=customer.id)
    account.refresh_from_db()
    return account


def ensure_price(plan: Plan, currency: str) -> str:
    """The Stripe price of a plan in a currency, created on first need (the operator edits prices here)."""
    field = "stripe_price_usd" if currency == "USD" else "stripe_price_idr"
    if getattr(plan, field):
        return getattr(plan, field)
    product = _call(
        "product",
        lambda: client().v1.products.create(
            params={"name": f"Warung CRM {plan.name}", "metadata": {"plan": plan.code}},
            options={"idempotency_key": f"warung-product-{plan.code}"},
        ),
    )
    price = _call(
        "price",
        lambda: client().v1.prices.create(
            params={
                "product": product.id,
                "currency": currency.lower(),
                "unit_amount": to_stripe(plan.monthly_price(currency), currency),
                "recurring": {"interval": "month"},
                "metadata": {"plan": plan.code},
            },
            options={"idempotency_key": f"warung-price-{plan.code}-{currency}-{plan.monthly_price(currency)}"},
        ),
    )
    Plan.objects.filter(pk=plan.pk).update(**{field: price.id})
    return price.id


def subscribe_checkout(shop: Shop, plan: Plan, return_url: str) -> str:
    """A Checkout Session to subscribe to (or move to) a plan; returns the page to send the owner to."""
    if plan.is_trial_plan or not plan.is_public:
        raise ServiceError(_("Choose one of the offered plans."), field="plan")
    account = ensure_customer(shop)
    if account.stripe_subscription_id and account.subscription_status in ("active", "trialing", "past_due"):
        return change_plan(shop, plan, return_url)
    price = ensure_price(plan, account.currency)
    session = _call(
        "checkout",
        lambda: client().v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "customer": account.stripe_customer_id,
                "client_reference_id": str(shop.pk),
                "line_items": [{"price": price, "quantity": 1}],
                "success_url": f"{return_url}?checkout=done&session={{CHECKOUT_SESSION_ID}}",
                "cancel_url": f"{return_url}?checkout=cancelled",
                "metadata": {"shop_id": str(shop.pk), "kind": "subscription", "plan": plan.code},
                "subscription_data": {"metadata": {"shop_id": str(shop.pk), "plan": plan.code}},
            }
        ),
    )
    return session.url


def change_plan(shop: Shop, plan: Plan, return_url: str) -> str:
    """Moves an existing subscription to another plan's price; the webhook records the change."""
    account = wallet.account_for(shop)
    price = ensure_price(plan, account.currency)
    subscription = _call("subscription", lambda: client().v1.subscriptions.retrieve(account.stripe_subscription_id))
    item = subscription["items"]["data"][0]["id"]
    _call(
        "subscription update",
        lambda: client().v1.subscriptions.update(
            account.stripe_subscription_id,
            params={
                "items": [{"id": item, "price": price}],
                "metadata": {"shop_id": str(shop.pk), "plan": plan.code},
                "proration_behavior": "create_prorations",
            },
        ),
    )
    return f"{return_url}?checkout=changed"


def top_up_checkout(shop: Shop, amount: int, return_url: str, *, save_card: bool) -> str:
    """A one-time Checkout payment that credits the WhatsApp balance when Stripe confirms it."""
    account = ensure_customer(shop)
    low, high = MIN_TOP_UP[account.currency], MAX_TOP_UP[account.currency]
    if not low <= amount <= high:
        raise ServiceError(
            _("Top up between %(low)s and %(high)s.")
            % {"low": wallet.money(low, account.currency), "high": wallet.money(high, account.currency)},
            field="amount",
        )
    metadata = {"shop_id": str(shop.pk), "kind": "top_up", "amount": str(amount)}
    payment_intent_data = {"metadata": metadata}
    if save_card:
        payment_intent_data["setup_future_usage"] = "off_session"
    session = _call(
        "checkout",
        lambda: client().v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "customer": account.stripe_customer_id,
                "client_reference_id": str(shop.pk),
                "line_items": [
                    {
                        "price_data": {
                            "currency": account.currency.lower(),
                            "unit_amount": to_stripe(amount, account.currency),
                            "product_data": {"name": "Saldo WhatsApp / WhatsApp balance"},
                        },
                        "quantity": 1,
                    }
                ],
                "payment_intent_data": payment_intent_data,
                "success_url": f"{return_url}?topup=done&session={{CHECKOUT_SESSION_ID}}",
                "cancel_url": f"{return_url}?topup=cancelled",
                "metadata": metadata,
            }
        ),
    )
    return session.url


def portal(shop: Shop, return_url: str) -> str:
    """Stripe's Customer Portal: cards and invoices, managed by Stripe."""
    account = ensure_customer(shop)
    session = _call(
        "portal",
        lambda: client().v1.billing_portal.sessions.create(
            params={"customer": account.stripe_customer_id, "return_url": return_url}
        ),
    )
    return session.url


def invoices(shop: Shop) -> list[dict]:
    account = wallet.account_for(shop)
    if not account.stripe_customer_id:
        return []
    listing = _call(
        "invoices", lambda: client().v1.invoices.list(params={"customer": account.stripe_customer_id, "limit": 24})
    )
    return [
        {
            "id": invoice["id"],
            "number": invoice.get("number") or invoice["id"],
            "status": invoice["status"],
            "amount_due": from_stripe(invoice["amount_due"], invoice["currency"]),
            "amount_paid": from_stripe(invoice["amount_paid"], invoice["currency"]),
            "currency": invoice["currency"].upper(),
            "created": invoice["created"],
            "url": invoice.get("hosted_invoice_url") or "",
        }
        for invoice in (item.to_dict() for item in listing.data)
    ]


def charge_saved_card(shop_id: int) -> None:
    """Auto-recharge: an off-session payment with the saved card; credited by its webhook (or here, once)."""
    with transaction.atomic():
        account = BillingAccount.objects.select_for_update().get(shop_id=shop_id)
        if not (account.auto_recharge and account.saved_payment_method):
            return
        if account.available >= wallet.from_minor(account.auto_recharge_below, account.currency):
            return
        amount, customer, method = (
            account.auto_recharge_amount,
            account.stripe_customer_id,
            account.saved_payment_method,
        )
    try:
        intent = client().v1.payment_intents.create(
            params={
                "amount": to_stripe(amount, account.currency),
                "currency": account.currency.lower(),
                "customer": customer,
                "payment_method": method,
                "off_session": True,
                "confirm": True,
                "metadata": {"shop_id": str(shop_id), "kind": "top_up", "amount": str(amount), "auto": "1"},
            }
        )
    except stripe.StripeError as error:
        reason = getattr(error, "user_message", None) or str(error)
        BillingAccount.objects.filter(pk=account.pk).update(auto_recharge_error=reason[:300])
        logger.warning("auto-recharge for shop %s failed: %s", shop_id, reason)
        return
    if intent.status == "succeeded":
        wallet.credit_top_up(shop_id, amount, f"pi:{intent.id}", _("Automatic top-up"))
