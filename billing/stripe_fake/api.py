"""The `/v1` endpoints we call, with Stripe's parameters, validation messages and object shapes."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from .params import StripeError, invalid, merge_metadata, missing
from .state import CardDeclined, State, add_interval, new_id, now, parse_decimal

LIST = {"limit": "int", "starting_after": "str", "ending_before": "str", "created": "any"}
INTERVALS = ("day", "week", "month", "year")
CUSTOMER = {
    "name": "str",
    "email": "str",
    "description": "str",
    "phone": "str",
    "metadata": "map",
    "preferred_locales": ["str"],
    "invoice_settings": {"default_payment_method": "str", "custom_fields": "any", "footer": "str"},
    "address": "any",
    "shipping": "any",
    "tax_exempt": ("none", "exempt", "reverse"),
    "payment_method": "str",
}
PRODUCT = {
    "name!": "str",
    "id": "str",
    "active": "bool",
    "description": "str",
    "metadata": "map",
    "images": ["str"],
    "statement_descriptor": "str",
    "tax_code": "str",
    "unit_label": "str",
}
RECURRING = {
    "interval!": INTERVALS,
    "interval_count": "int",
    "usage_type": ("licensed", "metered"),
    "meter": "str",
    "trial_period_days": "int",
}
PRICE = {
    "currency!": "str",
    "unit_amount": "int",
    "product": "str",
    "product_data": {"name!": "str", "metadata": "map", "active": "bool", "statement_descriptor": "str"},
    "recurring": RECURRING,
    "metadata": "map",
    "nickname": "str",
    "lookup_key": "str",
    "active": "bool",
    "tax_behavior": ("exclusive", "inclusive", "unspecified"),
    "billing_scheme": ("per_unit",),
}
CHECKOUT = {
    "mode!": ("payment", "setup", "subscription"),
    "customer": "str",
    "customer_email": "str",
    "customer_creation": ("always", "if_required"),
    "client_reference_id": "str",
    "success_url": "str",
    "cancel_url": "str",
    "line_items": [
        {
            "price": "str",
            "quantity": "int",
            "price_data": {
                "currency!": "str",
                "unit_amount": "int",
                "product": "str",
                "product_data": {"name!": "str", "description": "str", "metadata": "map", "images": ["str"]},
                "recurring": {"interval!": INTERVALS, "interval_count": "int"},
                "tax_behavior": ("exclusive", "inclusive", "unspecified"),
            },
            "adjustable_quantity": "any",
            "tax_rates": ["str"],
        }
    ],
    "metadata": "map",
    "payment_intent_data": {
        "setup_future_usage": ("off_session", "on_session"),
        "metadata": "map",
        "description": "str",
        "receipt_email": "str",
        "statement_descriptor": "str",
        "statement_descriptor_suffix": "str",
        "capture_method": ("automatic", "automatic_async", "manual"),
    },
    "subscription_data": {
        "metadata": "map",
        "trial_period_days": "int",
        "description": "str",
        "billing_cycle_anchor": "int",
        "proration_behavior": ("create_prorations", "none"),
        "default_tax_rates": ["str"],
        "trial_settings": "any",
    },
    "locale": "str",
    "allow_promotion_codes": "bool",
    "billing_address_collection": ("auto", "required"),
    "payment_method_types": ["str"],
    "payment_method_collection": ("always", "if_required"),
    "customer_update": "any",
    "submit_type": ("auto", "book", "donate", "pay", "subscribe"),
    "expires_at": "int",
    "automatic_tax": "any",
    "tax_id_collection": "any",
    "consent_collection": "any",
    "saved_payment_method_options": "any",
    "ui_mode": ("hosted",),
    "discounts": "any",
    "phone_number_collection": "any",
    "custom_text": "any",
}
PORTAL = {"customer!": "str", "return_url": "str", "configuration": "str", "locale": "str", "flow_data": "any"}
SUBSCRIPTION_UPDATE = {
    "items": [
        {"id": "str", "price": "str", "quantity": "int", "deleted": "bool", "metadata": "map", "clear_usage": "bool"}
    ],
    "cancel_at_period_end": "bool",
    "cancel_at": "int",
    "metadata": "map",
    "proration_behavior": ("always_invoice", "create_prorations", "none"),
    "proration_date": "int",
    "default_payment_method": "str",
    "description": "str",
    "payment_behavior": ("allow_incomplete", "default_incomplete", "error_if_incomplete", "pending_if_incomplete"),
    "billing_cycle_anchor": ("now", "unchanged"),
    "cancellation_details": {"comment": "str", "feedback": "str"},
    "off_session": "bool",
    "trial_end": "any",
}
SUBSCRIPTION_STATUSES = (
    "active",
    "all",
    "canceled",
    "ended",
    "incomplete",
    "incomplete_expired",
    "past_due",
    "paused",
    "trialing",
    "unpaid",
)
PAYMENT_INTENT = {
    "amount!": "int",
    "currency!": "str",
    "customer": "str",
    "payment_method": "str",
    "off_session": "any",
    "confirm": "bool",
    "metadata": "map",
    "description": "str",
    "receipt_email": "str",
    "setup_future_usage": ("off_session", "on_session"),
    "payment_method_types": ["str"],
    "automatic_payment_methods": {"enabled!": "bool", "allow_redirects": ("always", "never")},
    "capture_method": ("automatic", "automatic_async", "manual"),
    "confirmation_method": ("automatic", "manual"),
    "error_on_requires_action": "bool",
    "return_url": "str",
    "statement_descriptor": "str",
    "statement_descriptor_suffix": "str",
    "mandate_data": "any",
}
METER = {
    "display_name!": "str",
    "event_name!": "str",
    "default_aggregation!": {"formula!": ("count", "last", "sum")},
    "customer_mapping": {"event_payload_key!": "str", "type!": ("by_id",)},
    "value_settings": {"event_payload_key!": "str"},
    "event_time_window": ("day", "hour"),
}
METER_EVENT = {"event_name!": "str", "payload!": "map", "identifier": "str", "timestamp": "int"}
SUMMARIES = {"customer!": "str", "start_time!": "int", "end_time!": "int", "value_grouping_window": ("day", "hour")}
METER_WINDOW = (35 * 86400, 5 * 60)  # meter events: at most 35 days old, at most 5 minutes ahead


@dataclass
class Call:
    """One API request as a handler sees it."""

    params: dict
    match: dict
    base: str  # the fake's own origin, for the URLs of its hosted pages
    request_info: dict  # {"id": req_..., "idempotency_key": ...} for the events it causes


def _expandable(schema: dict) -> dict:
    return {**schema, "expand": ["str"]}


class Api:
    """Handlers return a Stripe object (dict); `routes` maps (method, path) to handler and parameter schema."""

    def __init__(self, state: State) -> None:
        self.state = state
        g, p, d = "GET", "POST", "DELETE"
        self.routes = [
            (p, "/v1/customers", self.create_customer, CUSTOMER),
            (g, "/v1/customers", self.list_customers, {**LIST, "email": "str"}),
            (g, "/v1/customers/{id}", self.retrieve("customer", "customer"), {}),
            (p, "/v1/customers/{id}", self.update_customer, CUSTOMER),
            (g, "/v1/customers/{id}/payment_methods", self.customer_payment_methods, {**LIST, "type": "str"}),
            (p, "/v1/products", self.create_product, PRODUCT),
            (g, "/v1/products/{id}", self.retrieve("product", "product"), {}),
            (p, "/v1/prices", self.create_price, PRICE),
            (g, "/v1/prices", self.list_prices, {**LIST, "product": "str", "active": "bool", "currency": "str"}),
            (g, "/v1/prices/{id}", self.retrieve("price", "price"), {}),
            (p, "/v1/checkout/sessions", self.create_checkout, CHECKOUT),
            (g, "/v1/checkout/sessions/{id}", self.retrieve("checkout.session", "checkout.session"), {}),
            (p, "/v1/billing_portal/sessions", self.create_portal, PORTAL),
            (g, "/v1/subscriptions", self.list_subscriptions, {**LIST, "customer": "str", "price": "str",
                                                               "status": SUBSCRIPTION_STATUSES}),
            (g, "/v1/subscriptions/{id}", self.retrieve("subscription", "subscription"), {}),
            (p, "/v1/subscriptions/{id}", self.update_subscription, SUBSCRIPTION_UPDATE),
            (d, "/v1/subscriptions/{id}", self.cancel_subscription,
             {"invoice_now": "bool", "prorate": "bool", "cancellation_details": "any"}),
            (p, "/v1/payment_intents", self.create_payment_intent, PAYMENT_INTENT),
            (g, "/v1/payment_intents/{id}", self.retrieve("payment_intent", "payment_intent"), {}),
            (g, "/v1/payment_methods", self.list_payment_methods, {**LIST, "customer": "str", "type": "str"}),
            (g, "/v1/payment_methods/{id}", self.retrieve("payment_method", "PaymentMethod"), {}),
            (g, "/v1/invoices", self.list_invoices, {**LIST, "customer": "str", "subscription": "str",
                                                     "status": ("draft", "open", "paid", "uncollectible", "void"),
                                                     "collection_method": "str", "due_date": "any"}),
            (g, "/v1/invoices/{id}", self.retrieve("invoice", "invoice"), {}),
            (p, "/v1/billing/meters", self.create_meter, METER),
            (g, "/v1/billing/meters", self.list_meters, {**LIST, "status": ("active", "inactive")}),
            (g, "/v1/billing/meters/{id}", self.retrieve("billing.meter", "billing meter"), {}),
            (g, "/v1/billing/meters/{id}/event_summaries", self.event_summaries, {**LIST, **SUMMARIES}),
            (p, "/v1/billing/meter_events", self.create_meter_event, METER_EVENT),
        ]  # fmt: skip
        self.routes = [(method, path, handler, _expandable(schema)) for method, path, handler, schema in self.routes]

    # helpers ----------------------------------------------------------------------------------------------------
    def retrieve(self, kind: str, noun: str):
        def handler(call: Call) -> dict:
            return self.state.require(call.match["id"], kind, noun, "id", status=404)

        return handler

    def listing(self, call: Call, url: str, items: list[dict]) -> dict:
        """Stripe's list envelope, newest first, with `limit`, `starting_after` and `ending_before`."""
        params = call.params
        limit = params.get("limit", 10)
        if not 1 <= limit <= 100:
            raise invalid("limit", "Invalid limit: must be between 1 and 100")
        ids = [item["id"] for item in items]
        if params.get("starting_after"):
            cursor = params["starting_after"]
            if cursor not in ids:
                raise StripeError(400, f"No such object: '{cursor}'", code="resource_missing", param="starting_after")
            items = items[ids.index(cursor) + 1 :]
            page = items[:limit]
        elif params.get("ending_before"):
            cursor = params["ending_before"]
            if cursor not in ids:
                raise StripeError(400, f"No such object: '{cursor}'", code="resource_missing", param="ending_before")
            items = items[: ids.index(cursor)]
            page = items[-limit:]
        else:
            page = items[:limit]
        return {"object": "list", "data": page, "has_more": len(items) > len(page), "url": url}

    def customer(self, customer_id: str, param: str = "customer") -> dict:
        return self.state.require(customer_id, "customer", "customer", param)

    # customers --------------------------------------------------------------------------------------------------
    def create_customer(self, call: Call) -> dict:
        params = call.params
        method_id = (params.get("invoice_settings") or {}).get("default_payment_method")
        if method_id:
            self.state.require(method_id, "payment_method", "PaymentMethod", "invoice_settings[default_payment_method]")
        customer = self.state.create_customer(params)
        if params.get("payment_method"):
            method = self.state.resolve_payment_method(params["payment_method"])
            method["customer"] = customer["id"]
        return customer

    def list_customers(self, call: Call) -> dict:
        email = call.params.get("email")
        found = self.state.newest_first("customer", lambda c: email is None or c["email"] == email)
        return self.listing(call, "/v1/customers", found)

    def update_customer(self, call: Call) -> dict:
        customer = self.state.require(call.match["id"], "customer", "customer", "id", status=404)
        params = call.params
        for field in ("name", "email", "description", "phone", "address", "shipping", "tax_exempt",
                      "preferred_locales"):  # fmt: skip
            if field in params:
                customer[field] = params[field] if params[field] != "" else None
        if "metadata" in params:
            customer["metadata"] = merge_metadata(customer["metadata"], params["metadata"])
        settings = params.get("invoice_settings") or {}
        if "default_payment_method" in settings:
            method_id = settings["default_payment_method"]
            if method_id:
                method = self.state.require(
                    method_id, "payment_method", "PaymentMethod", "invoice_settings[default_payment_method]"
                )
                if method["customer"] != customer["id"]:
                    raise invalid(
                        "invoice_settings[default_payment_method]",
                        f"The customer does not have a payment method with the ID {method_id}. The payment method "
                        "must be attached to the customer.",
                        code="resource_missing",
                    )
            customer["invoice_settings"]["default_payment_method"] = method_id or None
        if "footer" in settings:
            customer["invoice_settings"]["footer"] = settings["footer"] or None
        return customer

    def customer_payment_methods(self, call: Call) -> dict:
        customer = self.state.require(call.match["id"], "customer", "customer", "id", status=404)
        return self.listing(
            call, f"/v1/customers/{customer['id']}/payment_methods", self.methods_of(customer["id"], call)
        )

    def list_payment_methods(self, call: Call) -> dict:
        if call.params.get("customer"):
            self.customer(call.params["customer"])
        return self.listing(call, "/v1/payment_methods", self.methods_of(call.params.get("customer"), call))

    def methods_of(self, customer_id: str | None, call: Call) -> list[dict]:
        kind = call.params.get("type")
        return self.state.newest_first(
            "payment_method",
            lambda m: (
                m["customer"] is not None
                and (customer_id is None or m["customer"] == customer_id)
                and kind in (None, m["type"])
            ),
        )

    # products and prices ------------------------------------------------------------------------------------------
    def create_product(self, call: Call) -> dict:
        if call.params.get("id") and call.params["id"] in self.state.objects:
            raise StripeError(400, "Product already exists.", code="resource_already_exists", param="id")
        return self.state.create_product(call.params)

    def create_price(self, call: Call) -> dict:
        params = call.params
        if "unit_amount" not in params:
            raise missing("unit_amount")
        if params["unit_amount"] < 0:
            raise invalid("unit_amount", "This value must be greater than or equal to 0.")
        if params.get("product"):
            product_id = self.state.require(params["product"], "product", "product", "product")["id"]
        elif params.get("product_data"):
            product_id = self.state.create_product(params["product_data"])["id"]
        else:
            raise missing("product")
        return self.state.create_price(params, product_id)

    def list_prices(self, call: Call) -> dict:
        p = call.params
        found = self.state.newest_first(
            "price",
            lambda price: (
                p.get("product") in (None, price["product"])
                and p.get("active") in (None, price["active"])
                and (p.get("currency") or price["currency"]).lower() == price["currency"]
            ),
        )
        return self.listing(call, "/v1/prices", found)

    # checkout -------------------------------------------------------------------------------------------------------
    def create_checkout(self, call: Call) -> dict:
        params, state = call.params, self.state
        mode = params["mode"]
        if mode == "setup":
            raise invalid("mode", "The Stripe fake does not implement `setup` mode.")
        if mode == "subscription" and "payment_intent_data" in params:
            raise invalid("payment_intent_data", "You can not pass `payment_intent_data` in `subscription` mode.")
        if mode == "payment" and "subscription_data" in params:
            raise invalid("subscription_data", "You can not pass `subscription_data` in `payment` mode.")
        if params.get("customer"):
            self.customer(params["customer"])
            if params.get("customer_email"):
                raise invalid(
                    "customer_email", "You may only specify one of these parameters: customer, customer_email."
                )
        items = params.get("line_items") or []
        if not items:
            raise missing("line_items")
        lines = []
        for i, item in enumerate(items):
            param = f"line_items[{i}]"
            if "quantity" not in item:
                raise invalid(f"{param}[quantity]", f"Quantity is required. Add `quantity` to `{param}`.")
            if item["quantity"] < 1:
                raise invalid(f"{param}[quantity]", "This value must be greater than or equal to 1.")
            if item.get("price") and item.get("price_data"):
                raise invalid(f"{param}[price]", "You may only specify one of these parameters: price, price_data.")
            if item.get("price"):
                price = state.require(item["price"], "price", "price", f"{param}[price]")
            elif item.get("price_data"):
                data = item["price_data"]
                if "unit_amount" not in data:
                    raise missing(f"{param}[price_data][unit_amount]")
                if data.get("product"):
                    product = state.require(data["product"], "product", "product", f"{param}[price_data][product]")
                elif data.get("product_data"):
                    product = state.create_product(data["product_data"])
                else:
                    raise missing(f"{param}[price_data][product_data]")
                price = state.create_price({**data, "active": False}, product["id"])
            else:
                raise missing(f"{param}[price]")
            if mode == "payment" and price["type"] == "recurring":
                raise invalid(
                    f"{param}[price]",
                    "You specified `payment` mode but passed a recurring price. Either switch to `subscription` "
                    "mode or use only one-time prices.",
                )
            lines.append(
                {
                    "id": new_id("li"),
                    "object": "item",
                    "amount_discount": 0,
                    "amount_subtotal": price["unit_amount"] * item["quantity"],
                    "amount_tax": 0,
                    "amount_total": price["unit_amount"] * item["quantity"],
                    "currency": price["currency"],
                    "description": state.product_name(price),
                    "price": copy.deepcopy(price),
                    "quantity": item["quantity"],
                }
            )
        if len({line["currency"] for line in lines}) > 1:
            raise invalid("line_items", "All line items must use the same currency.")
        if mode == "subscription" and not any(line["price"]["type"] == "recurring" for line in lines):
            raise invalid(
                "line_items",
                "You must provide at least one recurring price in `subscription` mode when using prices.",
            )
        if mode == "subscription" and len({(line["price"]["recurring"] or {}).get("interval") for line in lines}) > 1:
            raise invalid("line_items", "All prices on a subscription must have the same `recurring.interval`.")
        for field in ("success_url", "cancel_url"):
            if field in params and not params[field].startswith(("http://", "https://")):
                raise invalid(field, "Not a valid URL", code="url_invalid")
        total = sum(line["amount_total"] for line in lines)
        created = now()
        session = state.base_fields(
            "cs_test",
            "checkout.session",
            allow_promotion_codes=params.get("allow_promotion_codes"),
            amount_subtotal=total,
            amount_total=total,
            billing_address_collection=params.get("billing_address_collection"),
            cancel_url=params.get("cancel_url"),
            client_reference_id=params.get("client_reference_id"),
            currency=lines[0]["currency"],
            customer=params.get("customer"),
            customer_creation=None if params.get("customer") else params.get("customer_creation", "if_required"),
            customer_details=None,
            customer_email=params.get("customer_email"),
            expires_at=params.get("expires_at") or created + 86400,
            invoice=None,
            locale=params.get("locale"),
            metadata=params.get("metadata") or {},
            mode=mode,
            payment_intent=None,
            payment_method_types=params.get("payment_method_types") or ["card"],
            payment_status="unpaid",
            status="open",
            submit_type=params.get("submit_type"),
            subscription=None,
            success_url=params.get("success_url"),
            ui_mode="hosted",
            url=None,
        )
        session["id"] = new_id("cs_test", 58)
        session["url"] = f"{call.base}/checkout/{session['id']}"
        session["_payment_intent_data"] = params.get("payment_intent_data") or {}
        session["_subscription_data"] = params.get("subscription_data") or {}
        state.session_lines[session["id"]] = lines
        state.add(session)
        return session

    def create_portal(self, call: Call) -> dict:
        customer = self.customer(call.params["customer"])
        session = self.state.base_fields(
            "bps",
            "billing_portal.session",
            configuration=call.params.get("configuration") or "bpc_fake_default",
            customer=customer["id"],
            flow=None,
            locale=call.params.get("locale"),
            on_behalf_of=None,
            return_url=call.params.get("return_url"),
        )
        session["url"] = f"{call.base}/p/session/{session['id']}"
        return self.state.add(session)

    # subscriptions --------------------------------------------------------------------------------------------------
    def list_subscriptions(self, call: Call) -> dict:
        p = call.params
        status = p.get("status")
        if p.get("customer"):
            self.customer(p["customer"])

        def keep(sub: dict) -> bool:
            if p.get("customer") not in (None, sub["customer"]):
                return False
            if p.get("price") and all(item["price"]["id"] != p["price"] for item in sub["items"]["data"]):
                return False
            if status is None:
                return sub["status"] != "canceled"  # Stripe leaves canceled ones out unless asked
            if status == "ended":
                return sub["status"] in ("canceled", "incomplete_expired")
            return status == "all" or sub["status"] == status

        return self.listing(call, "/v1/subscriptions", self.state.newest_first("subscription", keep))

    def update_subscription(self, call: Call) -> dict:
        state, params = self.state, call.params
        sub = state.require(call.match["id"], "subscription", "subscription", "id", status=404)
        if sub["status"] == "canceled" and set(params) - {"metadata", "cancellation_details", "expand"}:
            raise invalid("id", "A canceled subscription can only update its cancellation_details and metadata.")
        before = copy.deepcopy(sub)
        for i, change in enumerate(params.get("items") or []):
            param = f"items[{i}]"
            if change.get("id"):
                item = next((it for it in sub["items"]["data"] if it["id"] == change["id"]), None)
                if item is None:
                    raise invalid(f"{param}[id]", f"No such subscription item: '{change['id']}'", "resource_missing")
                if change.get("deleted"):
                    sub["items"]["data"].remove(item)
                    continue
            else:  # no id: Stripe adds an item (to change a plan, pass the existing item's id)
                if not change.get("price"):
                    raise missing(f"{param}[price]")
                first = sub["items"]["data"][0]
                item = state.subscription_item(
                    sub["id"], {}, 1, first["current_period_start"], first["current_period_end"]
                )
                sub["items"]["data"].append(item)
            if change.get("price"):
                price = state.require(change["price"], "price", "price", f"{param}[price]")
                if price["type"] != "recurring":
                    raise invalid(f"{param}[price]", "The price specified is set to `type=one_time` but this field "
                                  "only accepts prices with `type=recurring`.")  # fmt: skip
                if price["currency"] != sub["currency"]:
                    raise invalid(f"{param}[price]", f"The price specified only supports `{price['currency']}`. "
                                  f"This doesn't match the expected currency: `{sub['currency']}`.")  # fmt: skip
                if any(it is not item and it["price"]["id"] == price["id"] for it in sub["items"]["data"]):
                    raise invalid(f"{param}[price]", "Cannot add multiple subscription items with the same price.")
                item["price"] = copy.deepcopy(price)
            if change.get("quantity") is not None:
                item["quantity"] = change["quantity"]
            if "metadata" in change:
                item["metadata"] = merge_metadata(item["metadata"], change["metadata"])
        if not sub["items"]["data"]:
            raise invalid("items", "A subscription must have at least one active plan.")
        sub["items"]["total_count"] = len(sub["items"]["data"])
        if "metadata" in params:
            sub["metadata"] = merge_metadata(sub["metadata"], params["metadata"])
        if "cancel_at_period_end" in params and params["cancel_at_period_end"] is not None:
            sub["cancel_at_period_end"] = params["cancel_at_period_end"]
            sub["cancel_at"] = sub["items"]["data"][0]["current_period_end"] if sub["cancel_at_period_end"] else None
            sub["canceled_at"] = now() if sub["cancel_at_period_end"] else None
        if "cancel_at" in params:
            sub["cancel_at"] = params["cancel_at"]
        if "default_payment_method" in params:
            method_id = params["default_payment_method"]
            if method_id:
                state.require(method_id, "payment_method", "PaymentMethod", "default_payment_method")
            sub["default_payment_method"] = method_id or None
        if "description" in params:
            sub["description"] = params["description"] or None
        if params.get("cancellation_details"):
            sub["cancellation_details"].update(params["cancellation_details"])
        previous = state.changes(before, sub)
        if previous:
            state.emit("customer.subscription.updated", sub, previous, call.request_info)
        return sub

    def cancel_subscription(self, call: Call) -> dict:
        sub = self.state.require(call.match["id"], "subscription", "subscription", "id", status=404)
        if sub["status"] == "canceled":
            raise invalid("id", f"No such subscription: '{sub['id']}'", "resource_missing")
        if call.params.get("cancellation_details"):
            sub["cancellation_details"].update(call.params["cancellation_details"])
        self.state.cancel(sub)
        return sub

    # payment intents ------------------------------------------------------------------------------------------------
    def create_payment_intent(self, call: Call) -> dict:
        state, params = self.state, call.params
        if params["amount"] < 1:
            raise invalid("amount", "This value must be greater than or equal to 1.")
        currency = params["currency"].lower()
        if currency == "usd" and params["amount"] < 50:
            raise invalid("amount", "Amount must be at least $0.50 usd", "amount_too_small")
        customer = self.customer(params["customer"]) if params.get("customer") else None
        method = None
        if params.get("payment_method"):
            method = state.resolve_payment_method(params["payment_method"])
            if method["customer"] and customer and method["customer"] != customer["id"]:
                raise invalid(
                    "payment_method",
                    "The provided PaymentMethod was previously used with a PaymentIntent without Customer "
                    "attachment, shared with a connected account without Customer attachment, or was detached "
                    "from a Customer. It may not be used again.",
                )
            if params.get("off_session") and not method["customer"]:
                raise invalid(
                    "payment_method",
                    "The PaymentMethod must be attached to a Customer to be used with off_session payments.",
                )
        if params.get("off_session") and not params.get("confirm"):
            raise invalid("off_session", "You can only pass in `off_session` when `confirm` is set to true.")
        intent = state.payment_intent(
            params["amount"],
            currency,
            customer["id"] if customer else None,
            metadata=params.get("metadata"),
            description=params.get("description"),
            receipt_email=params.get("receipt_email"),
            setup_future_usage=params.get("setup_future_usage"),
        )
        if method is not None:
            intent["payment_method"] = method["id"]
            intent["status"] = "requires_confirmation"
        if params.get("confirm"):
            if method is None:
                raise invalid(
                    "payment_method",
                    "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the "
                    "PaymentIntent with this customer, you must provide the `payment_method` parameter.",
                    "payment_intent_unexpected_state",
                )
            try:
                state.charge_intent(intent, method)
            except CardDeclined as declined:
                raise StripeError(
                    402,
                    str(declined),
                    type="card_error",
                    code="card_declined",
                    extra={
                        "decline_code": declined.decline_code,
                        "charge": intent["latest_charge"],
                        "payment_intent": copy.deepcopy(intent),
                        "payment_method": copy.deepcopy(method),
                    },
                ) from None
        return intent

    # invoices -------------------------------------------------------------------------------------------------------
    def list_invoices(self, call: Call) -> dict:
        p = call.params
        if p.get("customer"):
            self.customer(p["customer"])
        found = self.state.newest_first(
            "invoice",
            lambda inv: (
                p.get("customer") in (None, inv["customer"])
                and p.get("subscription") in (None, inv["parent"]["subscription_details"]["subscription"])
                and p.get("status") in (None, inv["status"])
            ),
        )
        return self.listing(call, "/v1/invoices", found)

    # billing meters -------------------------------------------------------------------------------------------------
    def create_meter(self, call: Call) -> dict:
        params = call.params
        if any(m["event_name"] == params["event_name"] and m["status"] == "active"
               for m in self.state.newest_first("billing.meter")):  # fmt: skip
            raise invalid("event_name", f"An active meter with event_name `{params['event_name']}` already exists.")
        meter = self.state.base_fields(
            "mtr_test",
            "billing.meter",
            customer_mapping=params.get("customer_mapping")
            or {"event_payload_key": "stripe_customer_id", "type": "by_id"},
            default_aggregation=params["default_aggregation"],
            display_name=params["display_name"],
            event_name=params["event_name"],
            event_time_window=params.get("event_time_window"),
            status="active",
            status_transitions={"deactivated_at": None},
            updated=now(),
            value_settings=params.get("value_settings") or {"event_payload_key": "value"},
        )
        return self.state.add(meter)

    def list_meters(self, call: Call) -> dict:
        status = call.params.get("status")
        found = self.state.newest_first("billing.meter", lambda m: status in (None, m["status"]))
        return self.listing(call, "/v1/billing/meters", found)

    def create_meter_event(self, call: Call) -> dict:
        """Stripe refuses a second event with an identifier it has seen (at least 24 hours; here, for the process
        lifetime) with a 400 `invalid_request_error` and `Stripe-Should-Retry: false`; a replay of the same request
        under the same Idempotency-Key gets the first answer instead, like every POST."""
        state, params = self.state, call.params
        meter = next(
            (m for m in state.newest_first("billing.meter") if m["event_name"] == params["event_name"]
             and m["status"] == "active"), None,
        )  # fmt: skip
        if meter is None:
            raise invalid(
                "event_name", f"Invalid event_name: {params['event_name']}. No active meter found with this event name."
            )
        payload = params["payload"]
        customer_key = meter["customer_mapping"]["event_payload_key"]
        value_key = meter["value_settings"]["event_payload_key"]
        if customer_key not in payload:
            raise invalid("payload", f"Customer mapping key {customer_key} not found in payload.")
        self.customer(payload[customer_key], f"payload[{customer_key}]")
        if meter["default_aggregation"]["formula"] != "count" or value_key in payload:
            if value_key not in payload:
                raise invalid("payload", f"Value key {value_key} not found in payload.")
            if parse_decimal(payload[value_key]) is None:
                raise invalid(f"payload[{value_key}]", f"Value for key {value_key} must be a number.")
        moment = now()
        timestamp = params.get("timestamp", moment)
        if not moment - METER_WINDOW[0] <= timestamp <= moment + METER_WINDOW[1]:
            raise invalid(
                "timestamp",
                "Timestamp must be within the past 35 calendar days or up to 5 minutes in the future.",
            )
        identifier = params.get("identifier") or new_id("idmp", 24)
        if identifier in state.meter_identifiers:
            raise StripeError(
                400,
                f"An event already exists with identifier {identifier}.",
                param="identifier",
                headers={"Stripe-Should-Retry": "false"},
            )
        event = {
            "object": "billing.meter_event",
            "created": moment,
            "event_name": params["event_name"],
            "identifier": identifier,
            "livemode": False,
            "payload": dict(payload),
            "timestamp": timestamp,
        }
        state.meter_identifiers.add(identifier)
        state.meter_events.append(event)
        return event

    def event_summaries(self, call: Call) -> dict:
        state, p = self.state, call.params
        meter = state.require(call.match["id"], "billing.meter", "billing meter", "id", status=404)
        self.customer(p["customer"])
        start, end = p["start_time"], p["end_time"]
        for field in ("start_time", "end_time"):
            if p[field] % 60:
                raise invalid(field, f"{field} must be aligned with minute boundaries.")
        if end <= start:
            raise invalid("end_time", "end_time must be after start_time.")
        window = p.get("value_grouping_window")
        bounds = [(start, end)]
        if window:
            step_interval = "day" if window == "day" else None
            bounds, cursor = [], start
            while cursor < end:
                following = add_interval(cursor, step_interval, 1) if step_interval else cursor + 3600
                bounds.append((cursor, min(following, end)))
                cursor = following
        summaries = [
            {
                "id": f"mtrusg_{meter['id']}_{low}_{high}",
                "object": "billing.meter_event_summary",
                "aggregated_value": state.meter_summary(meter, p["customer"], low, high),
                "end_time": high,
                "livemode": False,
                "meter": meter["id"],
                "start_time": low,
            }
            for low, high in bounds
        ]
        return self.listing(call, f"/v1/billing/meters/{meter['id']}/event_summaries", summaries)
