"""The fake's memory: Stripe objects in Stripe's shapes, and the flows that change them and emit events.

Every object is kept as the JSON dict Stripe would return; what Stripe would know but not show (a card's
decline behaviour, a checkout session's line items) lives beside it. Flows return nothing: the events they
emit wait in `outbox` until the request is answered, then go to the webhook dispatcher as one batch.
"""

from __future__ import annotations

import calendar
import copy
import itertools
import secrets
import string
import time
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from .params import StripeError

API_VERSION = "2026-10-28.endive"  # the API version of stripe==16.1.0, the one our events are rendered in
ALPHABET = string.ascii_letters + string.digits
ZERO_DECIMAL = frozenset(
    ["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"]
)  # docs.stripe.com/currencies: every other currency, IDR included, is sent in hundredths
SYMBOLS = {"idr": "Rp", "usd": "$", "eur": "€", "gbp": "£", "sgd": "S$", "myr": "RM", "jpy": "¥"}
TEST_CARDS = {  # docs.stripe.com/testing: number -> (brand, decline_code or None)
    "4242424242424242": ("visa", None),
    "5555555555554444": ("mastercard", None),
    "4000000000000002": ("visa", "generic_decline"),
    "4000000000009995": ("visa", "insufficient_funds"),
}
TEST_PAYMENT_METHODS = {  # the test tokens Stripe accepts wherever a PaymentMethod id goes
    "pm_card_visa": "4242424242424242",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
}
DECLINE_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
}
DEFAULT_CONFIG = {
    "webhook_url": "",
    "webhook_secret": "whsec_fake",
    "webhook_max_attempts": 4,
    "webhook_retry_base_ms": 500,
    "webhook_timeout_s": 10.0,
    "duplicate_deliveries": False,  # send every event twice
    "shuffle": False,  # deliver each operation's events in reverse order
    "decline_all_cards": False,
}


def now() -> int:
    return int(time.time())


def new_id(prefix: str, length: int = 24) -> str:
    return f"{prefix}_{''.join(secrets.choice(ALPHABET) for _ in range(length))}"


def format_amount(amount: int, currency: str) -> str:
    """`5000000, "idr"` -> `Rp50.000`; `500, "usd"` -> `$5.00`: what Checkout shows for an amount in minor units."""
    currency = currency.lower()
    digits = 0 if currency in ZERO_DECIMAL else 2
    major, minor = divmod(abs(amount), 10**digits)
    sign = "-" if amount < 0 else ""
    if currency == "idr":  # Indonesian grouping; the sen only when there are any
        text = f"{major:,}".replace(",", ".") + (f",{minor:02d}" if minor else "")
        return f"{sign}Rp{text}"
    text = f"{major:,}" + (f".{minor:0{digits}d}" if digits else "")
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{currency.upper()} {text}"


def add_interval(ts: int, interval: str, count: int) -> int:
    moment = datetime.fromtimestamp(ts, tz=UTC)
    if interval in ("day", "week"):
        return ts + count * (86400 if interval == "day" else 7 * 86400)
    months = count * (12 if interval == "year" else 1)
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


def card_decline(number: str) -> str | None:
    return TEST_CARDS.get(number, ("visa", None))[1]


