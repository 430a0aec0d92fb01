"""The one writer of contacts, labels, attributes and the contact timeline."""

import re
from datetime import date

import phonenumbers
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.plans import check_limit_here
from config.sql import fetch, insert, insert_once
from crm.models import AttributeDefinition, Contact, ContactRfm, Label, TimelineEvent
from crm.services import rollups
from tenants.services.errors import ServiceError

DEFAULT_REGION = "ID"


# --- phone numbers


def normalise_phone(raw: str) -> str:
    """E.164 with Indonesia as the default region; raises ServiceError(field="phone")."""
    try:
        number = phonenumbers.parse(str(raw), DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ServiceError(_("This is not a phone number."), field="phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise ServiceError(_("This phone number is not valid."), field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national_digits(e164: str | None) -> str:
    """The national significant number ('81234567890' for +6281234567890), for fragment search."""
    if not e164:
        return ""
    try:
        return str(phonenumbers.parse(e164).national_number)
    except phonenumbers.NumberParseException:
        return re.sub(r"\D", "", e164)


def phone_fragment(text: str) -> str | None:
    """Digits a person typed as part of a phone number: 0812…, +62 812…, 62812… all become 812…"""
    digits = re.sub(r"\D", "", text)
    if len(digits) < 3 or len(digits) < len(re.sub(r"\s", "", text)) * 0.6:
        return None
    if digits.startswith("62"):
        digits = digits[2:]
    return digits.lstrip("0") or None


def typed_from_the_start(text: str) -> bool:
    """0812…, +62 812… or 62812…: the beginning of a number, not digits from its middle."""
    return re.sub(r"[\s()+.-]", "", text).startswith(("0", "62"))


def e164_from_wa_id(wa_id: str) -> str | None:
    try:
        number = phonenumbers.parse(f"+{wa_id}")
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --- search


def search(queryset: QuerySet[Contact], text: str) -> QuerySet[Contact]:
    """Name, email or a phone fragment in any common Indonesian format.

    Digits typed from the start of a number (0812…, +62 812…, 62812…) find numbers that begin with
    them (a btree prefix range); other digits are looked for anywhere in the number (trigrams).
    """
    text = text.strip()
    if not text:
        return queryset
    fragment = phone_fragment(text)
    if fragment and re.fullmatch(r"[\d\s()+.-]+", text):
        # Only digits typed: a phone number, not a name.
        if typed_from_the_start(text):
            return queryset.filter(phone_digits__startswith=fragment)
        return queryset.filter(phone_digits__contains=fragment)
    match = Q(name__icontains=text)
    if not re.search(r"\s", text):  # an email address has no spaces
        match |= Q(email__icontains=text)
    if fragment:
        match |= Q(phone_digits__contains=fragment)
    return queryset.filter(match)


# --- timeline


def record(contact: Contact | int, kind: str, summary: str, *, actor_id: int | None = None, data: dict | None = None):
    contact_id = contact if isinstance(contact, int) else contact.pk
    event = TimelineEvent(contact_id=contact_id, kind=kind, summary=summary[:300], actor_id=actor_id, data=data or {})
    insert(event)  # plain SQL: every new customer's first message writes one
    return event


def recorded(kind: str, summary: str) -> tuple[str, list]:
    """The timeline's line for a contact's INSERT to carry (config.sql.insert_once's `then`; `new` is the contact)."""
    return (
        f"INSERT INTO {TimelineEvent._meta.db_table} (contact_id, kind, summary, data, actor_id, created_at) "
        "SELECT id, %s, %s, '{}', NULL, %s FROM new",
        [kind, str(summary)[:300], timezone.now()],
    )


# --- create / update

EDITABLE = ["name", "email", "city", "address", "birthday", "gender", "owner_id", "notes"]


def _validate_attributes(values: dict) -> dict:
    definitions = {d.key: d for d in AttributeDefinition.objects.filter(key__in=list(values))}
    clean = {}
    for key, value in values.items():
        definition = definitions.get(key)
        if definition is None:
            raise ServiceError(_("Unknown field “%(key)s”.") % {"key": key}, field="attributes")
        if value in (None, ""):
            continue
        clean[key] = _coerce(definition, value)
    return clean


def _coerce(definition: AttributeDefinition, value):
    problem = _("“%(label)s” needs %(kind)s.")
    kind = definition.type
    try:
        if kind == AttributeDefinition.Type.NUMBER:
            number = float(value) if "." in str(value) else int(value)
            return number
        if kind == AttributeDefinition.Type.DATE:
            return date.fromisoformat(str(value)).isoformat()
        if kind == AttributeDefinition.Type.CHECKBOX:
            if isinstance(value, bool):
                return value
            return {"true": True, "1": True, "yes": True, "ya": True, "false": False, "0": False, "no": False,
                    "tidak": False}[str(value).strip().lower()]  # fmt: skip
        if kind == AttributeDefinition.Type.CHOICE:
            if str(value) not in definition.choices:
                raise ValueError
            return str(value)
        return str(value)[:500]
    except (ValueError, KeyError, TypeError) as exc:
        expected = {
            "number": _("a number"),
            "date": _("a date (YYYY-MM-DD)"),
            "checkbox": _("yes or no"),
            "choice": _("one of: %(choices)s") % {"choices": ", ".join(definition.choices)},
        }.get(kind, _("text"))
        raise ServiceError(problem % {"label": definition.label, "kind": expected}, field="attributes") from exc


def _duplicate_error(phone: str) -> ServiceError:
    existing = Contact.objects.filter(phone=phone).first()
    label = f"{existing.name or existing.phone} (#{existing.pk})" if existing else phone
    return ServiceError(_("A contact with this phone number already exists: %(who)s.") % {"who": label}, field="phone")


def create_contact(*, actor_id: int | None, phone: str = "", label_ids=(), attributes=None, source=None,
                   marketing_opt_out: bool = False, **fields) -> Contact:  # fmt: skip
    """A contact typed in by staff (or imported); the same phone never makes two contacts."""
    check_limit_here("contact_limit", in_use=Contact.objects.count)
    e164 = normalise_phone(phone) if str(phone).strip() else None
    if e164 and Contact.objects.filter(phone=e164).exists():
        raise _duplicate_error(e164)
    contact = Contact(
        phone=e164,
        phone_digits=national_digits(e164),
        wa_id=e164.lstrip("+") if e164 else None,
        attributes=_validate_attributes(attributes or {}),
        source=source or Contact.Source.MANUAL,
        **{k: v for k, v in fields.items() if k in EDITABLE},
    )
    try:
        with transaction.atomic():
            contact.save()
            rollups.contacts_created([contact.created_at])
            record(contact, "created", _("Contact created"), actor_id=actor_id)
            if label_ids:
                set_labels(contact, label_ids, actor_id=actor_id)
            if marketing_opt_out:
                set_marketing_consent(contact, opted_out=True, reason="Set by staff", actor_id=actor_id)
    except IntegrityError as exc:
        raise _duplicate_error(e164) from exc
    return contact


def update_contact(contact: Contact, *, actor_id: int | None, **changes) -> Contact:
    with transaction.atomic():
        if "phone" in changes:
            e164 = normalise_phone(changes.pop("phone")) if str(changes["phone"] or "").strip() else None
            if e164 != contact.phone:
                if e164 and Contact.objects.filter(phone=e164).exclude(pk=contact.pk).exists():
                    raise _duplicate_error(e164)
                contact.phone, contact.phone_digits = e164, national_digits(e164)
                contact.wa_id = contact.wa_id or (e164.lstrip("+") if e164 else None)
        if "attributes" in changes:
            contact.attributes = {**contact.attributes, **_validate_attributes(changes.pop("attributes") or {})}
            contact.attributes = {k: v for k, v in contact.attributes.items() if v not in (None, "")}
        if "label_ids" in changes:
            set_labels(contact, changes.pop("label_ids"), actor_id=actor_id)
        if "marketing_opt_out" in changes:
            set_marketing_consent(contact, opted_out=changes.pop("marketing_opt_out"), reason="Changed by staff",
                                  actor_id=actor_id)  # fmt: skip
        for field, value in changes.items():
            if field in EDITABLE:
                setattr(contact, field, value)
        contact.save()
    return contact


def set_labels(contact: Contact, label_ids, *, actor_id: int | None) -> None:
    wanted = set(Label.objects.filter(pk__in=label_ids).values_list("pk", flat=True))
    current = set(contact.labels.values_list("pk", flat=True))
    names = dict(Label.objects.filter(pk__in=wanted | current).values_list("pk", "name"))
    for label_id in wanted - current:
        record(contact, "label.added", _("Label “%(name)s” added") % {"name": names[label_id]}, actor_id=actor_id)
    for label_id in current - wanted:
        record(contact, "label.removed", _("Label “%(name)s” removed") % {"name": names[label_id]}, actor_id=actor_id)
    contact.labels.set(wanted)


def set_marketing_consent(contact: Contact, *, opted_out: bool, reason: str, actor_id: int | None = None) -> None:
    """Consent with when and how it changed (kept on the timeline)."""
    if contact.marketing_opt_out == opted_out and contact.marketing_opt_out_at is not None:
        return
    now = timezone.now()
    Contact.objects.filter(pk=contact.pk).update(
        marketing_opt_out=opted_out, marketing_opt_out_at=now, marketing_opt_out_reason=reason[:120]
    )
    contact.marketing_opt_out, contact.marketing_opt_out_at, contact.marketing_opt_out_reason = opted_out, now, reason
    summary = _("Opted out of marketing: %(why)s") if opted_out else _("Agreed to marketing: %(why)s")
    record(contact, "consent", summary % {"why": reason}, actor_id=actor_id, data={"opted_out": opted_out})


def add_note(contact: Contact, text: str, *, actor_id: int | None) -> TimelineEvent:
    text = text.strip()
    if not text:
        raise ServiceError(_("Write the note first."), field="text")
    return record(contact, "note", text, actor_id=actor_id)


def bulk_update(
    ids,
    *,
    actor_id: int | None,
    add_label_ids=(),
    remove_label_ids=(),
    owner_id=...,
) -> int:
    contacts = list(Contact.objects.filter(pk__in=ids, merged_into__isnull=True))
    with transaction.atomic():
        for contact in contacts:
            if add_label_ids or remove_label_ids:
                current = set(contact.labels.values_list("pk", flat=True))
                set_labels(contact, (current | set(add_label_ids)) - set(remove_label_ids), actor_id=actor_id)
        if owner_id is not ...:
            Contact.objects.filter(pk__in=[c.pk for c in contacts]).update(owner_id=owner_id, updated_at=timezone.now())
    return len(contacts)


def merge(keep: Contact, other: Contact, *, actor_id: int | None) -> Contact:
    """Joins `other` into `keep`: orders, deals, conversation messages, labels, timeline; `other` is retired."""
    from crm.models import Deal, Order
    from whatsapp.models import Conversation

    if keep.pk == other.pk:
        raise ServiceError(_("Choose another contact to merge."), field="other_id")
    with transaction.atomic(), rollups.customer_orders_change(keep.pk, other.pk):
        if other.merged_into_id is None:
            rollups.contacts_created([other.created_at], sign=-1)
        Order.objects.filter(contact=other).update(contact=keep)
        Deal.objects.filter(contact=other).update(contact=keep)
        TimelineEvent.objects.filter(contact=other).update(contact=keep)
        keep.labels.add(*other.labels.all())
        theirs = Conversation.objects.filter(contact=other).first()
        if theirs is not None:
            ours = Conversation.objects.filter(contact=keep).first()
            if ours is None:
                Conversation.objects.filter(pk=theirs.pk).update(contact=keep)
            else:
                theirs.messages.update(conversation=ours)
                Conversation.objects.filter(pk=ours.pk).update(unread_count=F("unread_count") + theirs.unread_count)
                theirs.delete()
        for field in ("name", "email", "city", "address", "birthday", "gender", "owner_id"):
            if not getattr(keep, field) and getattr(other, field):
                setattr(keep, field, getattr(other, field))
        keep.attributes = {**other.attributes, **keep.attributes}
        identities = {f: getattr(other, f) for f in ("phone", "wa_id", "business_user_id") if getattr(other, f)}
        Contact.objects.filter(pk=other.pk).update(
            merged_into=keep, phone=None, phone_digits="", wa_id=None, business_user_id=None
        )
        ContactRfm.objects.filter(contact=other).delete()
        for field, value in identities.items():
            if not getattr(keep, field):
                setattr(keep, field, value)
        keep.phone_digits = national_digits(keep.phone)
        keep.save()
        refresh_order_aggregates(keep)
        record(keep, "merge", _("Merged with %(other)s") % {"other": str(other)}, actor_id=actor_id,
               data={"merged_id": other.pk})  # fmt: skip
    return keep


def refresh_order_aggregates(contact: Contact | int) -> None:
    """Order count, total spent, first and last order: the numbers segments and lists filter on."""
    from django.db.models import Count, Max, Min, Sum

    from crm.models import Order

    contact_id = contact if isinstance(contact, int) else contact.pk
    totals = (
        Order.objects.filter(contact_id=contact_id)
        .exclude(status=Order.Status.CANCELLED)
        .aggregate(count=Count("pk"), spent=Sum("total"), first=Min("created_at"), last=Max("created_at"))
    )
    Contact.objects.filter(pk=contact_id).update(
        order_count=totals["count"] or 0,
        total_spent=totals["spent"] or 0,
        first_order_at=totals["first"],
        last_order_at=totals["last"],
    )


# --- WhatsApp side (called by whatsapp.inbound)


def upsert_whatsapp_contact(*, wa_id: str | None, business_user_id: str | None, name: str) -> Contact:
    """Finds the customer by WhatsApp id or business-scoped user id, creating them once.

    Concurrent workers may race on the same new customer; the unique constraints decide and the
    loser reads the winner's row.
    """
    if not wa_id and not business_user_id:
        raise ValueError("a WhatsApp contact needs a wa_id or a business-scoped user id")
    phone_of_wa_id = e164_from_wa_id(wa_id) if wa_id else None
    # Every customer message comes here: plain SQL, one statement to find and one to create (no savepoint).
    for _attempt in range(3):
        # One query for every identity; a WhatsApp id match wins over a phone match.
        found = fetch(
            Contact,
            f"SELECT * FROM {Contact._meta.db_table} WHERE wa_id = %s OR business_user_id = %s OR phone = %s LIMIT 3",
            [wa_id, business_user_id, phone_of_wa_id],
        )
        contact = (
            next((c for c in found if wa_id and c.wa_id == wa_id), None)
            or next((c for c in found if business_user_id and c.business_user_id == business_user_id), None)
            or (found[0] if found else None)
        )
        if contact is not None:
            return _complete(contact, wa_id=wa_id, business_user_id=business_user_id, name=name)
        created = Contact(
            wa_id=wa_id,
            business_user_id=business_user_id,
            phone=phone_of_wa_id,
            phone_digits=national_digits(phone_of_wa_id),
            name=name,
            source=Contact.Source.WHATSAPP,
        )
        # One statement with the day's count and the timeline's first line; else another worker made them a
        # moment ago: read theirs.
        counted = [rollups.new_contact_counted(), recorded("created", _("First message on WhatsApp"))]
        if insert_once(created, then=counted):
            return created
    raise RuntimeError("contact upsert kept colliding")


def _complete(contact: Contact, *, wa_id, business_user_id, name) -> Contact:
    if contact.merged_into_id:
        contact = Contact.objects.get(pk=contact.merged_into_id)
    changed = []
    if wa_id and not contact.wa_id:
        contact.wa_id = wa_id
        changed.append("wa_id")
        if not contact.phone and (phone := e164_from_wa_id(wa_id)):
            contact.phone, contact.phone_digits = phone, national_digits(phone)
            changed += ["phone", "phone_digits"]
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
        set_marketing_consent(contact, opted_out=True, reason=reason)


def mark_undeliverable(wa_id: str) -> None:
    Contact.objects.filter(wa_id=wa_id).update(undeliverable=True)
