"""Processing a stored webhook inside the shop's schema: contacts, messages, statuses. Idempotent."""

import json
import logging
import unicodedata
from datetime import UTC, datetime

from django.db import connection, transaction
from django.utils import timezone

from billing import metering, wallet
from config.sql import fetch, insert_once
from crm.models import Contact
from crm.services.contacts import mark_undeliverable, opt_out_of_marketing, upsert_whatsapp_contact
from whatsapp.broadcasts import consent
from whatsapp.broadcasts import tracking as broadcast_tracking
from whatsapp.channel.failures import record_failure
from whatsapp.channel.models import WebhookIntake

from . import live
from .errors import meaning
from .models import Conversation, Message, StatusEvent

logger = logging.getLogger(__name__)

LOWER_STATUSES = {
    "sent": ["pending", "accepted"],
    "delivered": ["pending", "accepted", "sent"],
    "read": ["pending", "accepted", "sent", "delivered"],
    "failed": ["pending", "accepted", "sent", "delivered"],
}


def from_unix(timestamp: str | int | None) -> datetime:
    try:
        return datetime.fromtimestamp(int(timestamp), tz=UTC)
    except (TypeError, ValueError):
        return timezone.now()


def normalise(text: str) -> str:
    """Case- and accent-insensitive form for matching keywords."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def summary_text(message: dict) -> str:
    kind = message.get("type")
    body = message.get(kind) if isinstance(message.get(kind), dict) else {}
    if kind == "text":
        return body.get("body", "")
    if kind == "interactive":
        reply = body.get("button_reply") or body.get("list_reply") or {}
        return reply.get("title", "")
    if kind == "button":
        return body.get("text", "")
    if kind == "reaction":
        return body.get("emoji", "")
    if kind == "location":
        return body.get("name") or body.get("address") or f"{body.get('latitude')}, {body.get('longitude')}"
    if kind in {"image", "document", "video", "audio", "sticker"}:
        return body.get("caption") or body.get("filename") or ""
    if kind == "contacts":
        return ", ".join((c.get("name") or {}).get("formatted_name", "") for c in message.get("contacts", []))
    if kind == "order":
        return f"{len(body.get('product_items', []))} item(s)"
    return ""


def _my_changes(intake: WebhookIntake):
    """(value, profiles by wa_id and user id, customer messages) of each change for this row's numbers."""
    payload = json.loads(bytes(intake.body))
    mine = set(intake.phone_number_ids)
    for entry in payload.get("entry") or []:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            if str((value.get("metadata") or {}).get("phone_number_id")) not in mine:
                continue  # another shop's number in a mixed batch
            profiles = {}
            for contact in value.get("contacts") or []:
                for key in (contact.get("wa_id"), contact.get("user_id")):
                    if key:
                        profiles[key] = contact
            own_number = (value.get("metadata") or {}).get("display_phone_number")
            # An echo of our own message is never treated as a customer's.
            messages = [m for m in value.get("messages") or [] if not (own_number and m.get("from") == own_number)]
            yield value, profiles, messages


def _identity(message: dict, profiles: dict) -> tuple[str | None, str | None, str]:
    wa_id = message.get("from")
    user_id = message.get("from_user_id")
    profile = profiles.get(wa_id) or profiles.get(user_id) or {}
    return wa_id, user_id or profile.get("user_id"), (profile.get("profile") or {}).get("name", "")


def customers(rows: list[WebhookIntake]) -> dict[tuple, Contact]:
    """The rows' customers, upserted before processing and committed apart (each upsert is one statement).

    A new customer also bumps the shop's daily counters (one row per day); committed here, that row is
    locked for a moment rather than for a whole processing transaction, so concurrent messages from new
    customers do not queue behind each other. Safe to repeat: the upsert finds what it made.
    """
    found = {}
    for intake in rows:
        for _value, profiles, messages in _my_changes(intake):
            for message in messages:
                wa_id, user_id, name = _identity(message, profiles)
                if (wa_id, user_id) not in found:
                    found[(wa_id, user_id)] = upsert_whatsapp_contact(wa_id=wa_id, business_user_id=user_id, name=name)
    return found


def process(rows: list[WebhookIntake], contacts: dict[tuple, Contact] | None = None) -> list[Message]:
    """Applies intake rows: their messages in order, then all their statuses in one batch. Returns the inbound
    messages that are new (for auto-replies).

    `contacts` are the rows' customers from `customers()`; any missing is upserted here.
    """
    new_messages: list[Message] = []
    statuses: list[dict] = []
    words: list[set[str]] = []  # the shop's stop words, read once for the batch if a customer wrote
    for intake in rows:
        for value, profiles, messages in _my_changes(intake):
            for message in messages:
                words = words or [consent.stop_words()]
                created = _inbound(message, profiles, contacts or {}, words[0])
                if created is not None:
                    new_messages.append(created)
            statuses += value.get("statuses") or []
    apply_statuses(statuses)
    return new_messages


