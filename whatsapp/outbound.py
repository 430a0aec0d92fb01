"""The one way out for every message: window and opt-out rules, rate limit, Graph call, retries, reasons."""

import logging
import random
import uuid
from collections.abc import Callable
from datetime import timedelta

import filetype
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from billing import access, metering, wallet
from config import metrics
from config.redis import redis_client
from config.sql import insert
from tenants.models import Shop
from tenants.services.errors import ServiceError
from whatsapp.channel.failures import record_failure
from whatsapp.channel.models import WhatsAppAccount

from . import graph, live, rate_limit
from .errors import meaning
from .inbound import record_sent
from .models import Conversation, Message, MessageTemplate

logger = logging.getLogger(__name__)

SERVICE_WINDOW = timedelta(hours=24)
MAX_ATTEMPTS = 8


class SendRefused(ServiceError):
    pass


def window_open(last_inbound_at, now=None) -> bool:
    """Whether free-form messages may go: the customer wrote (`last_inbound_at`) less than 24 hours ago."""
    now = now or timezone.now()
    return last_inbound_at is not None and now - last_inbound_at < SERVICE_WINDOW


def window_expires_at(last_inbound_at):
    return last_inbound_at + SERVICE_WINDOW if last_inbound_at else None


def _require_window(contact) -> None:
    """Free-form messages (text, files) only inside the window; outside it, Meta would refuse them (131047)."""
    if not window_open(contact.last_inbound_at):
        raise SendRefused(_("More than 24 hours since the customer wrote: use a template."), code="window_closed")


def _recipient(contact) -> dict:
    if contact.wa_id:
        return {"to": contact.wa_id}
    if contact.business_user_id:
        return {"recipient": contact.business_user_id}
    raise SendRefused(_("This contact has no WhatsApp number."), code="no_recipient")


def send_text(
    conversation: Conversation,
    text: str,
    *,
    author_id: int | None = None,
    automated: bool = False,
    buttons: list[str] | None = None,
    list_menu: dict | None = None,
    dispatch: bool = True,
    read_only: Callable[[], str | None] | None = None,
) -> Message:
    """Queues a free-form message (plain, with reply buttons or a list menu); only inside the 24-hour window.

    `dispatch=False` leaves the sending to the caller (processing delivers auto-replies at once); `read_only`
    answers `read_only_reason()` for it (processing asks once for a batch).
    """
    text = text.strip()
    if not text:
        raise SendRefused(_("Type a message first."), field="text")
    contact = conversation.contact
    _require_window(contact)
    body = {"messaging_product": "whatsapp", "recipient_type": "individual", **_recipient(contact)}
    if list_menu and list_menu.get("rows"):
        rows = [{"id": f"r{n}", "title": title[:24]} for n, title in enumerate(list_menu["rows"][:10], 1)]
        body |= {
            "type": "interactive",
            "interactive": {
                "type": "list",
                "body": {"text": text},
                "action": {
                    "button": (list_menu.get("button") or "Menu")[:20],
                    "sections": [{"title": "Menu", "rows": rows}],
                },
            },
        }
    elif buttons:
        body |= {
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": text},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": f"b{n}", "title": title[:20]}}
                        for n, title in enumerate(buttons[:3], 1)
                    ]
                },
            },
        }
    else:
        body |= {"type": "text", "text": {"preview_url": False, "body": text}}
    return _queue(
        conversation, body, text=text, kind=body["type"], author_id=author_id, automated=automated, dispatch=dispatch,
        read_only=read_only,
    )  # fmt: skip


# What WhatsApp accepts, by the message type it becomes (sizes from Meta's media limits).
ATTACHMENT_TYPES = {
    "image/jpeg": ("image", 5), "image/png": ("image", 5),
    "application/pdf": ("document", 100), "text/plain": ("document", 100),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("document", 100),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("document", 100),
    "video/mp4": ("video", 16), "audio/mpeg": ("audio", 16), "audio/ogg": ("audio", 16),
}  # fmt: skip
MAX_ATTACHMENT_BYTES = max(mb for _kind, mb in ATTACHMENT_TYPES.values()) * 1024 * 1024


