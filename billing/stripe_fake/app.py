"""The aiohttp application: Stripe's `/v1` API, the hosted pages and the `/_fake` control plane."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field

from aiohttp import web

from . import pages
from .api import Api, Call
from .params import StripeError, check, parse_form
from .state import API_VERSION, DEFAULT_CONFIG, CardDeclined, State, luhn_ok, new_id
from .webhooks import Dispatcher

KEY_RE = re.compile(r"^sk_test_[A-Za-z0-9_]+$")


@dataclass
class FakeConfig:
    public_base_url: str | None = None  # origin of the hosted pages' URLs; defaults to the request's own origin
    settings: dict = field(default_factory=dict)  # overrides of DEFAULT_CONFIG (webhook_url, knobs)


STATE_KEY = web.AppKey("stripe_state", State)


def _json(data, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.Response(
        body=json.dumps(data, indent=2).encode(), status=status, content_type="application/json", headers=headers
    )


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", headers={"Cache-Control": "no-store"})


def _redact(key: str) -> str:
    head = key[: key.find("_", 3) + 1] if key.count("_") >= 2 else key[:3]
    return f"{head}{'*' * max(0, len(key) - len(head) - 4)}{key[-4:]}"


class StripeFake:
    def __init__(self, config: FakeConfig) -> None:
        self.config = config
        self.state = State(config.settings)
        self.api = Api(self.state)
        self.webhooks = Dispatcher(self.state.config, self.state.deliveries)

    def base_url(self, request: web.Request) -> str:
        return (self.config.public_base_url or str(request.url.origin())).rstrip("/")

    @web.middleware
    async def deliver_events(self, request: web.Request, handler):
        """Whatever a request changed is delivered after it is answered, as one ordered batch."""
        self.state.public_base = self.base_url(request)
        try:
            return await handler(request)
        finally:
            self.webhooks.enqueue(self.state.take_outbox())

    # the API ------------------------------------------------------------------------------------------------------
    def endpoint(self, method: str, handler, schema: dict):
        async def serve(request: web.Request) -> web.Response:
            request_id = new_id("req", 14)
            headers = {"Request-Id": request_id, "Stripe-Version": request.headers.get("Stripe-Version", API_VERSION)}
            key = request.headers.get("Idempotency-Key") if method == "POST" else None
            try:
                self.authenticate(request)
                raw = parse_form(await request.text() if method == "POST" else request.query_string)
                if key:
                    saved = self.state.idempotency.get(key)
                    if saved is not None:
                        return self.replay(saved, request, raw, key, headers)
                params = check(raw, schema)
                call = Call(params, dict(request.match_info), self.base_url(request),
                            {"id": request_id, "idempotency_key": key})  # fmt: skip
                status, body = 200, self.render(handler(call), params.get("expand") or [])
            except StripeError as error:
                status, body = error.status, error.body()
                headers.update(error.headers)
            if key and status in (200, 402):  # Stripe keeps the result of a request that began executing
                self.state.idempotency[key] = {
                    "path": request.path, "params": raw, "status": status, "body": body, "headers": dict(headers),
                    "request_id": request_id,
                }  # fmt: skip
            return _json(body, status, headers)

        return serve

    def replay(self, saved: dict, request: web.Request, raw: dict, key: str, headers: dict) -> web.Response:
        if saved["path"] != request.path or saved["params"] != raw:
            error = StripeError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they were first used with. "
                f"Try using a key other than '{key}' if you meant to execute a different request.",
                type="idempotency_error",
            )
            return _json(error.body(), 400, headers)
        replay_headers = {**saved["headers"], "Idempotent-Replayed": "true", "Original-Request": saved["request_id"]}
        return _json(saved["body"], saved["status"], replay_headers)

    def authenticate(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        key = ""
        if header[:7].lower() == "bearer ":
            key = header[7:].strip()
        elif header[:6].lower() == "basic ":
            try:
                key = base64.b64decode(header[6:].strip()).decode().split(":", 1)[0]
            except (ValueError, UnicodeDecodeError):
                key = ""
        if not key:
            raise StripeError(
                401,
                "You did not provide an API key. You need to provide your API key in the Authorization header, "
                "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#"
                "authentication for details, or we can help at https://support.stripe.com/.",
                headers={"WWW-Authenticate": 'Basic realm="Stripe"'},
            )
        if not KEY_RE.match(key):
            raise StripeError(
                401, f"Invalid API Key provided: {_redact(key)}", headers={"WWW-Authenticate": 'Basic realm="Stripe"'}
            )

    def render(self, obj: dict, expand: list[str]) -> dict:
        out = self.state.public(obj)
        for path in expand:
            self.expand(out, path.split("."), path)
        return out

    def expand(self, node: dict, parts: list[str], path: str) -> None:
        if not parts or not isinstance(node, dict):
            return
        head, rest = parts[0], parts[1:]
        if node.get("object") == "list" and head == "data":
            for item in node["data"]:
                self.expand(item, rest, path)
            return
        if node.get("object") == "checkout.session" and head == "line_items":
            lines = self.state.session_lines.get(node["id"], [])
            node["line_items"] = {"object": "list", "data": [dict(line) for line in lines], "has_more": False,
                                  "url": f"/v1/checkout/sessions/{node['id']}/line_items"}  # fmt: skip
        elif head not in node:
            raise StripeError(400, f"This property cannot be expanded ({path}).", param="expand")
        value = node[head]
        if isinstance(value, str):
            target = self.state.objects.get(value)
            if target is None:
                raise StripeError(400, f"This property cannot be expanded ({path}).", param="expand")
            node[head] = value = self.state.public(target)
        if isinstance(value, dict):
            self.expand(value, rest, path)
        elif isinstance(value, list):
            for item in value:
                self.expand(item, rest, path)

    async def unknown_url(self, request: web.Request) -> web.Response:
        error = StripeError(
            404,
            f"Unrecognized request URL ({request.method}: {request.path}). Please see https://stripe.com/docs or we "
            "can help at https://support.stripe.com/.",
        )
        return _json(error.body(), 404)

    # hosted pages ----------------------------------------------------------------------------------------------------
    def session_or_404(self, session_id: str) -> dict:
        session = self.state.get(session_id, "checkout.session")
        if session is None:
            raise web.HTTPNotFound(text="No such checkout session")
        return session

    async def checkout_page(self, request: web.Request) -> web.Response:
        session = self.session_or_404(request.match_info["id"])
        if session["status"] != "open":
            return _html(pages.checkout_closed(session))
        return _html(pages.checkout(session, self.state.session_lines[session["id"]], email=self.email_for(session)))

    def email_for(self, session: dict) -> str:
        customer = self.state.objects.get(session["customer"] or "") or {}
        return customer.get("email") or session.get("customer_email") or ""

    async def checkout_pay(self, request: web.Request) -> web.Response:
        session = self.session_or_404(request.match_info["id"])
        if session["status"] != "open":
            return _html(pages.checkout_closed(session))
        form = await request.post()
        typed = str(form.get("card_number", ""))
        number = re.sub(r"[\s-]", "", typed)
        error = None
        if not luhn_ok(number):
            error = "Your card number is incorrect."
        else:
            try:
                self.state.complete_checkout(
                    session,
                    number,
                    name=str(form.get("name") or "") or None,
                    email=str(form.get("email") or "") or None,
                )
            except CardDeclined as declined:
                error = str(declined)
        if error:
            lines = self.state.session_lines[session["id"]]
            return _html(pages.checkout(session, lines, error, typed, email=self.email_for(session)))
        if not session.get("success_url"):
            return _html(pages.checkout_closed(session))
        raise web.HTTPSeeOther(session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"]))

    def portal_session(self, request: web.Request) -> dict:
        session = self.state.get(request.match_info["id"], "billing_portal.session")
        if session is None:
            raise web.HTTPNotFound(text="No such portal session")
        return session

    async def portal_page(self, request: web.Request) -> web.Response:
        session = self.portal_session(request)
        customer_id = session["customer"]
        subscriptions = self.state.newest_first("subscription", lambda s: s["customer"] == customer_id)
        invoices = self.state.newest_first("invoice", lambda i: i["customer"] == customer_id)
        methods = self.state.newest_first("payment_method", lambda m: m["customer"] == customer_id)
        customer = self.state.objects[customer_id]
        return _html(pages.portal(session, customer, subscriptions, invoices, methods, self.state.product_name))

    async def portal_cancel(self, request: web.Request) -> web.Response:
        """ "Cancel plan" in the portal: at the end of the period, as Stripe's default portal configuration does."""
        session = self.portal_session(request)
        sub = self.state.get(request.match_info["sub"], "subscription")
        if sub is None or sub["customer"] != session["customer"]:
            raise web.HTTPNotFound(text="No such subscription")
        if not sub["cancel_at_period_end"] and sub["status"] != "canceled":
            call = Call({"cancel_at_period_end": True}, {"id": sub["id"]}, self.base_url(request),
                        {"id": None, "idempotency_key": None})  # fmt: skip
            self.api.update_subscription(call)
        raise web.HTTPSeeOther(f"/p/session/{session['id']}")

    async def invoice_page(self, request: web.Request) -> web.Response:
        invoice = self.state.get(request.match_info["id"], "invoice")
        if invoice is None:
            raise web.HTTPNotFound(text="No such invoice")
        return _html(pages.invoice(invoice))

    # control plane ---------------------------------------------------------------------------------------------------
    @staticmethod
    async def body_of(request: web.Request) -> dict:
        if not request.can_read_body:
            return {}
        try:
            data = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text=json.dumps({"error": "body is not JSON"}), content_type="application/json")
        if not isinstance(data, dict):
            raise web.HTTPBadRequest(
                text=json.dumps({"error": "body must be an object"}), content_type="application/json"
            )
        return data

    @staticmethod
    def bad(message: str, status: int = 400) -> web.Response:
        return _json({"error": message}, status)

    async def get_config(self, request: web.Request) -> web.Response:
        return _json(self.state.config)

    async def set_config(self, request: web.Request) -> web.Response:
        data = await self.body_of(request)
        unknown = set(data) - set(DEFAULT_CONFIG)
        if unknown:
            return self.bad(f"unknown setting(s) {sorted(unknown)}; known: {sorted(DEFAULT_CONFIG)}")
        for key, value in data.items():
            expected = type(DEFAULT_CONFIG[key])
            if expected is float and isinstance(value, int):
                value = float(value)
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                return self.bad(f"{key} must be {expected.__name__}")
        self.state.config.update(data)
        return _json(self.state.config)

    async def reset(self, request: web.Request) -> web.Response:
        """Forgets every object, event and delivery (keeps the config); queued deliveries are dropped."""
        await self.webhooks.reset()
        self.state.reset()
        self.webhooks.deliveries = self.state.deliveries
        return _json({"ok": True})

    async def complete_checkout(self, request: web.Request) -> web.Response:
        session = self.state.get(request.match_info["id"], "checkout.session")
        if session is None:
            return self.bad("no such checkout session", 404)
        data = await self.body_of(request)
        number = re.sub(r"[\s-]", "", str(data.get("card", "4242424242424242")))
        if not luhn_ok(number):
            return self.bad("card number is not valid")
        try:
            self.state.complete_checkout(session, number, name=data.get("name"), email=data.get("email"))
        except CardDeclined as declined:
            return _json({"error": str(declined), "decline_code": declined.decline_code}, 402)
        except StripeError as error:
            return self.bad(error.message, 409)
        return _json(self.state.public(session))

    async def subscription_action(self, request: web.Request) -> web.Response:
        sub = self.state.get(request.match_info["id"], "subscription")
        if sub is None:
            return self.bad("no such subscription", 404)
        action = request.match_info["action"]
        try:
            if action == "fail_payment":
                self.state.renew(sub, fail=True)
            elif action == "pay":
                self.state.pay_open_invoice(sub)
            elif action == "renew":
                self.state.renew(sub)
            elif action == "cancel":
                self.state.cancel(sub)
            else:
                return self.bad("action must be fail_payment, pay, renew or cancel", 404)
        except StripeError as error:
            return self.bad(error.message, 409)
        except CardDeclined as declined:
            return _json({"error": str(declined), "subscription": self.state.public(sub)}, 402)
        return _json(self.state.public(sub))

    async def list_events(self, request: web.Request) -> web.Response:
        kind = request.query.get("type")
        return _json([e for e in self.state.events if kind in (None, e["type"])])

    async def resend_event(self, request: web.Request) -> web.Response:
        event = next((e for e in self.state.events if e["id"] == request.match_info["id"]), None)
        if event is None:
            return self.bad("no such event", 404)
        self.webhooks.enqueue([event])
        return _json({"ok": True, "event": event["id"]})

    async def list_deliveries(self, request: web.Request) -> web.Response:
        return _json(self.state.deliveries)

    async def list_meter_events(self, request: web.Request) -> web.Response:
        return _json(self.state.meter_events)

    async def healthz(self, request: web.Request) -> web.Response:
        return _json({"ok": True})


