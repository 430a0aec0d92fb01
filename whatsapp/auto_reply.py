"""Instant answers: greeting, keywords, away message; per-contact cooldown; never answering ourselves."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.utils import timezone

from .inbound import normalise
from .models import AutoReplyFiring, AutoReplyRule, BusinessHours, Conversation, Message

ANSWERABLE_TYPES = {"text", "interactive", "button", "image", "document", "audio", "video", "location", "order"}
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def shop_time_zone() -> ZoneInfo:
    tenant = getattr(connection, "tenant", None)
    return ZoneInfo(getattr(tenant, "time_zone", None) or "Asia/Jakarta")


def is_open(at: datetime, hours: BusinessHours | None, tz: ZoneInfo) -> bool:
    """Whether the shop is open at `at`; no schedule at all means always open."""
    if hours is None or not hours.weekly:
        return True
    local = at.astimezone(tz)
    if local.date().isoformat() in (hours.holidays or []):
        return False
    now = local.strftime("%H:%M")
    return any(start <= now < end for start, end in hours.weekly.get(WEEKDAYS[local.weekday()], []))


def keyword_matches(rule: AutoReplyRule, text: str) -> bool:
    normalised = normalise(text)
    return any(
        re.search(rf"(?<!\w){re.escape(normalise(keyword).strip())}(?!\w)", normalised)
        for keyword in rule.keywords
        if keyword.strip()
    )


class RuleBook:
    """The shop's active rules (by priority) and business hours, read once for a batch of messages; never kept
    longer, so an edit applies from the next batch on."""

    def __init__(self):
        self.rules = list(AutoReplyRule.objects.filter(active=True))
        self._hours: list[BusinessHours | None] = []
        self._read_only: list[str | None] = []

    def read_only_reason(self) -> str | None:
        """Whether billing lets the shop send, asked once for the batch (see outbound.read_only_reason)."""
        from .outbound import read_only_reason

        if not self._read_only:
            self._read_only.append(read_only_reason())
        return self._read_only[0]

    def hours(self) -> BusinessHours | None:
        if not self._hours:
            self._hours.append(BusinessHours.objects.first())
        return self._hours[0]


def choose_rule(text: str, *, first_message, at: datetime, book: RuleBook | None = None) -> AutoReplyRule | None:
    """The first active rule, by priority, that applies to a message (cooldown not considered).

    `first_message` is a bool or a callable answering it, asked only if a greeting rule is reached.
    """
    book = book or RuleBook()
    for rule in book.rules:
        if rule.kind == AutoReplyRule.Kind.GREETING and (first_message() if callable(first_message) else first_message):
            return rule
        if rule.kind == AutoReplyRule.Kind.KEYWORD and keyword_matches(rule, text):
            return rule
        if rule.kind == AutoReplyRule.Kind.AWAY and not is_open(at, book.hours(), shop_time_zone()):
            return rule
    return None


def _claim_cooldown(rule: AutoReplyRule, contact, now: datetime) -> bool:
    """Takes the rule's slot for this contact unless it fired within its cooldown: one statement, race-safe
    (the row lock of the upsert orders concurrent claims; the loser sees the winner's time)."""
    since = now - timedelta(minutes=rule.cooldown_minutes)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {AutoReplyFiring._meta.db_table} AS firing (rule_id, contact_id, fired_at) "
            "VALUES (%s, %s, %s) ON CONFLICT (rule_id, contact_id) DO UPDATE SET fired_at = EXCLUDED.fired_at "
            "WHERE firing.fired_at <= %s RETURNING 1",
            [rule.pk, contact.pk, now, since],
        )
        return cursor.fetchone() is not None


def answer(
    message: Message, *, dispatch: bool = True, conversation: Conversation | None = None, book: RuleBook | None = None
) -> Message | None:
    """Sends the auto-reply for a new inbound message, if a rule applies and is not cooling down.

    `dispatch=False` when the caller delivers the reply itself (processing does, at once). Processing also
    hands over the conversation and contact as it has just left them (service window moved) and the rules
    of its batch, which saves reading them again for every message.
    """
    from .outbound import SendRefused, send_text

    if message.direction != Message.Direction.INBOUND or message.automated or message.type not in ANSWERABLE_TYPES:
        return None
    if conversation is None:
        conversation = Conversation.objects.select_related("contact").get(pk=message.conversation_id)
    contact = conversation.contact

    def first() -> bool:
        return (
            not Message.objects.filter(conversation=conversation, direction=Message.Direction.INBOUND)
            .exclude(pk=message.pk)
            .exists()
        )

    now = timezone.now()
    book = book or RuleBook()
    rule = choose_rule(message.text, first_message=first, at=now, book=book)
    if rule is None or not _claim_cooldown(rule, contact, now):
        return None
    try:
        return send_text(
            conversation, rule.reply_text, automated=True, buttons=rule.reply_buttons or None,
            list_menu=rule.reply_list or None, dispatch=dispatch, read_only=book.read_only_reason,
        )  # fmt: skip
    except SendRefused:
        return None
