"""Approved message templates, synced from the shop's WhatsApp Business Account."""

import re

from django.db import transaction
from django.utils import timezone

from whatsapp.channel.models import WhatsAppAccount

from . import graph
from .models import MessageTemplate

PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def sync(account: WhatsAppAccount) -> int:
    """Replaces the local copy with what WhatsApp has; raises graph.GraphError with Meta's reason."""
    remote = graph.message_templates(account.waba_id, account.access_token)
    now = timezone.now()
    with transaction.atomic():
        seen = []
        for template in remote:
            body = next((c.get("text", "") for c in template.get("components", []) if c.get("type") == "BODY"), "")
            obj, _ = MessageTemplate.objects.update_or_create(
                name=template["name"],
                language=template["language"],
                defaults={
                    "category": template.get("category", "").lower(),
                    "status": template.get("status", "").lower(),
                    "body_text": body,
                    "parameter_count": len(set(PLACEHOLDER.findall(body))),
                    "components": template.get("components", []),
                    "synced_at": now,
                },
            )
            seen.append(obj.pk)
        MessageTemplate.objects.exclude(pk__in=seen).delete()
    return len(seen)
