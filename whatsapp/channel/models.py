"""WhatsApp accounts (the public routing table) and the durable webhook intake."""

from django.db import models
from django.utils import timezone

from config.encryption import EncryptedTextField


class WhatsAppAccount(models.Model):
    """A shop's WhatsApp Business phone number and its Cloud API credentials (encrypted)."""

    class Status(models.TextChoices):
        CONNECTED = "connected", "Connected"
        ERROR = "error", "Needs attention"

    shop = models.ForeignKey("tenants.Shop", on_delete=models.CASCADE, related_name="whatsapp_accounts")
    phone_number_id = models.CharField(max_length=32, unique=True)
    waba_id = models.CharField(max_length=32)
    display_phone_number = models.CharField(max_length=32)
    verified_name = models.CharField(max_length=120, blank=True)
    quality_rating = models.CharField(max_length=16, blank=True)
    throughput_level = models.CharField(max_length=16, blank=True)
    access_token = EncryptedTextField()
    app_secret = EncryptedTextField()
    verify_token = models.CharField(max_length=128, unique=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CONNECTED)
    last_error_code = models.IntegerField(null=True, blank=True)
    last_error_reason = models.CharField(max_length=300, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.display_phone_number} ({self.phone_number_id})"


class WebhookIntake(models.Model):
    """One verified webhook POST for one shop, kept raw until processed (or quarantined)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSED = "processed", "Processed"
        QUARANTINED = "quarantined", "Quarantined (unknown number)"
        FAILED = "failed", "Failed"

    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    shop = models.ForeignKey("tenants.Shop", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    phone_number_ids = models.JSONField(default=list)
    body = models.BinaryField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    # A customer wrote (rather than statuses only): processed apart, on the `interactive` queue.
    carries_messages = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["received_at"], name="intake_pending_idx", condition=models.Q(status="pending")),
            # A processing task takes the oldest pending rows of one shop and kind.
            models.Index(
                fields=["shop", "carries_messages", "id"],
                name="intake_pending_batch_idx",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"intake {self.pk} ({self.status})"


class DeliveryFailure(models.Model):
    """A message WhatsApp would not take or deliver, copied here so the operator sees every shop's failures."""

    shop = models.ForeignKey("tenants.Shop", on_delete=models.CASCADE, related_name="+")
    message_id = models.BigIntegerField(help_text="Message id in the shop's schema")
    error_code = models.IntegerField(null=True, blank=True)
    reason = models.CharField(max_length=300)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-occurred_at"]

    def __str__(self) -> str:
        return f"{self.shop_id}/{self.message_id}: {self.error_code}"