def _inbound(message: dict, profiles: dict, contacts: dict[tuple, Contact], stop_words: set[str]) -> Message | None:
    wa_id, user_id, name = _identity(message, profiles)
    contact = contacts.get((wa_id, user_id)) or upsert_whatsapp_contact(
        wa_id=wa_id, business_user_id=user_id, name=name
    )
    conversation = _conversation(contact)
    kind = message.get("type", "unknown")
    body = message.get(kind) if isinstance(message.get(kind), dict) else {}
    sent_at = from_unix(message.get("timestamp"))
    stored = Message(
        conversation=conversation,
        direction=Message.Direction.INBOUND,
        wamid=message.get("id"),
        type=kind,
        text=summary_text(message),
        payload=message,
        status=Message.Status.RECEIVED,
        context_wamid=(message.get("context") or {}).get("id", ""),
        media_id=body.get("id", "") if kind in {"image", "document", "video", "audio", "sticker"} else "",
        created_at=sent_at,
    )
    # With the message, if it is new: the contact's service window (the later of the stored and this message's
    # time: deliveries come out of order) and the conversation's list entry.
    moved = [
        (
            f"UPDATE {Contact._meta.db_table} SET last_inbound_at = GREATEST(COALESCE(last_inbound_at, %s), %s) "
            "WHERE id = %s AND EXISTS (SELECT FROM new)",
            [sent_at, sent_at, contact.pk],
        ),
        (
            f"UPDATE {Conversation._meta.db_table} SET unread_count = unread_count + 1, status = %s, "
            "last_message_at = %s, last_message_preview = %s WHERE id = %s AND EXISTS (SELECT FROM new)",
            [Conversation.Status.OPEN, sent_at, stored.text[:200], conversation.pk],
        ),
    ]
    if not insert_once(stored, "wamid", then=moved):
        return None  # a duplicate delivery: stored once already
    contact.last_inbound_at = max(contact.last_inbound_at or sent_at, sent_at)
    conversation.contact = contact  # as it now is, for the auto-reply
    consent.after_customer_message(contact, stored, getattr(connection.tenant, "locale", None) or "id", stop_words)
    transaction.on_commit(
        lambda: live.publish("message.created", {"conversation_id": conversation.pk, "message_id": stored.pk})
    )
    return stored


def _conversation(contact: Contact) -> Conversation:
    """The contact's one conversation, made on their first message."""
    found = fetch(Conversation, f"SELECT * FROM {Conversation._meta.db_table} WHERE contact_id = %s", [contact.pk])
    conversation = found[0] if found else None
    if conversation is None:
        conversation = Conversation(contact=contact)
        if not insert_once(conversation, "contact_id"):
            conversation = Conversation.objects.get(contact=contact)  # made by another worker a moment ago
    return conversation


def apply_statuses(statuses: list[dict]) -> None:
    """A batch of status dicts (one webhook change, or several webhooks of the shop): each (wamid, status) is
    recorded once, in one statement, and the newly recorded ones move their messages forward (never back),
    all messages in one more statement."""
    rows = {}
    for status in statuses:
        wamid, name = status.get("id"), status.get("status")
        if wamid and name in LOWER_STATUSES:
            rows.setdefault((wamid, name), status)
    if not rows:
        return
    keys = sorted(rows)  # one lock order for every batch: concurrent batches wait, never deadlock
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {StatusEvent._meta.db_table} (wamid, status, occurred_at, payload) "
            "SELECT * FROM unnest(%s::text[], %s::text[], %s::timestamptz[], %s::jsonb[]) "
            "ON CONFLICT (wamid, status) DO NOTHING RETURNING wamid, status",
            [
                [wamid for wamid, _ in keys],
                [name for _, name in keys],
                [from_unix(rows[key].get("timestamp")) for key in keys],
                [json.dumps(_replayable(rows[key])) for key in keys],
            ],
        )
        recorded = [rows[tuple(key)] for key in cursor.fetchall()]
    for status in recorded:
        if status["status"] == "failed":
            _mark_recipient(status)
    move_messages(recorded)
    # Billing: delivered/read statuses carry Meta's price (the ledger dedupes by wamid); a failed send
    # gives back the balance it held.
    holds = broadcast_tracking.apply_statuses(list(rows.values()))
    metering.record_statuses(list(rows.values()), holds=holds)
    failed = [status["id"] for status in recorded if status["status"] == "failed"]
    if failed:
        shop_id = metering.current_terms().shop_id
        for wamid in failed:
            wallet.release(shop_id, wamid=wamid)


