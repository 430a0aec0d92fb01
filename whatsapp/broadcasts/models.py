"""A broadcast and its frozen audience: one row per recipient, which is also its send state."""

from django.db import models
from django.utils import timezone

MONEY = {"max_digits": 18, "decimal_places": 4}


class Broadcast(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        STOPPED = "stopped", "Stopped by WhatsApp"
        ACTIVE = "active", "Active"  # a repeating or triggered broadcast, making occurrences
        INACTIVE = "inactive", "Inactive"  # one paused by the shop

    class Repeat(models.TextChoices):
        NONE = "", "Once"
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"

    class Trigger(models.TextChoices):
        NONE = "", "None"
        BIRTHDAY = "birthday", "Birthday"
        DAYS_AFTER_ORDER = "days_after_order", "Days after an order"
        CART_LEFT = "cart_left", "Cart left in the chat"

    name = models.CharField(max_length=120)
    template = models.ForeignKey("whatsapp.MessageTemplate", on_delete=models.PROTECT, related_name="broadcasts")
    variables = models.JSONField(
        default=list,
        blank=True,
        help_text='One per template variable: {"source": "field"|"attribute"|"text", "value": ..., "fallback": ...}',
    )
    header_media_url = models.URLField(blank=True, help_text="For templates whose header is an image, video or file")
    audience = models.JSONField(
        default=dict,
        blank=True,
        help_text='{"segments": [ids], "groups": [built-in keys], "labels": [ids], "contacts": [ids]}',
    )
    exclude_segments = models.JSONField(default=list, blank=True)
    frequency_cap_hours = models.PositiveSmallIntegerField(
        default=24, help_text="Skip contacts another broadcast reached this recently (0: no cap)"
    )
    attribution_days = models.PositiveSmallIntegerField(default=7)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    status_reason = models.CharField(max_length=300, blank=True, help_text="Why it paused or stopped")
    scheduled_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    recipient_count = models.PositiveIntegerField(default=0, help_text="The audience as frozen at the start")
    estimated_cost = models.DecimalField(**MONEY, default=0)
    currency = models.CharField(max_length=3, default="IDR")
    repeat = models.CharField(max_length=8, choices=Repeat.choices, default=Repeat.NONE, blank=True)
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.NONE, blank=True)
    trigger_days = models.PositiveSmallIntegerField(default=0, help_text="days_after_order: how many local days")
    trigger_hours = models.PositiveSmallIntegerField(default=0, help_text="cart_left: how long the cart waited")
    next_run_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="Repeating or triggered: when it next makes an occurrence"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="occurrences",
        help_text="The repeating or triggered broadcast this occurrence was made from",
    )  # fmt: skip
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_template(self) -> bool:
        """Repeating or triggered: it never sends itself, its occurrences do."""
        return bool(self.repeat or self.trigger)

    @property
    def hold_reference(self) -> str:
        """The balance reservation that covers the whole send."""
        return f"broadcast:{self.pk}"


class Recipient(models.Model):
    """One contact of a frozen audience. `attempts` numbers each call to WhatsApp; the call carries
    `b:<id>:<attempt>` as its callback data, so its status webhooks find this row even when the worker that
    made the call died before it could write the answer."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"  # claimed under a lease; a call may be on its way
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        READ = "read", "Read"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"  # cancelled, or opted out after the audience froze

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="recipients")
    contact = models.ForeignKey("crm.Contact", null=True, on_delete=models.SET_NULL, related_name="+")
    wa_id = models.CharField(max_length=32)
    market = models.CharField(max_length=8, blank=True, help_text="Country calling code, for the rate card")
    hold = models.DecimalField(**MONEY, default=0, help_text="Its share of the broadcast's reservation")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    wamid = models.CharField(max_length=128, null=True, blank=True, unique=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["broadcast", "contact"], name="recipient_once_per_broadcast")]
        indexes = [
            models.Index(fields=["broadcast", "status", "id"], name="recipient_broadcast_status"),
            models.Index(fields=["contact", "sent_at"], name="recipient_contact_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.wa_id} in broadcast {self.broadcast_id}"


class ConsentSettings(models.Model):
    """One row per shop: the words that opt a customer out of promotions, and the confirmation they get."""

    stop_words = models.JSONField(default=list, blank=True, help_text="Besides STOP and BERHENTI, matched whole")
    confirmation = models.TextField(blank=True, help_text="Empty: the default in the shop's language")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "Consent settings"


def lock_recipients(cursor, ids) -> None:
    """Locks recipient rows in id order. The sender, status processing and recovery each update many rows
    at once; taking the locks in one order keeps their transactions from deadlocking."""
    cursor.execute(
        f"SELECT id FROM {Recipient._meta.db_table} WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [sorted(set(ids))]
    )
