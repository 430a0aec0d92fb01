"""Opting out of promotions by message: a customer who writes STOP / BERHENTI (or a word the shop added), or
taps the template's stop button, is opted out of marketing at once, told so, and counted against the
broadcast that prompted it. Any other message counts as a reply to their latest broadcast."""

import logging
import unicodedata

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import override

from crm.services.contacts import opt_out_of_marketing

from . import tracking
from .models import ConsentSettings

logger = logging.getLogger(__name__)

STOP_WORDS = {"stop", "berhenti", "unsubscribe", "stop promosi", "berhenti langganan"}
ANSWERABLE = {"text", "button", "interactive"}


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split()).strip(" .!")


def settings_row() -> ConsentSettings:
    return ConsentSettings.objects.first() or ConsentSettings.objects.create()


def stop_words() -> set[str]:
    extra = ConsentSettings.objects.values_list("stop_words", flat=True).first() or []
    return STOP_WORDS | {normalise(word) for word in extra if normalise(word)}


def update_settings(*, stop_words: list | None = None, confirmation: str | None = None) -> ConsentSettings:
    row = settings_row()
    if stop_words is not None:
        row.stop_words = sorted({normalise(str(word)) for word in stop_words if normalise(str(word))})[:50]
    if confirmation is not None:
        row.confirmation = confirmation.strip()[:1000]
    row.save()
    return row


def confirmation_text(language: str) -> str:
    custom = ConsentSettings.objects.values_list("confirmation", flat=True).first()
    if custom:
        return custom
    with override(language):
        return _("You will no longer receive promotions from us.")


def after_customer_message(contact, message, language: str, words: set[str] | None = None) -> bool:
    """Called in the processing transaction for every new inbound message; True when it opted the customer out.
    `words`: the stop words, when the caller read them once for a batch."""
    if message.type in ANSWERABLE and normalise(message.text) in (stop_words() if words is None else words):
        if not contact.marketing_opt_out:
            opt_out_of_marketing(contact, "Customer wrote " + message.text.strip()[:40])
            tracking.on_opt_out(contact.pk, message.created_at, message.context_wamid)
            _confirm(message.conversation, language)
        return True
    tracking.on_reply(contact.pk, message.created_at, message.context_wamid)
    return False


def _confirm(conversation, language: str) -> None:
    from whatsapp import outbound

    try:
        with transaction.atomic():
            outbound.send_text(conversation, confirmation_text(language), automated=True)
    except outbound.SendRefused as refused:
        logger.info("opt-out confirmation not sent: %s", refused.message)
