"""In-memory state of the simulator: numbers, templates, customers, threads, media, limiters, faults, stats."""

from __future__ import annotations

import copy
import hashlib
import itertools
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field

WINDOW_SECONDS = 24 * 60 * 60
PLACEHOLDER_RE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")

DEFAULT_FAULTS: dict = {
    "duplicate_rate": 0.0,  # probability that a webhook POST is delivered more than once
    "duplicate_count": 1,  # extra copies when duplicating
    "shuffle_statuses": False,  # deliver sent/delivered/read in a random order
    "graph_5xx_rate": 0.0,  # fraction of Graph requests answered 500/503
    "graph_latency_ms": 0,  # added to every Graph request
    "status_delays_ms": {"sent": 50, "delivered": 150, "read": 1500},
    "read_mode": "always",  # "always" | "phone_open" (only while the phone page polls) | "never"
    "window_error_mode": "sync",  # 131047 as a synchronous error ("sync") or a failed status ("webhook")
    "enforce_window": True,
    "throughput_burst_seconds": 1.0,  # token bucket capacity = throughput_mps * this (a burst of 1 s by default)
    "webhook_batch_size": 1,  # >1 puts up to this many changes into one POST
    "webhook_max_attempts": 4,
    "webhook_retry_base_ms": 500,  # backoff: base, 2*base, 4*base ...
    "webhook_timeout_s": 10.0,
}


@dataclass
class Number:
    phone_number_id: str
    waba_id: str
    display_phone_number: str
    verified_name: str
    access_token: str
    app_secret: str
    callback_url: str | None
    throughput_mps: float = 80.0
    # token bucket
    tokens: float = 0.0
    last_refill: float = 0.0
    # per-second accounting
    current_second: int = 0
    current_count: int = 0
    max_per_second: int = 0

    def public(self) -> dict:
        return {
            "phone_number_id": self.phone_number_id,
            "waba_id": self.waba_id,
            "display_phone_number": self.display_phone_number,
            "verified_name": self.verified_name,
            "callback_url": self.callback_url,
            "throughput_mps": self.throughput_mps,
        }

    def take_token(self, now: float, burst_seconds: float = 1.0) -> bool:
        rate = self.throughput_mps
        capacity = max(1.0, rate * burst_seconds)
        tokens = self.tokens + (now - self.last_refill) * rate
        self.last_refill = now
        if tokens > capacity:
            tokens = capacity
        if tokens >= 1.0:
            self.tokens = tokens - 1.0
            return True
        self.tokens = tokens
        return False

    def count_accepted(self, now: float) -> None:
        sec = int(now)
        if sec != self.current_second:
            self.current_second = sec
            self.current_count = 0
        self.current_count += 1
        if self.current_count > self.max_per_second:
            self.max_per_second = self.current_count


