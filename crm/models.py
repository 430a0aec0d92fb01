"""A shop's customers (in the shop's schema). The CRM issue adds labels, attributes, orders..."""

from django.db import models
from django.utils import timezone


class Contact(models.Model):
    """One customer. Known by phone (E.164), by WhatsApp id, or only by a business-scoped user id.

    `owner_id` is a plain id of `tenants.User` (public schema), without a database foreign key.
    """

    class Source(models.TextChoices):
        WHATSAPP = "whatsapp", "WhatsApp"
        IMPORT = "import", "Import"
        MANUAL = "manual", "Manual"
        AD = "ad", "Click-to-WhatsApp ad"

    name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=20, null=True, blank=True, unique=True, help_text="E.164")
    wa_id = models.CharField(max_length=32, null=True, blank=True, unique=True)
    business_user_id = models.CharField(
        max_length=64, null=True, blank=True, unique=True, help_text="WhatsApp business-scoped user id (ID.…)"
    )
    email = models.EmailField(blank=True)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.MANUAL)
    owner_id = models.BigIntegerField(null=True, blank=True)
    marketing_opt_out = models.BooleanField(default=False)
    marketing_opt_out_at = models.DateTimeField(null=True, blank=True)
    marketing_opt_out_reason = models.CharField(max_length=120, blank=True)
    undeliverable = models.BooleanField(default=False, help_text="WhatsApp said this number cannot receive messages")
    last_inbound_at = models.DateTimeField(null=True, blank=True, help_text="Opens the 24-hour service window")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.name or self.phone or self.wa_id or self.business_user_id or f"contact {self.pk}"