def create_app(config: FakeConfig | None = None) -> web.Application:
    fake = StripeFake(config or FakeConfig())
    app = web.Application(middlewares=[fake.deliver_events])
    app[STATE_KEY] = fake.state
    app.on_startup.append(fake.webhooks.start)
    app.on_cleanup.append(fake.webhooks.stop)
    r = app.router
    for method, path, handler, schema in fake.api.routes:
        r.add_route(method, path, fake.endpoint(method, handler, schema))
    r.add_route("*", "/v1/{tail:.*}", fake.unknown_url)
    r.add_get("/checkout/{id}", fake.checkout_page)
    r.add_post("/checkout/{id}/pay", fake.checkout_pay)
    r.add_get("/p/session/{id}", fake.portal_page)
    r.add_post("/p/session/{id}/subscriptions/{sub}/cancel", fake.portal_cancel)
    r.add_get("/i/{id}", fake.invoice_page)
    r.add_get("/healthz", fake.healthz)
    r.add_get("/_fake/config", fake.get_config)
    r.add_post("/_fake/config", fake.set_config)
    r.add_post("/_fake/reset", fake.reset)
    r.add_post("/_fake/checkout_sessions/{id}/complete", fake.complete_checkout)
    r.add_post("/_fake/subscriptions/{id}/{action}", fake.subscription_action)
    r.add_get("/_fake/events", fake.list_events)
    r.add_post("/_fake/events/{id}/resend", fake.resend_event)
    r.add_get("/_fake/deliveries", fake.list_deliveries)
    r.add_get("/_fake/meter_events", fake.list_meter_events)
    return app
