"""The one writer of contacts (the CRM issue extends it)."""

import phonenumbers
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.models import Contact


def e164_from_wa_id(wa_id: str) -> str | None:
    try:
        number = phonenumbers.parse(f"+{wa_id}")
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def upsert_whatsapp_contact(*, wa_id: str | None, business_user_id: str | None, name: str) -> Contact:
    """Finds the customer by WhatsApp id or business-scoped user id, creating them once.

    Concurrent workers may race on the same new customer; the unique constraints decide and the
    loser reads the winner's row.
    """
    lookups = [
        {"wa_id": wa_id} if wa_id else None,
        {"business_user_id": business_user_id} if business_user_id else None,
    ]
    lookups = [lookup for lookup in lookups if lookup]
    if not lookups:
        raise ValueError("a WhatsApp contact needs a wa_id or a business-scoped user id")
    for _attempt in range(3):
        contact = next((c for lookup in lookups if (c := Contact.objects.filter(**lookup).first())), None)
        if contact is None:
            phone = e164_from_wa_id(wa_id) if wa_id else None
            if phone:
                contact = Contact.objects.filter(phone=phone).first()
        if contact is not None:
            return _complete(contact, wa_id=wa_id, business_user_id=business_user_id, name=name)
        try:
            with transaction.atomic():
                return Contact.objects.create(
                    wa_id=wa_id,
                    business_user_id=business_user_id,
                    phone=e164_from_wa_id(wa_id) if wa_id else None,
                    name=name,
                    source=Contact.Source.WHATSAPP,
                )
        except IntegrityError:
            continue
    raise RuntimeError("contact upsert kept colliding")


def _complete(contact: Contact, *, wa_id, business_user_id, name) -> Contact:
    changed = []
    if wa_id and not contact.wa_id:
        contact.wa_id, contact.phone = wa_id, contact.phone or e164_from_wa_id(wa_id)
        changed += ["wa_id", "phone"]
    if business_user_id and not contact.business_user_id:
        contact.business_user_id = business_user_id
        changed.append("business_user_id")
    if name and not contact.name:
        contact.name = name
        changed.append("name")
    if changed:
        contact.save(update_fields=[*changed, "updated_at"])
    return contact


def opt_out_of_marketing(contact: Contact, reason: str) -> None:
    if not contact.marketing_opt_out:
        Contact.objects.filter(pk=contact.pk).update(
            marketing_opt_out=True, marketing_opt_out_at=timezone.now(), marketing_opt_out_reason=reason[:120]
        )


def mark_undeliverable(wa_id: str) -> None:
    Contact.objects.filter(wa_id=wa_id).update(undeliverable=True)