@dataclass
class Template:
    id: str
    waba_id: str
    name: str
    language: str
    category: str
    status: str
    body_text: str
    buttons: list[str] = field(default_factory=list)

    @property
    def param_names(self) -> list[str]:
        seen: list[str] = []
        for name in PLACEHOLDER_RE.findall(self.body_text):
            if name not in seen:
                seen.append(name)
        return seen

    def public(self) -> dict:
        components: list[dict] = [{"type": "BODY", "text": self.body_text}]
        if self.buttons:
            components.append(
                {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": text} for text in self.buttons]}
            )
        return {
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "components": components,
        }


@dataclass
class Customer:
    wa_id: str
    name: str = "Pelanggan"
    not_on_whatsapp: bool = False
    username_only: bool = False
    username: str | None = None


@dataclass
class ThreadMessage:
    id: str
    direction: str  # customer's point of view: "out" = customer sent, "in" = business sent
    type: str
    text: str
    timestamp: str
    status: str
    extra: dict = field(default_factory=dict)
    # business messages only
    billing: dict | None = None
    biz_opaque_callback_data: str | None = None
    read_pending: bool = False

    def public(self) -> dict:
        out = {
            "id": self.id,
            "direction": self.direction,
            "type": self.type,
            "text": self.text,
            "timestamp": self.timestamp,
            "status": self.status,
        }
        out.update(self.extra)
        return out


@dataclass
class Conversation:
    phone_number_id: str
    wa_id: str
    last_inbound_at: float | None = None
    messages: list[ThreadMessage] = field(default_factory=list)
    phone_seen_at: float = 0.0

    def window_open(self, now: float) -> bool:
        return self.last_inbound_at is not None and now - self.last_inbound_at < WINDOW_SECONDS


@dataclass
class Media:
    id: str
    data: bytes
    mime_type: str
    filename: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class Stats:
    def __init__(self) -> None:
        self.graph_requests = 0
        self.accepted: dict[str, int] = defaultdict(int)
        self.rate_limited: dict[str, int] = defaultdict(int)
        self.errors_by_code: dict[int, int] = defaultdict(int)
        self.injected_5xx = 0
        self.inbound_messages = 0
        self.webhooks_sent = 0
        self.webhooks_failed = 0
        self.webhook_attempts = 0
        self.webhook_retries = 0
        self.webhook_failures: dict[str, int] = defaultdict(int)  # why attempts failed: "timeout", "HTTP 500", ...
        self.webhooks_duplicated = 0
        self.webhooks_skipped = 0
        self.started_at = time.time()


class SimState:
    def __init__(self, faults: dict | None = None) -> None:
        self.base_faults = copy.deepcopy(faults or DEFAULT_FAULTS)
        self.reset()

    def reset(self) -> None:
        self.generation = getattr(self, "generation", 0) + 1
        self.numbers: dict[str, Number] = {}
        self.tokens: dict[str, str] = {}  # access token -> phone_number_id (last registered)
        self.templates: dict[tuple[str, str, str], Template] = {}
        self.customers: dict[str, Customer] = {}
        self.user_ids: dict[str, str] = {}  # bsuid -> wa_id
        self.conversations: dict[tuple[str, str], Conversation] = {}
        self.message_index: dict[str, tuple[Conversation, ThreadMessage]] = {}
        self.media: dict[str, Media] = {}
        self.faults = copy.deepcopy(self.base_faults)
        self.stats = Stats()
        self._ids = itertools.count(1)

    def new_numeric_id(self, prefix: int) -> str:
        return str(prefix * 10**12 + next(self._ids))

    # numbers -------------------------------------------------------------
    def upsert_number(self, data: dict) -> Number:
        pnid = str(data["phone_number_id"])
        existing = self.numbers.get(pnid)
        mps = float(data.get("throughput_mps", existing.throughput_mps if existing else 80))
        mps = max(1.0, min(1000.0, mps))

        def pick(key: str, default=None):
            if key in data:
                return data[key]
            return getattr(existing, key) if existing else default

        number = Number(
            phone_number_id=pnid,
            waba_id=str(pick("waba_id", "")),
            display_phone_number=str(pick("display_phone_number", pnid)),
            verified_name=str(pick("verified_name", "Warung")),
            access_token=str(pick("access_token", "")),
            app_secret=str(pick("app_secret", "")),
            callback_url=pick("callback_url") or None,
            throughput_mps=mps,
            tokens=mps,
            last_refill=time.monotonic(),
        )
        if existing:
            number.max_per_second = existing.max_per_second
        self.numbers[pnid] = number
        self.tokens = {n.access_token: n.phone_number_id for n in self.numbers.values() if n.access_token}
        return number

    def token_known(self, token: str | None) -> bool:
        return bool(token) and token in self.tokens

    # templates -----------------------------------------------------------
    def upsert_template(self, data: dict) -> Template:
        key = (str(data["waba_id"]), str(data["name"]), str(data.get("language", "id")))
        existing = self.templates.get(key)
        template = Template(
            id=existing.id if existing else self.new_numeric_id(7),
            waba_id=key[0],
            name=key[1],
            language=key[2],
            category=str(data.get("category", existing.category if existing else "MARKETING")).upper(),
            status=str(data.get("status", existing.status if existing else "APPROVED")).upper(),
            body_text=str(data.get("body_text", existing.body_text if existing else "")),
            buttons=[str(b) for b in data.get("buttons", existing.buttons if existing else [])],
        )
        self.templates[key] = template
        return template

    def templates_of(self, waba_id: str) -> list[Template]:
        return sorted((t for t in self.templates.values() if t.waba_id == waba_id), key=lambda t: (t.name, t.language))

    # customers -----------------------------------------------------------
    def customer(self, wa_id: str, name: str | None = None) -> Customer:
        customer = self.customers.get(wa_id)
        if customer is None:
            customer = Customer(wa_id=wa_id, not_on_whatsapp=wa_id.startswith("62899"))
            self.customers[wa_id] = customer
        if name:
            customer.name = name
        return customer

    def conversation(self, phone_number_id: str, wa_id: str) -> Conversation:
        key = (phone_number_id, wa_id)
        conv = self.conversations.get(key)
        if conv is None:
            conv = Conversation(phone_number_id=phone_number_id, wa_id=wa_id)
            self.conversations[key] = conv
        return conv

    def add_message(self, conv: Conversation, msg: ThreadMessage) -> None:
        conv.messages.append(msg)
        if len(conv.messages) > 2000:  # keep long benchmark threads bounded
            dropped = conv.messages[:500]
            del conv.messages[:500]
            for old in dropped:
                self.message_index.pop(old.id, None)
        self.message_index[msg.id] = (conv, msg)

    # faults --------------------------------------------------------------
    def update_faults(self, data: dict) -> dict:
        for key, value in data.items():
            if key not in self.faults:
                raise KeyError(key)
            if key == "status_delays_ms":
                self.faults[key] = {**self.faults[key], **{k: float(v) for k, v in value.items()}}
            else:
                self.faults[key] = type(self.faults[key])(value) if self.faults[key] is not None else value
        return self.faults

    def stats_json(self) -> dict:
        s = self.stats
        return {
            "graph_requests": s.graph_requests,
            "messages_accepted": dict(s.accepted),
            "messages_accepted_total": sum(s.accepted.values()),
            "rate_limited": sum(s.rate_limited.values()),
            "rate_limited_by_number": dict(s.rate_limited),
            "errors_by_code": {str(k): v for k, v in s.errors_by_code.items()},
            "injected_5xx": s.injected_5xx,
            "inbound_messages": s.inbound_messages,
            "webhooks_sent": s.webhooks_sent,
            "webhooks_failed": s.webhooks_failed,
            "webhook_attempts": s.webhook_attempts,
            "webhook_retries": s.webhook_retries,
            "webhook_failures": dict(s.webhook_failures),
            "webhooks_duplicated": s.webhooks_duplicated,
            "webhooks_skipped": s.webhooks_skipped,
            "max_accepted_per_second": {pnid: n.max_per_second for pnid, n in self.numbers.items()},
            "uptime_seconds": round(time.time() - s.started_at, 3),
        }
