"""Export jobs live in the public schema: the file belongs to the shop, the job outlives any one request."""

import uuid

from django.db import models
from django.utils import timezone


class ShopExport(models.Model):
    """One export of a shop's data, made by a background task and downloadable until it expires."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    # Not guessable: the file name is derived from it.
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    shop = models.ForeignKey("tenants.Shop", on_delete=models.CASCADE, related_name="exports")
    requested_by = models.ForeignKey("tenants.User", null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveBigIntegerField(default=0)
    rows_done = models.PositiveBigIntegerField(default=0)
    file_name = models.CharField(max_length=200, blank=True, help_text="Path in the default file storage")
    file_size = models.PositiveBigIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "-created_at"], name="shop_export_recent")]

    def __str__(self) -> str:
        return f"export {self.key} of {self.shop_id} ({self.status})"
