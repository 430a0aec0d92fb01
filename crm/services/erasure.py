"""Erasing a customer on request (the right to be forgotten): their personal data goes, the shop's numbers stay.

The contact row itself stays, anonymous, because orders, deals, RFM scores and the daily rollups count it:
revenue, order counts, new-contact counts, pipeline and broadcast funnels read the same before and after.
Field by field:

- Contact: name, phone, national digits, WhatsApp id, business-scoped id, email, city, address, birthday,
  gender, custom attributes, notes and the opt-out reason are emptied; `erased_at` is set. Kept: labels,
  owner, source, opt-out flag and date, order aggregates, created_at. Contacts merged into it earlier (their
  retired rows still carry names and emails) are emptied the same way.
- Conversation and every message in it (texts, payloads, media ids, internal notes) are deleted, with the
  status events of those messages (their payloads name the recipient) and the auto-reply cooldowns.
- Timeline: every entry (notes, consent history, label and order entries) is deleted; one "erased" entry
  without personal content says when and by whom.
- Orders: kept with their number, status, items and totals (analytics, invoices); notes and tracking number
  emptied, the link to the deleted conversation dropped. The anonymous contact is their customer now.
- Deals: kept in their stage with value and dates (pipeline counts); title replaced, notes emptied.
- Broadcast recipients: kept with status, price and timestamps (funnels, costs); the WhatsApp id is emptied,
  and a recipient still queued is skipped with its share of the reservation freed.
- Contact imports: a finished import whose file mentions the phone or the email loses its stored file and
  its error lines; its counts stay.
- Public rows: the shop's processed raw webhooks that carry the number are deleted. The billing ledger keeps
  its rows (keyed by WhatsApp message id, no phone number) and the audit log records the erasure by contact
  id only.

A message from the same number afterwards creates a new contact: nothing on the old row matches it any more.
"""

import re

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Contact, ContactImport, Deal, Order, TimelineEvent
from crm.services.contacts import national_digits, record
from tenants import audit
from tenants.services.errors import ServiceError

PERSONAL_FIELDS = {
    "name": "", "phone": None, "phone_digits": "", "wa_id": None, "business_user_id": None, "email": "",
    "city": "", "address": "", "birthday": None, "gender": "", "attributes": {}, "notes": "",
    "marketing_opt_out_reason": "",
}  # fmt: skip


def erase_contact(contact: Contact, *, actor) -> Contact:
    """Erases one customer's personal data and messages (see the module's rules); audited by contact id."""
    from whatsapp.broadcasts.models import Recipient
    from whatsapp.models import AutoReplyFiring, Conversation, Message, StatusEvent

    if contact.erased_at is not None:
        raise ServiceError(_("This customer's data has already been erased."), code="already_erased")
    if contact.merged_into_id is not None:
        raise ServiceError(_("Erase the contact this one was merged into."), code="merged")
    identities = _identities(contact)
    with transaction.atomic():
        people = [contact.pk, *Contact.objects.filter(merged_into=contact).values_list("pk", flat=True)]
        identities |= set().union(*(_identities(c) for c in Contact.objects.filter(pk__in=people[1:])))
        messages = Message.objects.filter(conversation__contact_id__in=people)
        wamids = set(messages.exclude(wamid=None).values_list("wamid", flat=True))
        recipients = Recipient.objects.filter(contact_id__in=people)
        wamids |= set(recipients.exclude(wamid=None).values_list("wamid", flat=True))
        message_count = messages.count()
        StatusEvent.objects.filter(wamid__in=wamids).delete()
        conversations = list(Conversation.objects.filter(contact_id__in=people).values_list("pk", flat=True))
        Order.objects.filter(Q(contact_id__in=people) | Q(conversation_id__in=conversations)).update(
            notes="", tracking_number="", conversation_id=None
        )
        Conversation.objects.filter(pk__in=conversations).delete()  # its messages with it
        AutoReplyFiring.objects.filter(contact_id__in=people).delete()
        _skip_queued(recipients)
        recipients.update(wa_id="")
        Deal.objects.filter(contact_id__in=people).update(title=_("Deal of an erased customer"), notes="")
        TimelineEvent.objects.filter(contact_id__in=people).delete()
        now = timezone.now()
        Contact.objects.filter(pk__in=people).update(**PERSONAL_FIELDS, erased_at=now, updated_at=now)
        imports = _forget_in_imports(identities)
        _forget_raw_webhooks(identities)
        record(contact, "erased", _("Personal data erased on request"), actor_id=getattr(actor, "pk", None))
        audit.record("contact.erased", actor=actor, target=f"contact:{contact.pk}", details={
            "messages_deleted": message_count, "merged_contacts": len(people) - 1, "imports_cleared": imports,
        })  # fmt: skip
    contact.refresh_from_db()
    return contact


def _identities(contact: Contact) -> set[str]:
    """What the shop's files and raw webhooks may know this person by: digits of their number, their email."""
    found = {national_digits(contact.phone), re.sub(r"\D", "", contact.wa_id or ""), contact.email.lower()}
    return {value for value in found if value and len(value) >= 6}


def _skip_queued(recipients) -> None:
    """A broadcast still sending to this person skips them and frees their share, as a cancellation does."""
    from billing import metering, wallet
    from whatsapp.broadcasts.models import Recipient

    for row in recipients.select_for_update().filter(status=Recipient.Status.QUEUED).select_related("broadcast"):
        Recipient.objects.filter(pk=row.pk).update(status=Recipient.Status.SKIPPED, lease_until=None)
        if row.hold:
            wallet.free_hold(metering.current_terms().shop_id, row.broadcast.hold_reference, row.hold)


def _forget_in_imports(identities: set[str]) -> int:
    """Finished imports whose file names this person lose the file; returns how many."""
    from crm.services.imports import read_table

    cleared = 0
    finished = ContactImport.objects.filter(status__in=(ContactImport.Status.DONE, ContactImport.Status.FAILED))
    for job in finished.exclude(content=b"").only("pk", "content"):
        try:
            rows = read_table(bytes(job.content)).rows()
            mentions = any(_mentions(cell, identities) for _line, cells in rows for cell in cells)
        except ServiceError:
            mentions = False
        if mentions:
            ContactImport.objects.filter(pk=job.pk).update(content=b"", errors=[])
            cleared += 1
    return cleared


def _mentions(cell: str, identities: set[str]) -> bool:
    text = str(cell or "").lower()
    digits = re.sub(r"\D", "", text)
    return any(value in text or (value.isdigit() and value in digits) for value in identities)


def _forget_raw_webhooks(identities: set[str]) -> None:
    """Raw webhooks of this shop already handled (processed or failed) that carry the number."""
    from whatsapp.channel.models import WebhookIntake

    numbers = [value for value in identities if value.isdigit()]
    if not numbers or not hasattr(connection.tenant, "pk"):
        return
    shop_id = connection.tenant.pk
    table = WebhookIntake._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM public.{table} WHERE shop_id = %s AND status = ANY(%s)"
            " AND EXISTS (SELECT 1 FROM unnest(%s::text[]) AS n WHERE position(convert_to(n, 'UTF8') IN body) > 0)",
            [shop_id, [WebhookIntake.Status.PROCESSED, WebhookIntake.Status.FAILED], numbers],
        )
