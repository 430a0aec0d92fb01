"""Builders for WhatsApp webhook payloads, shaped and signed as Meta does (see the protocol note)."""

import hashlib
import hmac
import itertools
import json
import time

_ids = itertools.count(1)


def wamid() -> str:
    return f"wamid.TEST{time.time_ns()}{next(_ids)}"


def envelope(phone_number_id: str, value: dict, display: str = "6281100000001") -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA-TEST",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": display, "phone_number_id": phone_number_id},
                            **value,
                        },
                    }
                ],
            }
        ],
    }


def inbound_text(phone_number_id: str, wa_id: str, text: str, *, name: str = "Sari", message_id: str | None = None,
                 timestamp: int | None = None) -> dict:  # fmt: skip
    return envelope(
        phone_number_id,
        {
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": [
                {
                    "from": wa_id,
                    "id": message_id or wamid(),
                    "timestamp": str(timestamp or int(time.time())),
                    "type": "text",
                    "text": {"body": text},
                }
            ],
        },
    )


def status(phone_number_id: str, message_id: str, name: str, recipient: str, *, errors: list | None = None,
           timestamp: int | None = None) -> dict:  # fmt: skip
    item = {
        "id": message_id,
        "status": name,
        "timestamp": str(timestamp or int(time.time())),
        "recipient_id": recipient,
    }
    if errors:
        item["errors"] = errors
    return envelope(phone_number_id, {"statuses": [item]})


def merged(*payloads: dict) -> dict:
    """One POST carrying the entries of several payloads (Meta batches)."""
    return {"object": "whatsapp_business_account", "entry": [e for p in payloads for e in p["entry"]]}


def body_bytes(payload: dict) -> bytes:
    """Meta sends ASCII-escaped JSON (`\\u00e1`), and signs exactly those bytes."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode()


def signature(raw: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def post(client, payload: dict | bytes, secret: str | None, **headers):
    raw = payload if isinstance(payload, bytes) else body_bytes(payload)
    if secret is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature(raw, secret)
    return client.post("/webhooks/whatsapp/", raw, content_type="application/json", **headers)