def attachment_type(content: bytes, claimed: str) -> str | None:
    """The file's type read from its content (magic bytes), whatever its name or the browser claims.

    Plain text has no signature: it passes as text only if claimed so and it decodes as UTF-8 without NULs.
    """
    found = filetype.guess(content)
    if found is not None:
        return found.mime
    if claimed == "text/plain" and b"\x00" not in content:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return "text/plain"
    return None


def send_attachment(conversation: Conversation, *, filename: str, content: bytes, mime_type: str, caption: str = "",
                    author_id: int | None = None) -> Message:  # fmt: skip
    """Uploads a photo or document to WhatsApp and queues it (inside the 24-hour window only).

    `mime_type` is what the browser claimed; the file is sent as what its content is."""
    mime_type = attachment_type(content, mime_type) or ""
    kind, max_mb = ATTACHMENT_TYPES.get(mime_type, (None, 0))
    if kind is None:
        raise SendRefused(_("WhatsApp cannot send this kind of file; use a photo (JPEG, PNG) or a PDF."), field="file")
    if len(content) > max_mb * 1024 * 1024:
        raise SendRefused(_("This file is larger than WhatsApp allows (%(mb)d MB).") % {"mb": max_mb}, field="file")
    contact = conversation.contact
    _require_window(contact)
    account = shop_account()
    if account is None:
        raise SendRefused(_("WhatsApp is not connected: connect it in Settings."), code="not_connected")
    try:
        media_id = graph.upload_media(account.phone_number_id, account.access_token, filename, content, mime_type)
    except graph.GraphError as error:
        raise SendRefused(error.reason, code="upload_failed") from error
    media = {"id": media_id, **({"caption": caption[:1024]} if caption and kind != "audio" else {})}
    if kind == "document":
        media["filename"] = filename[:240]
    body = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        **_recipient(contact),
        "type": kind,
        kind: media,
    }
    message = _queue(conversation, body, text=caption or filename, kind=kind, author_id=author_id, automated=False)
    Message.objects.filter(pk=message.pk).update(media_id=media_id)
    message.media_id = media_id
    return message


def send_template(
    conversation: Conversation, template: MessageTemplate, parameters: list[str], *, author_id: int | None = None
) -> Message:
    """Queues a template message; allowed outside the window, never as marketing to someone who opted out."""
    contact = conversation.contact
    if template.category.lower() == "marketing" and contact.marketing_opt_out:
        raise SendRefused(_("This customer stopped marketing messages."), code="opted_out")
    if len(parameters) != template.parameter_count:
        raise SendRefused(
            _("This template needs %(count)d value(s).") % {"count": template.parameter_count}, field="parameters"
        )
    components = (
        [{"type": "body", "parameters": [{"type": "text", "text": value} for value in parameters]}]
        if parameters
        else []
    )
    body = {
        "messaging_product": "whatsapp",
        **_recipient(contact),
        "type": "template",
        "template": {"name": template.name, "language": {"code": template.language}, "components": components},
    }
    text = template.body_text
    for number, value in enumerate(parameters, 1):
        text = text.replace(f"{{{{{number}}}}}", value)
    with transaction.atomic():
        message = _queue(conversation, body, text=text, kind="template", author_id=author_id, automated=False)
        try:
            metering.hold_for_send(
                _hold(message),
                recipient=contact.wa_id,
                category=template.category,
                inside_window=window_open(contact.last_inbound_at),
            )
        except wallet.SpendRefused as refusal:
            raise SendRefused(refusal.message, code=refusal.code) from refusal
    return message


def _hold(message: Message) -> str:
    """The reference of the balance a paid message holds until Meta prices it."""
    return f"msg:{message.pk}"


def read_only_reason() -> str | None:
    """Why the current shop may not send now (billing), if it may not."""
    return access.read_only_reason(connection.tenant) if isinstance(connection.tenant, Shop) else None


def _queue(conversation, body, *, text, kind, author_id, automated, dispatch=True, read_only=None) -> Message:
    blocked = (read_only or read_only_reason)()
    if blocked:
        raise SendRefused(blocked, code="read_only")
    now = timezone.now()
    message = Message(
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        type=kind,
        text=text,
        payload=body,
        status=Message.Status.PENDING,
        automated=automated,
        author_id=author_id,
        idempotency_key=uuid.uuid4().hex,
        created_at=now,
    )
    listed = (
        f"UPDATE {Conversation._meta.db_table} SET last_message_at = %s, last_message_preview = %s WHERE id = %s",
        [now, text[:200], conversation.pk],
    )
    insert(message, then=[listed])  # plain SQL, one statement: every auto-reply comes here
    if dispatch:
        transaction.on_commit(lambda: _dispatch(message.pk))
    transaction.on_commit(
        lambda: live.publish("message.created", {"conversation_id": conversation.pk, "message_id": message.pk})
    )
    return message


