"""Connecting a shop's WhatsApp number: the one writer of WhatsAppAccount."""

import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tenants import audit
from tenants.activity.services import record_activity
from tenants.models import Shop
from tenants.services.errors import ServiceError
from whatsapp import graph

from . import intake
from .models import WhatsAppAccount

AUDITED_FIELDS = ("phone_number_id", "waba_id", "display_phone_number", "access_token", "app_secret", "verify_token")


def webhook_url() -> str:
    return f"{settings.PLATFORM_SCHEME}://{settings.PLATFORM_DOMAIN}/webhooks/whatsapp/"


def connect(shop: Shop, actor_id: int | None, **fields) -> WhatsAppAccount:
    """Creates or updates the shop's number; blank secrets keep the stored ones."""
    required = ["phone_number_id", "waba_id", "display_phone_number"]
    for name in required:
        if not str(fields.get(name, "")).strip():
            raise ServiceError(_("This field is required."), field=name)
    account = WhatsAppAccount.objects.filter(shop=shop).first() or WhatsAppAccount(shop=shop)
    previous_number = account.phone_number_id
    before = {name: getattr(account, name, None) for name in AUDITED_FIELDS}
    for name in required:
        setattr(account, name, str(fields[name]).strip())
    for secret in ("access_token", "app_secret"):
        if fields.get(secret):
            setattr(account, secret, fields[secret].strip())
        elif not getattr(account, secret, None):
            raise ServiceError(_("This field is required."), field=secret)
    account.verify_token = (
        (fields.get("verify_token") or "").strip() or account.verify_token or secrets.token_urlsafe(24)
    )
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError as exc:
        if WhatsAppAccount.objects.exclude(pk=account.pk).filter(phone_number_id=account.phone_number_id).exists():
            raise ServiceError(_("This phone number is connected to another shop."), field="phone_number_id") from exc
        raise ServiceError(_("Choose another verify token."), field="verify_token") from exc
    for number in {previous_number, account.phone_number_id} - {None, ""}:
        intake.forget_route(number)
    record_activity(
        actor_id=actor_id, action="whatsapp.connected", summary=f"WhatsApp {account.display_phone_number} connected"
    )
    changed = [name for name in AUDITED_FIELDS if getattr(account, name) != before[name]]
    if changed:  # the names of what changed only: never a token's or a secret's value
        action = "whatsapp.credentials_changed" if previous_number else "whatsapp.connected"
        audit.record(action, actor=actor_id, shop=shop, target=f"whatsapp_account:{account.pk}",
                     details={"changed": changed})  # fmt: skip
    return account


def test_connection(account: WhatsAppAccount) -> dict:
    """Asks the Graph API about the number; stores and returns what it said, or why it failed."""
    now = timezone.now()
    try:
        info = graph.phone_number_info(account.phone_number_id, account.access_token)
    except graph.GraphError as error:
        reason = error.reason
        WhatsAppAccount.objects.filter(pk=account.pk).update(
            status=WhatsAppAccount.Status.ERROR,
            last_error_code=error.code,
            last_error_reason=reason[:300],
            last_checked_at=now,
        )
        return {"ok": False, "code": error.code, "reason": reason}
    changes = {
        "verified_name": info.get("verified_name", ""),
        "quality_rating": info.get("quality_rating", ""),
        "throughput_level": (info.get("throughput") or {}).get("level", ""),
        "status": WhatsAppAccount.Status.CONNECTED,
        "last_error_code": None,
        "last_error_reason": "",
        "last_checked_at": now,
    }
    WhatsAppAccount.objects.filter(pk=account.pk).update(**changes)
    return {"ok": True, **{k: changes[k] for k in ("verified_name", "quality_rating", "throughput_level")}}
