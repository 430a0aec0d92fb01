"""Builders for the JSON the simulator emits: webhook envelopes, statuses, inbound messages, Graph errors.

Shapes follow /work/shared/design/whatsapp-cloud-api.md. Webhook bodies are serialised like Meta's:
ASCII-escaped JSON without spaces, and the signature covers exactly those bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import os
import time

_counter = itertools.count(1)
_PROCESS_SALT = os.urandom(4).hex()

# Country calling code -> ISO country, for business-scoped user ids ("ID.1502576394655843").
_CC_PREFIXES = (
    ("62", "ID"),
    ("60", "MY"),
    ("65", "SG"),
    ("66", "TH"),
    ("63", "PH"),
    ("84", "VN"),
    ("91", "IN"),
    ("55", "BR"),
    ("44", "GB"),
    ("49", "DE"),
    ("1", "US"),
)


def now_ts() -> str:
    return str(int(time.time()))


def new_wamid(seed: str = "") -> str:
    raw = f"{seed}{_PROCESS_SALT}{next(_counter):012d}{os.urandom(6).hex()}".encode()
    return "wamid.HBgM" + base64.b64encode(raw).decode()


def fbtrace_id() -> str:
    return "A" + base64.b64encode(os.urandom(15)).decode().replace("+", "_").replace("/", "-")


def bsuid_for(waba_id: str, wa_id: str) -> str:
    """A stable business-scoped user id: country prefix + digits derived from (WABA, phone)."""
    country = next((cc for prefix, cc in _CC_PREFIXES if wa_id.startswith(prefix)), "ID")
    digest = hashlib.sha256(f"{waba_id}:{wa_id}".encode()).digest()
    return f"{country}.{10**15 + int.from_bytes(digest[:8], 'big') % (9 * 10**15)}"


def serialise(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def sign(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def graph_error(code: int, message: str, details: str | None = None, *, type_: str = "OAuthException") -> dict:
    err: dict = {"message": message, "type": type_, "code": code}
    err["error_data"] = {"messaging_product": "whatsapp", "details": details or message}
    err["fbtrace_id"] = fbtrace_id()
    return {"error": err}


def metadata(number) -> dict:
    return {"display_phone_number": number.display_phone_number, "phone_number_id": number.phone_number_id}


def change(number, value_extra: dict) -> dict:
    """One `changes[]` item for a number: `value` carries messaging_product + metadata + the rest."""
    value = {"messaging_product": "whatsapp", "metadata": metadata(number)}
    value.update(value_extra)
    return {"value": value, "field": "messages"}


def envelope(waba_id: str, changes: list[dict]) -> dict:
    return {"object": "whatsapp_business_account", "entry": [{"id": waba_id, "changes": changes}]}


def contact_for(customer, waba_id: str, *, with_profile: bool = True) -> dict:
    contact: dict = {}
    if with_profile:
        profile: dict = {"name": customer.name}
        if customer.username_only and customer.username:
            profile["username"] = customer.username
        contact["profile"] = profile
    if not customer.username_only:
        contact["wa_id"] = customer.wa_id
    contact["user_id"] = bsuid_for(waba_id, customer.wa_id)
    return contact


def status_value(
    number,
    customer,
    *,
    wamid: str,
    status: str,
    pricing: dict | None = None,
    biz_opaque_callback_data: str | None = None,
    errors: list[dict] | None = None,
    timestamp: str | None = None,
) -> dict:
    """`value` content for a status webhook (statuses[] plus contacts[], which current SDKs expect)."""
    st: dict = {"id": wamid, "status": status, "timestamp": timestamp or now_ts()}
    on_whatsapp = not customer.not_on_whatsapp
    if not customer.username_only:
        st["recipient_id"] = customer.wa_id
    if on_whatsapp:
        st["recipient_user_id"] = bsuid_for(number.waba_id, customer.wa_id)
    if biz_opaque_callback_data is not None:
        st["biz_opaque_callback_data"] = biz_opaque_callback_data
    if pricing is not None:
        st["pricing"] = pricing
    if errors:
        st["errors"] = errors
    contact = contact_for(customer, number.waba_id, with_profile=False) if on_whatsapp else {"wa_id": customer.wa_id}
    return {"contacts": [contact], "statuses": [st]}


def status_error(code: int) -> dict:
    titles = {
        131026: ("Message undeliverable", "Message Undeliverable."),
        131047: (
            "Re-engagement message",
            "Message failed to send because more than 24 hours have passed since the customer last replied "
            "to this number.",
        ),
        131050: ("Unable to deliver the message", "User has stopped marketing messages from this business."),
    }
    title, details = titles.get(code, ("Unknown error", "Unknown error."))
    return {"code": code, "title": title, "message": title, "error_data": {"details": details}}


def pricing_for(kind: str, category: str | None = None) -> dict:
    if kind == "regular":
        return {"billable": True, "pricing_model": "PMP", "type": "regular", "category": category or "marketing"}
    return {"billable": False, "pricing_model": "PMP", "type": kind, "category": category or "service"}


def inbound_value(number, customer, message: dict) -> dict:
    return {"contacts": [contact_for(customer, number.waba_id)], "messages": [message]}


# Tiny generated media for customer-sent images and documents.
def tiny_png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    width = height = 8
    rows = b"".join(b"\x00" + bytes((37, 211, 102)) * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def tiny_pdf(text: str = "Warung CRM simulator") -> bytes:
    content = f"BT /F1 12 Tf 20 40 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 100] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