def luhn_ok(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


class CardDeclined(Exception):
    def __init__(self, decline_code: str) -> None:
        super().__init__(DECLINE_MESSAGES.get(decline_code, DECLINE_MESSAGES["generic_decline"]))
        self.decline_code = decline_code


class State:
    def __init__(self, config: dict | None = None) -> None:
        self.config = {**DEFAULT_CONFIG, **(config or {})}
        self.reset()

    def reset(self) -> None:
        self.objects: dict[str, dict] = {}
        self.seq: dict[str, int] = {}
        self.counter = itertools.count()
        self.cards: dict[str, str] = {}  # payment method id -> card number
        self.session_lines: dict[str, list[dict]] = {}  # checkout session id -> line items
        self.idempotency: dict[str, dict] = {}
        self.events: list[dict] = []
        self.outbox: list[dict] = []
        self.deliveries: list[dict] = []
        self.meter_events: list[dict] = []
        self.meter_identifiers: set[str] = set()
        self.invoice_numbers = itertools.count(1)
        self.invoice_prefix = "".join(secrets.choice(string.ascii_uppercase) for _ in range(8))

    # storage ------------------------------------------------------------------------------------------------
    def add(self, obj: dict) -> dict:
        self.objects[obj["id"]] = obj
        self.seq[obj["id"]] = next(self.counter)
        return obj

    def get(self, object_id, kind: str) -> dict | None:
        obj = self.objects.get(object_id) if isinstance(object_id, str) else None
        return obj if obj is not None and obj["object"] == kind else None

    def require(self, object_id, kind: str, noun: str, param: str, status: int = 400) -> dict:
        obj = self.get(object_id, kind)
        if obj is None:
            raise StripeError(status, f"No such {noun}: '{object_id}'", code="resource_missing", param=param)
        return obj

    def newest_first(self, kind: str, keep=lambda obj: True) -> list[dict]:
        found = [obj for obj in self.objects.values() if obj["object"] == kind and keep(obj)]
        return sorted(found, key=lambda obj: self.seq[obj["id"]], reverse=True)

    @staticmethod
    def base_fields(prefix: str, kind: str, **fields) -> dict:
        return {"id": new_id(prefix), "object": kind, "created": now(), "livemode": False, **fields}

    # events ---------------------------------------------------------------------------------------------------
    def emit(self, type_: str, obj: dict, previous: dict | None = None, request: dict | None = None) -> dict:
        data: dict = {"object": copy.deepcopy(obj)}
        if previous:
            data["previous_attributes"] = copy.deepcopy(previous)
        event = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1 if self.config["webhook_url"] else 0,
            "request": request or {"id": None, "idempotency_key": None},
            "type": type_,
        }
        self.events.append(event)
        self.outbox.append(event)
        return event

    def take_outbox(self) -> list[dict]:
        """The batch to deliver, with the fault knobs applied (reverse order, duplicates)."""
        batch, self.outbox = self.outbox, []
        if self.config["shuffle"]:
            batch.reverse()
        if self.config["duplicate_deliveries"]:
            batch = [event for event in batch for _ in range(2)]
        return batch

    @staticmethod
    def changes(before: dict, after: dict) -> dict:
        """`previous_attributes`: the old values of the top-level fields that changed."""
        return {key: before.get(key) for key in after if before.get(key) != after.get(key)}

    # customers, products, prices, payment methods --------------------------------------------------------------
    def create_customer(self, params: dict) -> dict:
        settings = params.get("invoice_settings") or {}
        customer = self.base_fields(
            "cus",
            "customer",
            address=params.get("address"),
            balance=0,
            currency=None,
            default_source=None,
            delinquent=False,
            description=params.get("description"),
            email=params.get("email"),
            invoice_prefix=new_id("", 8)[1:].upper(),
            invoice_settings={
                "custom_fields": None,
                "default_payment_method": settings.get("default_payment_method") or None,
                "footer": settings.get("footer"),
                "rendering_options": None,
            },
            metadata=params.get("metadata") or {},
            name=params.get("name"),
            next_invoice_sequence=1,
            phone=params.get("phone"),
            preferred_locales=params.get("preferred_locales") or [],
            shipping=params.get("shipping"),
            tax_exempt=params.get("tax_exempt") or "none",
            test_clock=None,
        )
        return self.add(customer)

    def create_product(self, params: dict) -> dict:
        product = self.base_fields(
            "prod",
            "product",
            active=params.get("active", True),
            default_price=None,
            description=params.get("description"),
            images=params.get("images") or [],
            marketing_features=[],
            metadata=params.get("metadata") or {},
            name=params["name"],
            package_dimensions=None,
            shippable=None,
            statement_descriptor=None,
            tax_code=None,
            unit_label=None,
            updated=now(),
            url=None,
        )
        if params.get("id"):
            product["id"] = params["id"]
        return self.add(product)

    def create_price(self, params: dict, product_id: str) -> dict:
        recurring = params.get("recurring")
        price = self.base_fields(
            "price",
            "price",
            active=params.get("active", True),
            billing_scheme="per_unit",
            currency=params["currency"].lower(),
            custom_unit_amount=None,
            lookup_key=params.get("lookup_key"),
            metadata=params.get("metadata") or {},
            nickname=params.get("nickname"),
            product=product_id,
            recurring=None
            if not recurring
            else {
                "interval": recurring["interval"],
                "interval_count": recurring.get("interval_count") or 1,
                "meter": recurring.get("meter"),
                "trial_period_days": recurring.get("trial_period_days"),
                "usage_type": recurring.get("usage_type") or "licensed",
            },
            tax_behavior=params.get("tax_behavior") or "unspecified",
            tiers_mode=None,
            transform_quantity=None,
            type="recurring" if recurring else "one_time",
            unit_amount=params["unit_amount"],
            unit_amount_decimal=str(params["unit_amount"]),
        )
        return self.add(price)

    def payment_method(self, number: str, customer_id: str | None, name: str | None = None) -> dict:
        brand = TEST_CARDS.get(number, ("visa", None))[0]
        method = self.base_fields(
            "pm",
            "payment_method",
            allow_redisplay="unspecified",
            billing_details={
                "address": dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state")),
                "email": None,
                "name": name or None,
                "phone": None,
            },
            card={
                "brand": brand,
                "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
                "country": "US",
                "display_brand": brand,
                "exp_month": 12,
                "exp_year": datetime.now(UTC).year + 8,
                "fingerprint": new_id("", 16)[1:],
                "funding": "credit",
                "last4": number[-4:],
                "networks": {"available": [brand], "preferred": None},
                "wallet": None,
            },
            customer=customer_id,
            metadata={},
            type="card",
        )
        self.cards[method["id"]] = number
        return self.add(method)

    def resolve_payment_method(self, value: str, param: str = "payment_method") -> dict:
        if value in TEST_PAYMENT_METHODS:
            return self.payment_method(TEST_PAYMENT_METHODS[value], None)
        return self.require(value, "payment_method", "PaymentMethod", param)

    def decline_for(self, method: dict) -> str | None:
        if self.config["decline_all_cards"]:
            return "generic_decline"
        return card_decline(self.cards.get(method["id"], ""))

    # payment intents ----------------------------------------------------------------------------------------------
    def payment_intent(self, amount: int, currency: str, customer: str | None, **fields) -> dict:
        intent = self.base_fields(
            "pi",
            "payment_intent",
            amount=amount,
            amount_capturable=0,
            amount_details={"tip": {}},
            amount_received=0,
            application=None,
            automatic_payment_methods=None,
            canceled_at=None,
            cancellation_reason=None,
            capture_method="automatic_async",
            confirmation_method="automatic",
            currency=currency,
            customer=customer,
            description=fields.get("description"),
            last_payment_error=None,
            latest_charge=None,
            metadata=fields.get("metadata") or {},
            next_action=None,
            on_behalf_of=None,
            payment_method=None,
            payment_method_types=["card"],
            receipt_email=fields.get("receipt_email"),
            setup_future_usage=fields.get("setup_future_usage"),
            statement_descriptor=None,
            status="requires_payment_method",
        )
        intent["client_secret"] = f"{intent['id']}_secret_{new_id('', 24)[1:]}"
        return self.add(intent)

    def charge_intent(self, intent: dict, method: dict) -> None:
        """Confirms a PaymentIntent with a card: succeeded, or declined with the card's reason. Emits its event."""
        intent["payment_method"] = method["id"]
        decline = self.decline_for(method)
        intent["latest_charge"] = new_id("ch")
        if decline:
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = {
                "charge": intent["latest_charge"],
                "code": "card_declined",
                "decline_code": decline,
                "doc_url": "https://stripe.com/docs/error-codes/card-declined",
                "message": DECLINE_MESSAGES.get(decline, DECLINE_MESSAGES["generic_decline"]),
                "payment_method": copy.deepcopy(method),
                "type": "card_error",
            }
            self.emit("payment_intent.payment_failed", intent)
            raise CardDeclined(decline)
        intent["status"] = "succeeded"
        intent["amount_received"] = intent["amount"]
        intent["last_payment_error"] = None
        if intent.get("setup_future_usage") and intent.get("customer") and not method.get("customer"):
            method["customer"] = intent["customer"]  # saved for later off-session payments
        self.emit("payment_intent.succeeded", intent)

    # invoices -----------------------------------------------------------------------------------------------------
    def invoice(self, subscription: dict, reason: str, start: int, end: int, amount: int) -> dict:
        customer = self.objects.get(subscription["customer"]) or {}
        lines = [
            {
                "id": new_id("il"),
                "object": "line_item",
                "amount": 0 if amount == 0 else item["price"]["unit_amount"] * item["quantity"],
                "currency": subscription["currency"],
                "description": f"{item['quantity']} × {self.product_name(item['price'])}",
                "livemode": False,
                "metadata": {},
                "parent": {
                    "type": "subscription_item_details",
                    "subscription_item_details": {
                        "invoice_item": None,
                        "proration": False,
                        "subscription": subscription["id"],
                        "subscription_item": item["id"],
                    },
                },
                "period": {"start": start, "end": end},
                "pricing": {
                    "price_details": {"price": item["price"]["id"], "product": item["price"]["product"]},
                    "type": "price_details",
                    "unit_amount_decimal": item["price"]["unit_amount_decimal"],
                },
                "quantity": item["quantity"],
            }
            for item in subscription["items"]["data"]
        ]
        invoice = self.base_fields(
            "in",
            "invoice",
            account_country="ID",
            amount_due=amount,
            amount_paid=0,
            amount_remaining=amount,
            attempt_count=0,
            attempted=False,
            auto_advance=True,
            billing_reason=reason,
            collection_method="charge_automatically",
            currency=subscription["currency"],
            customer=subscription["customer"],
            customer_email=customer.get("email"),
            customer_name=customer.get("name"),
            description=None,
            due_date=None,
            hosted_invoice_url=None,
            invoice_pdf=None,
            lines={"object": "list", "data": lines, "has_more": False, "url": ""},
            metadata={},
            next_payment_attempt=None,
            number=f"{self.invoice_prefix}-{next(self.invoice_numbers):04d}",
            parent={
                "quote_details": None,
                "subscription_details": {
                    "metadata": dict(subscription["metadata"]),
                    "subscription": subscription["id"],
                },
                "type": "subscription_details",
            },
            period_end=end,
            period_start=start,
            status="open",
            status_transitions={
                "finalized_at": now(),
                "marked_uncollectible_at": None,
                "paid_at": None,
                "voided_at": None,
            },
            subtotal=amount,
            total=amount,
        )
        invoice["lines"]["url"] = f"/v1/invoices/{invoice['id']}/lines"
        invoice["hosted_invoice_url"] = f"{self.public_base}/i/{invoice['id']}"
        return self.add(invoice)

    def pay_invoice(self, invoice: dict, method: dict | None) -> None:
        """Charges an invoice with the subscription's card; emits payment_intent.* and invoice.paid/payment_failed."""
        invoice["attempted"] = True
        invoice["attempt_count"] += 1
        if invoice["amount_due"] > 0:
            intent = self.payment_intent(
                invoice["amount_due"], invoice["currency"], invoice["customer"], description="Subscription payment"
            )
            try:
                if method is None:
                    raise CardDeclined("generic_decline")
                self.charge_intent(intent, method)
            except CardDeclined:
                invoice["next_payment_attempt"] = now() + 3 * 86400
                self.emit("invoice.payment_failed", invoice)
                raise
        invoice.update(status="paid", amount_paid=invoice["amount_due"], amount_remaining=0, next_payment_attempt=None)
        invoice["status_transitions"]["paid_at"] = now()
        self.emit("invoice.paid", invoice)

    # subscriptions ------------------------------------------------------------------------------------------------
    def product_name(self, price: dict) -> str:
        return (self.objects.get(price["product"]) or {}).get("name") or price["id"]

    def subscription_item(self, subscription_id: str, price: dict, quantity: int, start: int, end: int) -> dict:
        return {
            "id": new_id("si"),
            "object": "subscription_item",
            "created": now(),
            "current_period_end": end,
            "current_period_start": start,
            "discounts": [],
            "metadata": {},
            "price": copy.deepcopy(price),
            "quantity": quantity,
            "subscription": subscription_id,
            "tax_rates": [],
        }

    def period_end(self, subscription: dict, start: int) -> int:
        recurring = subscription["items"]["data"][0]["price"]["recurring"]
        return add_interval(start, recurring["interval"], recurring["interval_count"])

    def create_subscription(self, customer: str, lines: list[dict], data: dict, method: dict | None) -> dict:
        """Checkout's subscription: `trialing` with a trial, else `incomplete` until its first invoice is paid."""
        start = now()
        trial_days = data.get("trial_period_days")
        subscription = self.base_fields(
            "sub",
            "subscription",
            automatic_tax={"enabled": False, "liability": None},
            billing_cycle_anchor=start,
            cancel_at=None,
            cancel_at_period_end=False,
            canceled_at=None,
            cancellation_details={"comment": None, "feedback": None, "reason": None},
            collection_method="charge_automatically",
            currency=lines[0]["price"]["currency"],
            customer=customer,
            default_payment_method=method["id"] if method else None,
            description=data.get("description"),
            discounts=[],
            ended_at=None,
            items={"object": "list", "data": [], "has_more": False, "total_count": 0, "url": ""},
            latest_invoice=None,
            metadata=data.get("metadata") or {},
            pending_update=None,
            start_date=start,
            status="trialing" if trial_days else "incomplete",
            trial_end=None,
            trial_start=None,
        )
        self.add(subscription)
        first = lines[0]["price"]["recurring"]
        end = (
            start + trial_days * 86400
            if trial_days
            else add_interval(start, first["interval"], first["interval_count"])
        )
        subscription["items"]["data"] = [
            self.subscription_item(subscription["id"], line["price"], line["quantity"], start, end) for line in lines
        ]
        subscription["items"]["total_count"] = len(lines)
        subscription["items"]["url"] = f"/v1/subscription_items?subscription={subscription['id']}"
        if trial_days:
            subscription.update(trial_start=start, trial_end=end, billing_cycle_anchor=end)
        amount = 0 if trial_days else self.period_amount(subscription)
        invoice = self.invoice(subscription, "subscription_create", start, start if trial_days else end, amount)
        subscription["latest_invoice"] = invoice["id"]
        self.emit("customer.subscription.created", subscription)
        return subscription

    @staticmethod
    def period_amount(subscription: dict) -> int:
        return sum(item["price"]["unit_amount"] * item["quantity"] for item in subscription["items"]["data"])

    def renew(self, subscription: dict, fail: bool = False) -> None:
        """The end of a period: cancels if asked to, else a new period and its invoice, paid or failed."""
        if subscription["status"] == "canceled":
            raise StripeError(400, "This subscription is canceled.", param="subscription")
        if subscription["cancel_at_period_end"]:
            self.cancel(subscription, reason="cancellation_requested")
            return
        before = copy.deepcopy(subscription)
        start = subscription["items"]["data"][0]["current_period_end"]
        end = self.period_end(subscription, start)
        for item in subscription["items"]["data"]:
            item.update(current_period_start=start, current_period_end=end)
        invoice = self.invoice(subscription, "subscription_cycle", start, end, self.period_amount(subscription))
        subscription["latest_invoice"] = invoice["id"]
        method = self.objects.get(subscription["default_payment_method"] or "")
        try:
            if fail:
                raise CardDeclined("generic_decline")
            self.emit("customer.subscription.updated", subscription, self.changes(before, subscription))
            before = copy.deepcopy(subscription)
            self.pay_invoice(invoice, method)
            if subscription["status"] != "active":
                subscription["status"] = "active"
                self.emit("customer.subscription.updated", subscription, self.changes(before, subscription))
        except CardDeclined as declined:
            if fail:  # a forced failure still goes through a real charge attempt that fails
                self.fail_invoice(invoice, declined.decline_code)
            subscription["status"] = "past_due"
            self.emit("customer.subscription.updated", subscription, self.changes(before, subscription))

    def fail_invoice(self, invoice: dict, decline_code: str) -> None:
        intent = self.payment_intent(invoice["amount_due"], invoice["currency"], invoice["customer"])
        intent["latest_charge"] = new_id("ch")
        intent["last_payment_error"] = {
            "code": "card_declined",
            "decline_code": decline_code,
            "message": DECLINE_MESSAGES.get(decline_code, DECLINE_MESSAGES["generic_decline"]),
            "type": "card_error",
        }
        self.emit("payment_intent.payment_failed", intent)
        invoice.update(
            attempted=True, attempt_count=invoice["attempt_count"] + 1, next_payment_attempt=now() + 3 * 86400
        )
        self.emit("invoice.payment_failed", invoice)

    def pay_open_invoice(self, subscription: dict) -> None:
        invoice = self.objects.get(subscription["latest_invoice"] or "")
        if invoice is None or invoice["status"] != "open":
            raise StripeError(400, "This subscription has no open invoice to pay.", param="subscription")
        before = copy.deepcopy(subscription)
        method = self.objects.get(subscription["default_payment_method"] or "")
        self.pay_invoice(invoice, method)
        subscription["status"] = "active"
        self.emit("customer.subscription.updated", subscription, self.changes(before, subscription))

    def cancel(self, subscription: dict, reason: str = "cancellation_requested") -> None:
        if subscription["status"] == "canceled":
            raise StripeError(
                400,
                "A canceled subscription can only update its cancellation_details and metadata.",
                param="subscription",
            )
        moment = now()
        subscription.update(status="canceled", canceled_at=moment, ended_at=moment)
        subscription["cancellation_details"]["reason"] = reason
        self.emit("customer.subscription.deleted", subscription)

    # checkout -----------------------------------------------------------------------------------------------------
    def complete_checkout(self, session: dict, number: str, name: str | None = None, email: str | None = None) -> None:
        """Pays an open Checkout Session with a test card; declines raise CardDeclined and leave it open."""
        if session["status"] != "open":
            raise StripeError(400, f"This Checkout Session is {session['status']}.", param="session")
        lines = self.session_lines[session["id"]]
        customer_id = session["customer"]
        decline = "generic_decline" if self.config["decline_all_cards"] else card_decline(number)
        if session["mode"] == "payment":
            intent = self.objects.get(session["payment_intent"] or "")
            if intent is None:  # created at the first attempt, reused after a decline (as Checkout does)
                intent_data = session["_payment_intent_data"]
                intent = self.payment_intent(
                    session["amount_total"],
                    session["currency"],
                    customer_id,
                    metadata=intent_data.get("metadata"),
                    setup_future_usage=intent_data.get("setup_future_usage"),
                    description=intent_data.get("description"),
                )
                session["payment_intent"] = intent["id"]
            if intent["setup_future_usage"] and not customer_id:
                customer_id = self.create_customer({"email": email or session["customer_email"]})["id"]
                intent["customer"] = session["customer"] = customer_id
            self.charge_intent(intent, self.payment_method(number, None, name))
            session["payment_status"] = "paid"
        else:
            if decline:
                raise CardDeclined(decline)
            if not customer_id:
                customer_id = self.create_customer({"email": email or session["customer_email"]})["id"]
                session["customer"] = customer_id
            method = self.payment_method(number, customer_id, name)
            data = session["_subscription_data"]
            subscription = self.create_subscription(customer_id, lines, data, method)
            invoice = self.objects[subscription["latest_invoice"]]
            before = copy.deepcopy(subscription)
            self.pay_invoice(invoice, method)
            if subscription["status"] == "incomplete":
                subscription["status"] = "active"
                self.emit("customer.subscription.updated", subscription, self.changes(before, subscription))
            session.update(
                subscription=subscription["id"],
                invoice=invoice["id"],
                payment_status="no_payment_required" if data.get("trial_period_days") else "paid",
            )
        customer = self.objects.get(customer_id or "")
        session.update(status="complete", url=None)
        session["customer_details"] = {
            "address": None,
            "email": email or (customer or {}).get("email") or session["customer_email"],
            "name": name or None,
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        }
        self.emit("checkout.session.completed", self.public(session))

    # presentation --------------------------------------------------------------------------------------------------
    public_base = ""  # set per request: where the fake's own pages are reached

    @staticmethod
    def public(obj: dict) -> dict:
        """A copy without the fake's private keys (those starting with `_`)."""
        return {key: copy.deepcopy(value) for key, value in obj.items() if not key.startswith("_")}

    # meters ---------------------------------------------------------------------------------------------------------
    def meter_summary(self, meter: dict, customer: str, start: int, end: int) -> int | float:
        key = meter["customer_mapping"]["event_payload_key"]
        value_key = meter["value_settings"]["event_payload_key"]
        values = [
            Decimal(event["payload"].get(value_key, "0"))
            for event in self.meter_events
            if event["event_name"] == meter["event_name"]
            and event["payload"].get(key) == customer
            and start <= event["timestamp"] < end
        ]
        formula = meter["default_aggregation"]["formula"]
        total = len(values) if formula == "count" else (values[-1] if values and formula == "last" else sum(values))
        total = Decimal(total)
        return int(total) if total == total.to_integral_value() else float(total)


def parse_decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError):
        return None
    return value if value.is_finite() else None
