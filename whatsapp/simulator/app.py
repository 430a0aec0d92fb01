"""The aiohttp application: Meta's Graph API surface, the `/_sim` control plane and the customer phone page."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from . import payloads
from .payloads import graph_error
from .state import DEFAULT_FAULTS, PLACEHOLDER_RE, Conversation, Customer, Media, Number, SimState, ThreadMessage
from .webhooks import WebhookDispatcher

VERSION = r"{version:v\d+\.\d+}"
STATIC = Path(__file__).parent / "static"
SEND_TYPES = frozenset(
    {"text", "template", "interactive", "image", "document", "audio", "video", "sticker", "location", "reaction"}
)
MEDIA_TYPES = frozenset({"image", "document", "audio", "video", "sticker"})
STATUS_RANK = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}
DIGITS_RE = re.compile(r"^\d{6,15}$")
BSUID_RE = re.compile(r"^[A-Z]{2}\.\d{6,}$")
_JSON_DUMPS = json.dumps
PHONE_OPEN_SECONDS = 3.0


@dataclass
class SimConfig:
    public_base_url: str | None = None  # base of media URLs; defaults to the request's own origin
    faults: dict = field(default_factory=dict)  # overrides of DEFAULT_FAULTS (also what /_sim/reset returns to)
    webhook_workers: int = 16


STATE_KEY = web.AppKey("sim_state", SimState)
SIM_KEY = web.AppKey("simulator", object)


def _json(data, status: int = 200) -> web.Response:
    return web.Response(body=_JSON_DUMPS(data).encode(), status=status, content_type="application/json")


class BadRequest(Exception):
    def __init__(self, code: int, message: str, details: str, http: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.details, self.http = code, message, details, http


def _param_error(details: str) -> BadRequest:
    return BadRequest(100, "(#100) Invalid parameter", details)


def _value_error(details: str) -> BadRequest:
    return BadRequest(131009, "(#131009) Parameter value is not valid", details)


class Simulator:
    def __init__(self, config: SimConfig) -> None:
        self.config = config
        faults = json.loads(json.dumps(DEFAULT_FAULTS))
        for key, value in config.faults.items():
            if key == "status_delays_ms":
                faults[key].update(value)
            else:
                faults[key] = value
        self.state = SimState(faults)
        self.webhooks = WebhookDispatcher(self.state, workers=config.webhook_workers)

    # helpers -------------------------------------------------------------
    def error(self, http: int, code: int, message: str, details: str | None = None, type_: str = "OAuthException"):
        self.state.stats.errors_by_code[code] += 1
        return _json(graph_error(code, message, details, type_=type_), status=http)

    def auth_error(self) -> web.Response:
        return self.error(
            401,
            190,
            "Invalid OAuth access token - Cannot parse access token",
            "The access token is invalid or has expired.",
        )

    def unknown_object(self, object_id: str, verb: str = "post") -> web.Response:
        return self.error(
            400,
            100,
            f"Unsupported {verb} request. Object with ID '{object_id}' does not exist, cannot be loaded due to "
            "missing permissions, or does not support this operation. Please read the Graph API documentation "
            "at https://developers.facebook.com/docs/graph-api",
            f"Unknown object id {object_id}",
            type_="GraphMethodException",
        )

    @staticmethod
    def bearer(request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        if header[:7].lower() == "bearer ":
            return header[7:].strip()
        return request.query.get("access_token")

    async def graph_prelude(self) -> web.Response | None:
        """Counting, added latency and injected 5xx for every Graph request."""
        self.state.stats.graph_requests += 1
        faults = self.state.faults
        latency = faults["graph_latency_ms"]
        if latency:
            await asyncio.sleep(latency / 1000.0)
        rate = faults["graph_5xx_rate"]
        if rate and random.random() < rate:
            self.state.stats.injected_5xx += 1
            if random.random() < 0.5:
                return self.error(500, 1, "An unknown error has occurred.", "An unknown error has occurred.")
            return self.error(503, 2, "Service temporarily unavailable", "Service temporarily unavailable")
        return None

    def base_url(self, request: web.Request) -> str:
        return (self.config.public_base_url or str(request.url.origin())).rstrip("/")

    # Graph: messages ------------------------------------------------------
    async def post_messages(self, request: web.Request) -> web.Response:
        early = await self.graph_prelude()
        if early is not None:
            return early
        state = self.state
        pnid = request.match_info["pnid"]
        token = self.bearer(request)
        number = state.numbers.get(pnid)
        if number is None:
            return self.unknown_object(pnid) if state.token_known(token) else self.auth_error()
        if not token or token != number.access_token:
            return self.auth_error()
        try:
            body = await request.json(loads=json.loads)
        except (ValueError, UnicodeDecodeError):
            return self.error(400, 100, "(#100) Invalid parameter", "The request body is not valid JSON.")
        if not isinstance(body, dict):
            return self.error(400, 100, "(#100) Invalid parameter", "The request body must be a JSON object.")
        try:
            if body.get("status") == "read" and "message_id" in body:
                return self.mark_read(number, body)
            return self.send(number, body)
        except BadRequest as exc:
            return self.error(exc.http, exc.code, exc.message, exc.details)

    def mark_read(self, number: Number, body: dict) -> web.Response:
        if body.get("messaging_product") != "whatsapp":
            raise BadRequest(100, "(#100) The parameter messaging_product is required.", "messaging_product")
        found = self.state.message_index.get(str(body["message_id"]))
        if found is None or found[0].phone_number_id != number.phone_number_id or found[1].direction != "out":
            raise _param_error(f"Message {body['message_id']} was not received by this phone number.")
        conv, target = found
        for msg in conv.messages:  # reading a message reads everything before it, like WhatsApp
            if msg.direction == "out":
                msg.status = "read"
            if msg is target:
                break
        return _json({"success": True})

    def resolve_recipient(self, number: Number, body: dict) -> tuple[str, str]:
        """Returns (input as given, wa_id)."""
        raw = body.get("to", body.get("recipient"))
        if not isinstance(raw, str) or not raw.strip():
            raise BadRequest(100, "(#100) The parameter to is required.", "Missing recipient: the parameter to.")
        raw_input = raw
        cleaned = raw.strip()
        if BSUID_RE.match(cleaned):
            wa_id = self.state.user_ids.get(cleaned)
            if wa_id is None:
                raise _param_error(f"Unknown business-scoped user id {cleaned}.")
            return raw_input, wa_id
        digits = re.sub(r"[\s+\-()]", "", cleaned)
        if not DIGITS_RE.match(digits):
            raise _param_error(f"Invalid recipient phone number: {raw_input}")
        return raw_input, digits

    def validate(self, body: dict) -> str:
        if body.get("messaging_product") != "whatsapp":
            raise BadRequest(
                100, "(#100) The parameter messaging_product is required.", "messaging_product must be 'whatsapp'."
            )
        rtype = body.get("recipient_type", "individual")
        if rtype != "individual":
            raise _param_error(f"recipient_type must be 'individual', got {rtype!r}.")
        mtype = body.get("type", "text")
        if mtype not in SEND_TYPES:
            raise _param_error(f"Param type must be one of {{{', '.join(sorted(SEND_TYPES))}}}, got {mtype!r}.")
        content = body.get(mtype)
        if not isinstance(content, dict):
            raise BadRequest(100, f"(#100) The parameter {mtype} is required.", f"Missing object {mtype!r}.")
        if mtype == "text":
            text = content.get("body")
            if not isinstance(text, str) or not text:
                raise BadRequest(100, "(#100) The parameter text['body'] is required.", "text.body is required.")
            if len(text) > 4096:
                raise _param_error("Param text['body'] must be at most 4096 characters long.")
        elif mtype == "template":
            if not isinstance(content.get("name"), str) or not content["name"]:
                raise BadRequest(100, "(#100) The parameter template['name'] is required.", "template.name")
            lang = content.get("language")
            if not isinstance(lang, dict) or not isinstance(lang.get("code"), str):
                raise BadRequest(
                    100, "(#100) The parameter template['language'] is required.", "template.language.code"
                )
        elif mtype == "interactive":
            self.validate_interactive(content)
        elif mtype in MEDIA_TYPES:
            if not content.get("id") and not content.get("link"):
                raise _param_error(f"{mtype} must have an id or a link.")
        elif mtype == "location":
            for key in ("latitude", "longitude"):
                if not isinstance(content.get(key), int | float | str) or content.get(key) in ("", None):
                    raise BadRequest(100, f"(#100) The parameter location['{key}'] is required.", key)
        elif mtype == "reaction":
            if not content.get("message_id"):
                raise BadRequest(100, "(#100) The parameter reaction['message_id'] is required.", "message_id")
            if not isinstance(content.get("emoji", None), str):
                raise BadRequest(100, "(#100) The parameter reaction['emoji'] is required.", "emoji")
        cb = body.get("biz_opaque_callback_data")
        if cb is not None and (not isinstance(cb, str) or len(cb) > 512):
            raise _param_error("biz_opaque_callback_data must be a string of at most 512 characters.")
        return mtype

    @staticmethod
    def validate_interactive(content: dict) -> None:
        itype = content.get("type")
        action = content.get("action")
        if itype not in ("button", "list", "cta_url", "flow", "product", "product_list", "location_request_message"):
            raise _param_error(f"Invalid interactive type {itype!r}.")
        if not isinstance(action, dict):
            raise BadRequest(100, "(#100) The parameter interactive['action'] is required.", "interactive.action")
        body = content.get("body")
        if itype in ("button", "list") and (not isinstance(body, dict) or not body.get("text")):
            raise BadRequest(100, "(#100) The parameter interactive['body'] is required.", "interactive.body.text")
        if isinstance(body, dict) and len(str(body.get("text", ""))) > 1024:
            raise _value_error("Interactive body text must be at most 1024 characters.")
        if itype == "button":
            buttons = action.get("buttons")
            if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
                raise _value_error("Buttons count is invalid: an interactive message can have 1 to 3 reply buttons.")
            for button in buttons:
                reply = button.get("reply") if isinstance(button, dict) else None
                if not isinstance(reply, dict) or not reply.get("id") or not reply.get("title"):
                    raise _value_error("Each button needs type 'reply' with reply.id and reply.title.")
                if len(reply["title"]) > 20:
                    raise _value_error(f"Button title length is too long: {reply['title']!r} (max 20 characters).")
        elif itype == "list":
            sections = action.get("sections")
            if not action.get("button") or len(str(action["button"])) > 20:
                raise _value_error("List button text is required and must be at most 20 characters.")
            if not isinstance(sections, list) or not 1 <= len(sections) <= 10:
                raise _value_error("A list message needs 1 to 10 sections.")
            rows = [row for s in sections if isinstance(s, dict) for row in (s.get("rows") or [])]
            if not 1 <= len(rows) <= 10:
                raise _value_error(f"Total row count must be between 1 and 10, got {len(rows)}.")
            for row in rows:
                if not isinstance(row, dict) or not row.get("id") or not row.get("title"):
                    raise _value_error("Each list row needs an id and a title.")
                if len(row["title"]) > 24:
                    raise _value_error(f"Row title length is too long: {row['title']!r} (max 24 characters).")
                if len(str(row.get("description", ""))) > 72:
                    raise _value_error("Row description must be at most 72 characters.")

    def check_template(self, number: Number, tpl_body: dict) -> tuple:
        name = tpl_body["name"]
        lang = tpl_body["language"]["code"]
        template = self.state.templates.get((number.waba_id, name, lang))
        if template is None:
            raise BadRequest(
                132001,
                "(#132001) Template name does not exist in the translation",
                f"template name ({name}) does not exist in {lang}",
            )
        if template.status == "PAUSED":
            raise BadRequest(132015, "(#132015) Template is Paused", f"Template {name} is paused for low quality.")
        if template.status == "DISABLED":
            raise BadRequest(132016, "(#132016) Template is disabled", f"Template {name} has been disabled.")
        if template.status != "APPROVED":
            raise BadRequest(
                132001,
                "(#132001) Template name does not exist in the translation",
                f"template name ({name}) is not approved in {lang}",
            )
        params: list = []
        for comp in tpl_body.get("components") or []:
            if isinstance(comp, dict) and str(comp.get("type", "")).lower() == "body":
                params = comp.get("parameters") or []
        expected = template.param_names
        if len(params) != len(expected):
            raise BadRequest(
                132000,
                "(#132000) Number of parameters does not match the expected number of params",
                f"body: number of localizable_params ({len(params)}) does not match the expected number of "
                f"params ({len(expected)})",
            )
        return template, params

    def send(self, number: Number, body: dict) -> web.Response:
        state = self.state
        mtype = self.validate(body)
        raw_input, wa_id = self.resolve_recipient(number, body)
        now_mono = time.monotonic()
        if not number.take_token(now_mono, state.faults["throughput_burst_seconds"]):
            state.stats.rate_limited[number.phone_number_id] += 1
            raise BadRequest(130429, "(#130429) Rate limit hit", "Cloud API message throughput has been reached.")
        template = params = None
        if mtype == "template":
            template, params = self.check_template(number, body["template"])
        now = time.time()
        customer = state.customer(wa_id)
        conv = state.conversation(number.phone_number_id, wa_id)
        window_open = conv.window_open(now)
        failure: int | None = None
        if customer.not_on_whatsapp:
            failure = 131026
        elif mtype != "template" and state.faults["enforce_window"] and not window_open:
            if state.faults["window_error_mode"] != "webhook":
                raise BadRequest(
                    131047,
                    "(#131047) Re-engagement message",
                    "Message failed to send because more than 24 hours have passed since the customer last "
                    "replied to this number.",
                )
            failure = 131047
        if template is not None:
            category = template.category.lower()
            if category == "utility" and window_open:
                pricing = payloads.pricing_for("free_customer_service", "utility")
            else:
                pricing = payloads.pricing_for("regular", category)
        else:
            pricing = payloads.pricing_for("free_customer_service", "service")

        wamid = payloads.new_wamid(wa_id)
        number.count_accepted(now_mono)
        state.stats.accepted[number.phone_number_id] += 1
        text, extra = self.render_outbound(mtype, body, template, params)
        record = ThreadMessage(
            id=wamid,
            direction="in",
            type=mtype,
            text=text,
            timestamp=str(int(now)),
            status="accepted",
            extra=extra,
            billing=pricing,
            biz_opaque_callback_data=body.get("biz_opaque_callback_data"),
        )
        state.add_message(conv, record)
        self.schedule_statuses(number, customer, conv, record, failure)
        contact = {"input": raw_input}
        if BSUID_RE.match(raw_input.strip()):
            contact["user_id"] = raw_input.strip()
        else:
            contact["wa_id"] = wa_id
        return _json(
            {
                "messaging_product": "whatsapp",
                "contacts": [contact],
                "messages": [{"id": wamid, "message_status": "accepted"}],
            }
        )

    @staticmethod
    def render_outbound(mtype: str, body: dict, template, params) -> tuple[str, dict]:
        content = body[mtype]
        extra: dict = {}
        ctx = body.get("context")
        if isinstance(ctx, dict) and ctx.get("message_id"):
            extra["context_id"] = ctx["message_id"]
        if mtype == "text":
            return content["body"], extra
        if mtype == "template":
            values = [str(p.get("text", p.get("payload", ""))) if isinstance(p, dict) else str(p) for p in params]
            named = {
                p["parameter_name"]: values[i]
                for i, p in enumerate(params)
                if isinstance(p, dict) and p.get("parameter_name")
            }
            names = template.param_names

            def sub(match: re.Match) -> str:
                key = match.group(1)
                if key in named:
                    return named[key]
                idx = names.index(key) if key in names else -1
                return values[idx] if 0 <= idx < len(values) else match.group(0)

            text = PLACEHOLDER_RE.sub(sub, template.body_text)
            extra["template"] = {"name": template.name, "language": template.language}
            if template.buttons:
                payload_by_index: dict[int, str] = {}
                for comp in content.get("components") or []:
                    if isinstance(comp, dict) and str(comp.get("type", "")).lower() == "button":
                        for p in comp.get("parameters") or []:
                            if isinstance(p, dict) and p.get("payload"):
                                payload_by_index[int(comp.get("index", 0))] = str(p["payload"])
                extra["interactive"] = {
                    "type": "template_buttons",
                    "buttons": [
                        {"id": payload_by_index.get(i, title), "title": title}
                        for i, title in enumerate(template.buttons)
                    ],
                }
            return text, extra
        if mtype == "interactive":
            itype = content["type"]
            text = str((content.get("body") or {}).get("text", ""))
            info: dict = {"type": itype}
            header = content.get("header")
            if isinstance(header, dict) and header.get("text"):
                info["header"] = header["text"]
            footer = content.get("footer")
            if isinstance(footer, dict) and footer.get("text"):
                info["footer"] = footer["text"]
            action = content["action"]
            if itype == "button":
                info["buttons"] = [{"id": b["reply"]["id"], "title": b["reply"]["title"]} for b in action["buttons"]]
            elif itype == "list":
                info["button"] = action["button"]
                info["sections"] = [
                    {
                        "title": s.get("title", ""),
                        "rows": [
                            {"id": r["id"], "title": r["title"], "description": r.get("description", "")}
                            for r in s.get("rows") or []
                        ],
                    }
                    for s in action["sections"]
                ]
            extra["interactive"] = info
            return text, extra
        if mtype in MEDIA_TYPES:
            extra["media"] = {k: content[k] for k in ("id", "link", "caption", "filename") if k in content}
            return str(content.get("caption") or content.get("filename") or f"[{mtype}]"), extra
        if mtype == "location":
            extra["location"] = content
            return str(content.get("name") or f"📍 {content['latitude']}, {content['longitude']}"), extra
        # reaction
        extra["reaction_to"] = content["message_id"]
        return content.get("emoji", ""), extra

    # statuses -------------------------------------------------------------
    def schedule_statuses(
        self, number: Number, customer: Customer, conv: Conversation, record: ThreadMessage, failure: int | None
    ) -> None:
        faults = self.state.faults
        delays = faults["status_delays_ms"]
        d_sent = float(delays.get("sent", 50)) / 1000.0
        d_delivered = float(delays.get("delivered", 150)) / 1000.0
        d_read = float(delays.get("read", 1500)) / 1000.0
        fire = self.fire_status
        if failure is not None:
            self.webhooks.emit_call(d_sent, fire, number, customer, conv, record, "failed", failure)
            return
        read_mode = faults["read_mode"]
        order = ["sent", "delivered", "read"] if read_mode != "never" else ["sent", "delivered"]
        times = [d_sent, d_delivered, d_read][: len(order)]
        if faults["shuffle_statuses"]:
            random.shuffle(times)
        for status, delay in zip(order, times, strict=True):
            if status == "read" and read_mode == "phone_open":
                self.webhooks.emit_call(delay, self.maybe_read, number, customer, conv, record)
            else:
                self.webhooks.emit_call(delay, fire, number, customer, conv, record, status, None)

    def maybe_read(self, number: Number, customer: Customer, conv: Conversation, record: ThreadMessage) -> None:
        if time.time() - conv.phone_seen_at <= PHONE_OPEN_SECONDS:
            self.fire_status(number, customer, conv, record, "read", None)
        else:
            record.read_pending = True

    def fire_status(
        self,
        number: Number,
        customer: Customer,
        conv: Conversation,
        record: ThreadMessage,
        status: str,
        failure: int | None,
    ) -> None:
        if record.status == "failed":
            return
        if STATUS_RANK[status] > STATUS_RANK.get(record.status, 0):
            record.status = status
        if status == "read":
            record.read_pending = False
        if not number.callback_url:
            self.state.stats.webhooks_skipped += 1
            return
        value = payloads.status_value(
            number,
            customer,
            wamid=record.id,
            status=status,
            pricing=record.billing if status in ("sent", "delivered") else None,
            biz_opaque_callback_data=record.biz_opaque_callback_data,
            errors=[payloads.status_error(failure)] if failure else None,
        )
        self.webhooks.emit(number, value)

    # Graph: objects ------------------------------------------------------
    async def get_object(self, request: web.Request) -> web.Response:
        early = await self.graph_prelude()
        if early is not None:
            return early
        object_id = request.match_info["object_id"]
        token = self.bearer(request)
        number = self.state.numbers.get(object_id)
        if number is not None:
            if token != number.access_token:
                return self.auth_error()
            return _json(
                {
                    "id": number.phone_number_id,
                    "display_phone_number": number.display_phone_number,
                    "verified_name": number.verified_name,
                    "quality_rating": "GREEN",
                    "throughput": {"level": "HIGH" if number.throughput_mps > 80 else "STANDARD"},
                    "code_verification_status": "VERIFIED",
                    "platform_type": "CLOUD_API",
                }
            )
        if not self.state.token_known(token):
            return self.auth_error()
        media = self.state.media.get(object_id)
        if media is None:
            return self.unknown_object(object_id, "get")
        return _json(
            {
                "messaging_product": "whatsapp",
                "url": f"{self.base_url(request)}/media-download/{media.id}",
                "mime_type": media.mime_type,
                "sha256": media.sha256,
                "file_size": len(media.data),
                "id": media.id,
            }
        )

    async def list_templates(self, request: web.Request) -> web.Response:
        early = await self.graph_prelude()
        if early is not None:
            return early
        waba_id = request.match_info["waba_id"]
        token = self.bearer(request)
        if not self.state.token_known(token):
            return self.auth_error()
        if not any(n.waba_id == waba_id and n.access_token == token for n in self.state.numbers.values()):
            return self.unknown_object(waba_id, "get")
        templates = self.state.templates_of(waba_id)
        if name := request.query.get("name"):
            templates = [t for t in templates if name in t.name]
        if status := request.query.get("status"):
            templates = [t for t in templates if t.status == status.upper()]
        try:
            limit = max(1, min(1000, int(request.query.get("limit", "25"))))
            start = int(base64.b64decode(request.query["after"]).decode()) + 1 if "after" in request.query else 0
        except (ValueError, UnicodeDecodeError):
            return self.error(400, 100, "(#100) Invalid parameter", "Invalid limit or after cursor.")
        page = templates[start : start + limit]
        end = start + len(page)

        def cursor(i: int) -> str:
            return base64.b64encode(str(i).encode()).decode()

        paging: dict = {"cursors": {"before": cursor(start) if page else "", "after": cursor(end - 1) if page else ""}}
        if end < len(templates):
            url = request.url.with_query({**request.query, "limit": str(limit), "after": cursor(end - 1)})
            paging["next"] = f"{self.base_url(request)}{url.path_qs}"
        if start > 0 and page:
            url = request.url.with_query({"limit": str(limit), "before": cursor(start)})
            paging["previous"] = f"{self.base_url(request)}{url.path_qs}"
        return _json({"data": [t.public() for t in page], "paging": paging})

    async def upload_media(self, request: web.Request) -> web.Response:
        early = await self.graph_prelude()
        if early is not None:
            return early
        pnid = request.match_info["pnid"]
        token = self.bearer(request)
        number = self.state.numbers.get(pnid)
        if number is None:
            return self.unknown_object(pnid) if self.state.token_known(token) else self.auth_error()
        if token != number.access_token:
            return self.auth_error()
        if not request.content_type.startswith("multipart/"):
            return self.error(400, 100, "(#100) Invalid parameter", "Upload media as multipart/form-data.")
        data: bytes | None = None
        mime = filename = None
        declared_type = None
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if part.name == "file":
                data = await part.read()
                filename = part.filename
                mime = part.headers.get("Content-Type")
            elif part.name == "type":
                declared_type = (await part.text()).strip()
            else:
                await part.read()
        if data is None:
            return self.error(400, 100, "(#100) The parameter file is required.", "Missing multipart field 'file'.")
        media = Media(
            id=self.state.new_numeric_id(9),
            data=data,
            mime_type=declared_type or mime or "application/octet-stream",
            filename=filename,
        )
        self.state.media[media.id] = media
        return _json({"id": media.id})

    async def download_media(self, request: web.Request) -> web.Response:
        if not self.state.token_known(self.bearer(request)):
            return self.auth_error()
        media = self.state.media.get(request.match_info["media_id"])
        if media is None:
            return web.Response(status=404, text="Not found")
        return web.Response(body=media.data, content_type=media.mime_type.split(";")[0])

    # control plane ---------------------------------------------------------
    @staticmethod
    async def body_of(request: web.Request) -> dict:
        if not request.can_read_body:
            return {}
        try:
            data = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text='{"error": "invalid JSON"}', content_type="application/json")
        if not isinstance(data, dict):
            raise web.HTTPBadRequest(text='{"error": "expected a JSON object"}', content_type="application/json")
        return data

    @staticmethod
    def bad(message: str, status: int = 400) -> web.Response:
        return _json({"error": message}, status=status)

    async def sim_upsert_number(self, request: web.Request) -> web.Response:
        data = await self.body_of(request)
        missing = [k for k in ("phone_number_id", "waba_id", "access_token", "app_secret") if not data.get(k)]
        if missing and str(data.get("phone_number_id")) not in self.state.numbers:
            return self.bad(f"missing fields: {', '.join(missing)}")
        tp = data.get("throughput_mps")
        if tp is not None and (not isinstance(tp, int | float) or not 1 <= tp <= 1000):
            return self.bad("throughput_mps must be between 1 and 1000")
        number = self.state.upsert_number(data)
        return _json(number.public())

    async def sim_list_numbers(self, request: web.Request) -> web.Response:
        return _json([n.public() for n in self.state.numbers.values()])

    async def sim_upsert_template(self, request: web.Request) -> web.Response:
        data = await self.body_of(request)
        missing = [k for k in ("waba_id", "name", "language") if not data.get(k)]
        if missing:
            return self.bad(f"missing fields: {', '.join(missing)}")
        if str(data.get("status", "APPROVED")).upper() not in ("APPROVED", "PAUSED", "DISABLED", "PENDING", "REJECTED"):
            return self.bad("status must be APPROVED, PAUSED, DISABLED, PENDING or REJECTED")
        if str(data.get("category", "MARKETING")).upper() not in ("MARKETING", "UTILITY", "AUTHENTICATION"):
            return self.bad("category must be MARKETING, UTILITY or AUTHENTICATION")
        template = self.state.upsert_template(data)
        return _json({**template.public(), "waba_id": template.waba_id, "body_params": len(template.param_names)})

    async def sim_list_templates(self, request: web.Request) -> web.Response:
        waba_id = request.query.get("waba_id")
        items = [t for t in self.state.templates.values() if waba_id is None or t.waba_id == waba_id]
        return _json([{**t.public(), "waba_id": t.waba_id} for t in items])

    def customer_json(self, customer: Customer) -> dict:
        now = time.time()
        windows = {}
        for (pnid, wa_id), conv in self.state.conversations.items():
            if wa_id == customer.wa_id and conv.last_inbound_at is not None:
                windows[pnid] = {
                    "last_message_age_seconds": round(now - conv.last_inbound_at, 3),
                    "window_open": conv.window_open(now),
                }
        return {
            "wa_id": customer.wa_id,
            "name": customer.name,
            "not_on_whatsapp": customer.not_on_whatsapp,
            "username_only": customer.username_only,
            "username": customer.username,
            "windows": windows,
        }

    async def sim_configure_customer(self, request: web.Request) -> web.Response:
        wa_id = request.match_info["wa_id"]
        data = await self.body_of(request)
        customer = self.state.customer(wa_id, data.get("name"))
        for key in ("not_on_whatsapp", "username_only"):
            if key in data:
                setattr(customer, key, bool(data[key]))
        if "username" in data:
            customer.username = data["username"] or None
        if customer.username_only and not customer.username:
            customer.username = re.sub(r"\W+", "", customer.name.lower()) or f"user{wa_id[-4:]}"
        if "last_message_age_seconds" in data:
            age = float(data["last_message_age_seconds"])
            pnid = data.get("phone_number_id")
            targets = [pnid] if pnid else [p for (p, w) in self.state.conversations if w == wa_id]
            for p in targets:
                self.state.conversation(str(p), wa_id).last_inbound_at = time.time() - age
        return _json(self.customer_json(customer))

    async def sim_get_customer(self, request: web.Request) -> web.Response:
        customer = self.state.customers.get(request.match_info["wa_id"])
        if customer is None:
            return self.bad("unknown customer", 404)
        return _json(self.customer_json(customer))

    async def sim_customer_send(self, request: web.Request) -> web.Response:
        wa_id = request.match_info["wa_id"]
        data = await self.body_of(request)
        number = self.state.numbers.get(str(data.get("phone_number_id", "")))
        if number is None:
            return self.bad("unknown phone_number_id", 404)
        if not DIGITS_RE.match(wa_id):
            return self.bad("wa_id must be 6-15 digits")
        customer = self.state.customer(wa_id, data.get("name"))
        if customer.not_on_whatsapp:
            return self.bad("this customer is not on WhatsApp", 409)
        conv = self.state.conversation(number.phone_number_id, wa_id)
        try:
            message, text, extra = self.build_inbound(number, customer, conv, data)
        except ValueError as exc:
            return self.bad(str(exc))
        now = time.time()
        conv.last_inbound_at = now
        self.state.user_ids[payloads.bsuid_for(number.waba_id, wa_id)] = wa_id
        record = ThreadMessage(
            id=message["id"],
            direction="out",
            type=message["type"],
            text=text,
            timestamp=message["timestamp"],
            status="delivered",
            extra=extra,
        )
        self.state.add_message(conv, record)
        self.state.stats.inbound_messages += 1
        self.webhooks.emit(number, payloads.inbound_value(number, customer, message))
        return _json({"id": message["id"]})

    def last_business_message(self, conv: Conversation, kinds: tuple[str, ...] = ()) -> ThreadMessage | None:
        for msg in reversed(conv.messages):
            if msg.direction == "in" and (not kinds or msg.type in kinds):
                return msg
        return None

    def build_inbound(self, number: Number, customer: Customer, conv: Conversation, data: dict):
        mtype = data.get("type", "text")
        wamid = payloads.new_wamid(customer.wa_id)
        msg: dict = {}
        if not customer.username_only:
            msg["from"] = customer.wa_id
        msg["from_user_id"] = payloads.bsuid_for(number.waba_id, customer.wa_id)
        msg.update({"id": wamid, "timestamp": payloads.now_ts(), "type": mtype})
        extra: dict = {}
        context_id = data.get("context_id")
        if mtype == "text":
            text = data.get("text")
            if isinstance(text, dict):
                text = text.get("body")
            if not isinstance(text, str) or not text:
                raise ValueError("text is required")
            msg["text"] = {"body": text}
            shown = text
        elif mtype in MEDIA_TYPES:
            content = dict(data.get(mtype) or {})
            media_id = content.get("id") or data.get("media_id")
            if media_id and media_id in self.state.media:
                media = self.state.media[media_id]
            else:
                media = self.fake_media(mtype, data.get("filename"))
            content = {"mime_type": media.mime_type, "sha256": media.sha256, "id": media.id}
            caption = data.get("caption")
            if caption and mtype in ("image", "video", "document"):
                content["caption"] = caption
            if mtype == "document":
                content["filename"] = media.filename or "dokumen.pdf"
            if mtype == "audio":
                content["voice"] = bool(data.get("voice", False))
            if mtype == "sticker":
                content["animated"] = False
            msg[mtype] = content
            shown = caption or {"image": "📷 Foto", "document": "📄 " + (media.filename or "Dokumen")}.get(
                mtype, f"[{mtype}]"
            )
            extra["media_id"] = media.id
        elif mtype == "location":
            keys = ("latitude", "longitude", "name", "address")
            loc = data.get("location") or {k: data[k] for k in keys if k in data}
            if "latitude" not in loc or "longitude" not in loc:
                raise ValueError("latitude and longitude are required")
            loc = {**loc, "latitude": float(loc["latitude"]), "longitude": float(loc["longitude"])}
            msg["location"] = loc
            shown = "📍 " + str(loc.get("name") or f"{loc['latitude']}, {loc['longitude']}")
        elif mtype in ("interactive", "button_reply", "list_reply"):
            itype = data.get("interactive_type") or (mtype if mtype != "interactive" else "button_reply")
            msg["type"] = mtype = "interactive"
            if itype not in ("button_reply", "list_reply"):
                raise ValueError("interactive_type must be button_reply or list_reply")
            reply_id, title = data.get("reply_id"), data.get("title")
            if not reply_id or not title:
                raise ValueError("reply_id and title are required")
            reply = {"id": reply_id, "title": title}
            if itype == "list_reply":
                reply["description"] = data.get("description", "")
            msg["interactive"] = {"type": itype, itype: reply}
            if not context_id:
                last = self.last_business_message(conv, ("interactive",))
                if last is None:
                    raise ValueError("no business interactive message to reply to; pass context_id")
                context_id = last.id
            shown = title
            extra["reply_id"] = reply_id
        elif mtype == "button":
            text = data.get("text") or data.get("title")
            if not text:
                raise ValueError("text is required")
            msg["button"] = {"payload": data.get("payload") or text, "text": text}
            if not context_id:
                last = self.last_business_message(conv, ("template",))
                if last is None:
                    raise ValueError("no business template message to reply to; pass context_id")
                context_id = last.id
            shown = text
            extra["reply_id"] = msg["button"]["payload"]
        elif mtype == "reaction":
            target = data.get("message_id") or getattr(self.last_business_message(conv), "id", None)
            if not target:
                raise ValueError("message_id is required")
            msg["reaction"] = {"message_id": target, "emoji": data.get("emoji", "👍")}
            shown = msg["reaction"]["emoji"]
            extra["reaction_to"] = target
        else:
            raise ValueError(f"unsupported type {mtype!r}")
        if context_id:
            msg["context"] = {"from": number.display_phone_number, "id": context_id}
            extra["context_id"] = context_id
        return msg, shown, extra

    def fake_media(self, mtype: str, filename: str | None) -> Media:
        if mtype == "image":
            data, mime = payloads.tiny_png(), "image/png"
        elif mtype == "document":
            data, mime = payloads.tiny_pdf(), "application/pdf"
            filename = filename or "katalog.pdf"
        elif mtype == "audio":
            data, mime = b"OggS" + os.urandom(60), "audio/ogg; codecs=opus"
        elif mtype == "video":
            data, mime = b"\x00\x00\x00\x18ftypmp42" + os.urandom(60), "video/mp4"
        else:
            data, mime = b"RIFF" + os.urandom(60), "image/webp"
        media = Media(id=self.state.new_numeric_id(8), data=data, mime_type=mime, filename=filename)
        self.state.media[media.id] = media
        return media

    async def sim_thread(self, request: web.Request) -> web.Response:
        wa_id = request.match_info["wa_id"]
        pnid = request.query.get("phone_number_id")
        if pnid is None:
            candidates = [p for (p, w) in self.state.conversations if w == wa_id]
            if len(candidates) > 1:
                return self.bad("several numbers talk to this customer; pass phone_number_id")
            pnid = candidates[0] if candidates else None
        conv = self.state.conversations.get((pnid, wa_id)) if pnid else None
        if conv is None:
            return _json([])
        if request.query.get("viewer") == "phone":
            conv.phone_seen_at = time.time()
            number = self.state.numbers.get(conv.phone_number_id)
            customer = self.state.customers.get(wa_id)
            if number is not None and customer is not None:
                for msg in conv.messages:
                    if msg.read_pending and msg.direction == "in":
                        self.fire_status(number, customer, conv, msg, "read", None)
        return _json([m.public() for m in conv.messages])

    async def sim_get_faults(self, request: web.Request) -> web.Response:
        return _json(self.state.faults)

    async def sim_set_faults(self, request: web.Request) -> web.Response:
        data = await self.body_of(request)
        try:
            faults = self.state.update_faults(data)
        except KeyError as exc:
            return self.bad(f"unknown fault knob {exc.args[0]!r}; known: {', '.join(sorted(self.state.faults))}")
        except (TypeError, ValueError) as exc:
            return self.bad(str(exc))
        if faults["read_mode"] not in ("always", "phone_open", "never"):
            faults["read_mode"] = "always"
            return self.bad("read_mode must be always, phone_open or never")
        if faults["window_error_mode"] not in ("sync", "webhook"):
            faults["window_error_mode"] = "sync"
            return self.bad("window_error_mode must be sync or webhook")
        return _json(faults)

    async def sim_stats(self, request: web.Request) -> web.Response:
        return _json(self.state.stats_json())

    async def sim_reset(self, request: web.Request) -> web.Response:
        data = await self.body_of(request)
        numbers = list(self.state.numbers.values()) if data.get("keep_numbers") else []
        templates = list(self.state.templates.values()) if data.get("keep_templates") else []
        self.state.reset()
        for n in numbers:
            self.state.upsert_number(n.public() | {"access_token": n.access_token, "app_secret": n.app_secret})
        for t in templates:
            self.state.templates[(t.waba_id, t.name, t.language)] = t
        return _json({"ok": True})

    async def phone_page(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "phone.html", headers={"Cache-Control": "no-cache"})

    async def healthz(self, request: web.Request) -> web.Response:
        return _json({"ok": True})


def create_app(config: SimConfig | None = None) -> web.Application:
    sim = Simulator(config or SimConfig())
    app = web.Application(client_max_size=100 * 1024 * 1024)
    app[STATE_KEY] = sim.state
    app[SIM_KEY] = sim
    app.on_startup.append(sim.webhooks.start)
    app.on_cleanup.append(sim.webhooks.stop)
    r = app.router
    r.add_get("/", sim.phone_page)
    r.add_get("/healthz", sim.healthz)
    r.add_post("/_sim/numbers", sim.sim_upsert_number)
    r.add_get("/_sim/numbers", sim.sim_list_numbers)
    r.add_post("/_sim/templates", sim.sim_upsert_template)
    r.add_get("/_sim/templates", sim.sim_list_templates)
    r.add_post("/_sim/customers/{wa_id}/messages", sim.sim_customer_send)
    r.add_get("/_sim/customers/{wa_id}/messages", sim.sim_thread)
    r.add_post("/_sim/customers/{wa_id}", sim.sim_configure_customer)
    r.add_get("/_sim/customers/{wa_id}", sim.sim_get_customer)
    r.add_post("/_sim/faults", sim.sim_set_faults)
    r.add_get("/_sim/faults", sim.sim_get_faults)
    r.add_get("/_sim/stats", sim.sim_stats)
    r.add_post("/_sim/reset", sim.sim_reset)
    r.add_get("/media-download/{media_id}", sim.download_media)
    r.add_post(f"/{VERSION}/{{pnid}}/messages", sim.post_messages)
    r.add_post(f"/{VERSION}/{{pnid}}/media", sim.upload_media)
    r.add_get(f"/{VERSION}/{{waba_id}}/message_templates", sim.list_templates)
    r.add_get(f"/{VERSION}/{{object_id}}", sim.get_object)
    return app