def _dispatch(message_id: int) -> None:
    from .tasks import deliver_message

    try:
        deliver_message.apply_async((message_id,), queue="interactive")
    except Exception:
        logger.warning("could not queue message %s", message_id)


def shop_account() -> WhatsAppAccount | None:
    return WhatsAppAccount.objects.filter(shop__schema_name=connection.schema_name).first()


class RetryLater(Exception):
    def __init__(self, reason: str, countdown: float):
        super().__init__(reason)
        self.countdown = countdown


def deliver(
    message_id: int, attempt: int = 0, *, message: Message | None = None, account: WhatsAppAccount | None = None
) -> Message:
    """Sends a pending message once. Raises RetryLater for transient failures; records permanent ones.

    Processing hands over the reply it has just made and the account it read once for its batch (`message`,
    `account`); the state that matters is read again under the sending lock either way.
    """
    if message is None:
        message = Message.objects.get(pk=message_id)
    if message.status != Message.Status.PENDING or message.wamid:
        return message  # already sent (a redelivered task) or already failed
    account = account or shop_account()
    if account is None:
        return _fail(message, None, _("WhatsApp is not connected: connect it in Settings."))
    # One sender per message at a time: the sweeper and a retry may both hold its id.
    lock = redis_client().lock(f"warung:sending:{connection.schema_name}:{message.pk}", timeout=60, blocking=False)
    if not lock.acquire():
        return message
    try:
        return _send(message, account, attempt)
    finally:
        lock.release()


def _send(message: Message, account: WhatsAppAccount, attempt: int) -> Message:
    with connection.cursor() as cursor:  # the hot path of every reply: one plain statement
        cursor.execute(f"SELECT status, wamid FROM {Message._meta.db_table} WHERE id = %s", [message.pk])
        message.status, message.wamid = cursor.fetchone()
    if message.status != Message.Status.PENDING or message.wamid:
        return message
    rate_limit.acquire(account.phone_number_id, settings.WHATSAPP_DEFAULT_MPS)
    try:
        wamid = graph.send_message(account.phone_number_id, account.access_token, message.payload)
    except graph.GraphError as error:
        what = meaning(error.code, error.http_status, error.message)
        unreachable = error.code is None and error.http_status is None
        if (what.retry or unreachable) and attempt + 1 < MAX_ATTEMPTS:
            metrics.sent("retry", "direct")
            # Exponential backoff with full jitter, so retries of many messages do not arrive together.
            raise RetryLater(str(what.reason), countdown=random.uniform(0.2, min(30, 0.5 * 2**attempt))) from error
        if error.code == 190:
            WhatsAppAccount.objects.filter(pk=account.pk).update(
                status=WhatsAppAccount.Status.ERROR, last_error_code=190, last_error_reason=str(what.reason)
            )
        metrics.sent("failed", "direct")
        return _fail(message, error.code, what.reason)
    metrics.sent("sent", "direct")
    if not record_sent(message, wamid, timezone.now()):
        message.refresh_from_db()
    else:
        if message.type == "template":
            wallet.attach_wamid(connection.tenant.pk, _hold(message), wamid)
        live.publish(
            "message.updated",
            {"conversation_id": message.conversation_id, "message_id": message.pk, "status": message.status},
        )
    return message


def _fail(message: Message, code: int | None, reason) -> Message:
    with override(_shop_language()):
        text = str(reason)
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.FAILED, error_code=code, error_reason=text[:300], status_changed_at=timezone.now()
    )
    record_failure(message.pk, code, text)
    if message.type == "template":
        wallet.release(connection.tenant.pk, reference=_hold(message))
    message.refresh_from_db()
    live.publish(
        "message.updated", {"conversation_id": message.conversation_id, "message_id": message.pk, "status": "failed"}
    )
    return message


def _shop_language() -> str:
    tenant = getattr(connection, "tenant", None)
    return getattr(tenant, "locale", None) or settings.LANGUAGE_CODE
