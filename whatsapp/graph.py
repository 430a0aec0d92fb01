"""A thin client of the WhatsApp Cloud API (Graph API) with a configurable base URL.

One pooled HTTP client per process serves every shop: the token travels per request.
"""

from dataclasses import dataclass
from functools import cache

import httpx
from django.conf import settings

from .errors import meaning


@dataclass
class GraphError(Exception):
    code: int | None
    message: str
    http_status: int | None
    details: str = ""

    def __str__(self) -> str:
        return f"Graph API error {self.code} (HTTP {self.http_status}): {self.message}"

    @property
    def reason(self) -> str:
        """What the failure means for the shop, in plain words and the active language."""
        return str(meaning(self.code, self.http_status, self.message).reason)


@cache
def _client() -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(10.0, connect=3.0),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )


def _url(path: str) -> str:
    return f"{settings.WHATSAPP_GRAPH_BASE_URL.rstrip('/')}/{settings.WHATSAPP_GRAPH_VERSION}/{path.lstrip('/')}"


def _call(method: str, path: str, token: str, **kwargs) -> dict:
    try:
        response = _client().request(method, _url(path), headers={"Authorization": f"Bearer {token}"}, **kwargs)
    except httpx.HTTPError as exc:
        raise GraphError(None, f"WhatsApp could not be reached ({exc.__class__.__name__}).", None) from exc
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code >= 400 or "error" in body:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        raise GraphError(
            error.get("code"),
            error.get("message", response.reason_phrase),
            response.status_code,
            (error.get("error_data") or {}).get("details", ""),
        )
    return body


def send_message(phone_number_id: str, token: str, body: dict) -> str:
    """Returns the accepted message's wamid; delivery is reported later by status webhooks."""
    result = _call("POST", f"{phone_number_id}/messages", token, json=body)
    return result["messages"][0]["id"]


def mark_read(phone_number_id: str, token: str, wamid: str) -> None:
    _call(
        "POST",
        f"{phone_number_id}/messages",
        token,
        json={"messaging_product": "whatsapp", "status": "read", "message_id": wamid},
    )


def phone_number_info(phone_number_id: str, token: str) -> dict:
    return _call("GET", phone_number_id, token)


def message_templates(waba_id: str, token: str) -> list[dict]:
    templates, after = [], None
    while True:
        page = _call(
            "GET",
            f"{waba_id}/message_templates",
            token,
            params={"limit": 100, "after": after} if after else {"limit": 100},
        )
        templates.extend(page.get("data", []))
        after = (page.get("paging") or {}).get("cursors", {}).get("after")
        if not after or not (page.get("paging") or {}).get("next"):
            return templates


def upload_media(phone_number_id: str, token: str, filename: str, content: bytes, mime_type: str) -> str:
    """Uploads a file for sending; returns WhatsApp's media id."""
    result = _call(
        "POST",
        f"{phone_number_id}/media",
        token,
        data={"messaging_product": "whatsapp", "type": mime_type},
        files={"file": (filename, content, mime_type)},
    )
    return result["id"]


def media_url(media_id: str, token: str) -> dict:
    return _call("GET", media_id, token)


def download(url: str, token: str) -> bytes:
    response = _client().get(url, headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    return response.content
