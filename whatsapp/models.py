"""A shop's WhatsApp conversations, messages, auto-reply rules and templates (shop schema)."""

from django.db import models
from django.utils import timezone


class Conversation(models.Model):
    """The one thread with a contact. `assignee_id` is a plain `tenants.User` id."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    contact = models.OneToOneField("crm.Contact", on_delete=models.CASCADE, related_name="conversation")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    assignee_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    unread_count = models.PositiveIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_message_preview = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The contact as the inbox shows them (name, phone, consent, service window), copied by the database
    # whenever the contact changes (migration 0005's triggers): the inbox list reads this table alone.
    contact_card = models.JSONField(default=dict, editable=False)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        # The inbox list (open or closed, newest first) read in index order, 50 rows and no sort. It replaces
        # a lone `status` index and its LIKE twin: fewer indexes to open on a connection's first visit to a shop.
        indexes = [models.Index(fields=["status", "-last_message_at", "-id"], name="conversation_inbox_idx")]

    def __str__(self) -> str:
        return f"conversation with {self.contact}"


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "in", "From the customer"
        OUTBOUND = "out", "To the customer"
        NOTE = "note", "Internal note"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PENDING = "pending", "Sending"
        ACCEPTED = "accepted", "Accepted by WhatsApp"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        READ = "read", "Read"
        FAILED = "failed", "Failed"

    # Statuses only move forward; `failed` ends a message from any earlier point.
    STATUS_RANK = {"pending": 0, "accepted": 1, "sent": 2, "delivered": 3, "read": 4, "failed": 5}

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=4, choices=Direction.choices)
    wamid = models.CharField(max_length=128, null=True, blank=True, unique=True)
    type = models.CharField(max_length=20, default="text")
    text = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    error_code = models.IntegerField(null=True, blank=True)
    error_reason = models.CharField(max_length=300, blank=True)
    automated = models.BooleanField(default=False)
    author_id = models.BigIntegerField(null=True, blank=True)
    context_wamid = models.CharField(max_length=128, blank=True)
    media_id = models.CharField(max_length=128, blank=True)
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversation", "created_at"], name="message_thread_time_idx")]

    def __str__(self) -> str:
        return f"{self.direction} {self.type} {self.wamid or self.pk}"


class StatusEvent(models.Model):
    """Each status webhook once: the unique pair makes duplicates harmless."""

    wamid = models.CharField(max_length=128)
    status = models.CharField(max_length=10)
    occurred_at = models.DateTimeField()
    payload = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["wamid", "status"], name="status_event_once")]

    def __str__(self) -> str:
        return f"{self.wamid} {self.status}"


class AutoReplyRule(models.Model):
    class Kind(models.TextChoices):
        GREETING = "greeting", "Greeting (a customer's first message)"
        KEYWORD = "keyword", "Keywords"
        AWAY = "away", "Away (outside business hours)"

    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    keywords = models.JSONField(default=list, blank=True)
    reply_text = models.TextField()
    reply_buttons = models.JSONField(default=list, blank=True, help_text="Up to 3 button titles")
    reply_list = models.JSONField(
        default=dict,
        blank=True,
        help_text='A list menu: {"button": "Pilih", "rows": ["Gamis", "Hijab", ...]} (≤ 10 rows)',
    )
    priority = models.PositiveSmallIntegerField(default=100, help_text="Lower runs first")
    cooldown_minutes = models.PositiveIntegerField(default=60)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return self.name


class AutoReplyFiring(models.Model):
    """When a rule last answered a contact: the per-contact cooldown."""

    rule = models.ForeignKey(AutoReplyRule, on_delete=models.CASCADE)
    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE)
    fired_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "contact"], name="auto_reply_firing_once")]

    def __str__(self) -> str:
        return f"{self.rule} → {self.contact_id} at {self.fired_at}"


class BusinessHours(models.Model):
    """The shop's weekly opening hours (in the shop's time zone) and holidays; one row."""

    weekly = models.JSONField(default=dict, help_text='{"mon": [["09:00", "17:00"]], ...}')
    holidays = models.JSONField(default=list, help_text='["2026-12-25", ...]')

    def __str__(self) -> str:
        return "business hours"


class QuickReply(models.Model):
    shortcut = models.SlugField(max_length=40, unique=True)
    text = models.TextField()

    class Meta:
        ordering = ["shortcut"]

    def __str__(self) -> str:
        return f"/{self.shortcut}"


class MessageTemplate(models.Model):
    """An approved template synced from the shop's WhatsApp Business Account."""

    name = models.CharField(max_length=512)
    language = models.CharField(max_length=15)
    category = models.CharField(max_length=30)
    status = models.CharField(max_length=20)
    body_text = models.TextField(blank=True)
    parameter_count = models.PositiveSmallIntegerField(default=0)
    components = models.JSONField(default=list)
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "language"], name="template_name_language")]
        ordering = ["name", "language"]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"