REPLAYED_FIELDS = ("id", "status", "timestamp", "recipient_id", "errors")


def _replayable(status: dict) -> dict:
    """What a replay needs of a status (it moves a message, with a failure's reason), not the pricing and
    conversation details: storing every status whole was the largest cost of processing them."""
    return {key: status[key] for key in REPLAYED_FIELDS if key in status}


# Where each status leads when several of one message come together: the furthest wins. A message that
# failed can still have been read (Meta never says so in that order), so read outranks failed.
STATUS_RANK = {"sent": 1, "delivered": 2, "failed": 3, "read": 4}


def _failure(status: dict) -> tuple[int | None, str]:
    """Meta's error code of a failed status and its plain-language reason."""
    error = (status.get("errors") or [{}])[0]
    try:
        code = int(error.get("code"))
    except (TypeError, ValueError):
        code = None
    return code, str(meaning(code, message=error.get("message") or error.get("title") or "").reason)[:300]


def _mark_recipient(status: dict) -> None:
    """What a failure says about the customer: 131050 stopped marketing, 131026 cannot receive WhatsApp."""
    code = _failure(status)[0]
    recipient = status.get("recipient_id")
    if code == 131050 and recipient:
        contact = Contact.objects.filter(wa_id=recipient).first()
        if contact:
            opt_out_of_marketing(contact, "WhatsApp error 131050")
    if code == 131026 and recipient:
        mark_undeliverable(recipient)


def move_messages(statuses: list[dict]) -> None:
    """Moves the messages the statuses are about forward, in one UPDATE; a status never moves one back.

    Several statuses of one message apply as their furthest would alone, which is where applying them one by
    one in any order ends (read-before-delivered ends as read). Each moved message is announced to the live
    inbox; a failed one carries Meta's reason and is copied for the operator.
    """
    furthest: dict[str, dict] = {}
    for status in statuses:
        known = furthest.get(status["id"])
        if known is None or STATUS_RANK[status["status"]] > STATUS_RANK[known["status"]]:
            furthest[status["id"]] = status
    if not furthest:
        return
    wamids = sorted(furthest)
    codes, reasons = [], []
    for wamid in wamids:
        code, reason = _failure(furthest[wamid]) if furthest[wamid]["status"] == "failed" else (None, "")
        codes.append(code)
        reasons.append(reason)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Message._meta.db_table} AS message SET status = moved.status, status_changed_at = %s, "
            "error_code = CASE WHEN moved.status = 'failed' THEN moved.code ELSE message.error_code END, "
            "error_reason = CASE WHEN moved.status = 'failed' THEN moved.reason ELSE message.error_reason END "
            "FROM unnest(%s::text[], %s::text[], %s::text[], %s::int[], %s::text[]) "
            "AS moved(wamid, status, lower, code, reason) "
            "WHERE message.wamid = moved.wamid AND message.status = ANY(string_to_array(moved.lower, ',')) "
            "RETURNING message.id, message.conversation_id, message.status, message.error_code, message.error_reason",
            [
                timezone.now(),
                wamids,
                [furthest[wamid]["status"] for wamid in wamids],
                [",".join(LOWER_STATUSES[furthest[wamid]["status"]]) for wamid in wamids],
                codes,
                reasons,
            ],
        )
        moved = cursor.fetchall()
    for message_id, _conversation_id, name, code, reason in moved:
        if name == "failed":
            record_failure(message_id, code, reason)
    events = [
        ("message.updated", {"conversation_id": conversation_id, "message_id": message_id, "status": name})
        for message_id, conversation_id, name, _code, _reason in moved
    ]
    if events:
        transaction.on_commit(lambda: live.publish_many(events))


def record_sent(message: Message, wamid: str, at) -> bool:
    """Records the wamid Meta gave a pending message, then applies the statuses that arrived before it (a status
    webhook can overtake the send's answer). Two statements, not one: the second's snapshot must see a status
    whose processing committed while the first ran, or that status would move nothing and be lost. False if the
    message was no longer pending (another sender got there first)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Message._meta.db_table} SET wamid = %s, status = %s, status_changed_at = %s "
            "WHERE id = %s AND status = %s",
            [wamid, Message.Status.ACCEPTED, at, message.pk, Message.Status.PENDING],
        )
        if not cursor.rowcount:
            return False
        cursor.execute(f"SELECT json_agg(payload)::text FROM {StatusEvent._meta.db_table} WHERE wamid = %s", [wamid])
        earlier = cursor.fetchone()[0]
    message.wamid, message.status, message.status_changed_at = wamid, Message.Status.ACCEPTED, at
    if earlier:
        move_messages(json.loads(earlier))
    return True
