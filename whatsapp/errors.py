"""What each Cloud API error code means for us: a plain-language reason, and whether to retry."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class ErrorMeaning:
    reason: str
    retry: bool = False
    retry_after_seconds: int | None = None


MEANINGS: dict[int, ErrorMeaning] = {
    130429: ErrorMeaning(_("WhatsApp's sending limit for this number was reached; retrying."), retry=True),
    131056: ErrorMeaning(_("Too many messages to this customer in a short time; retrying."), retry=True),
    131047: ErrorMeaning(_("More than 24 hours since the customer wrote: use a template.")),
    131026: ErrorMeaning(_("This number cannot receive WhatsApp messages.")),
    131048: ErrorMeaning(_("WhatsApp flagged these messages as spam: the campaign is paused.")),
    131049: ErrorMeaning(
        _("WhatsApp held this marketing message back to protect engagement; try again after 24 hours."),
        retry_after_seconds=24 * 60 * 60,
    ),
    131050: ErrorMeaning(_("The customer stopped marketing messages from this shop.")),
    132000: ErrorMeaning(_("The template's variables do not match it: fix the template mapping.")),
    132001: ErrorMeaning(_("This template does not exist in that language.")),
    132015: ErrorMeaning(_("The template is paused by WhatsApp.")),
    132016: ErrorMeaning(_("The template is disabled by WhatsApp.")),
    190: ErrorMeaning(_("The WhatsApp connection expired: reconnect in Settings.")),
    4: ErrorMeaning(_("WhatsApp's API limit was reached; retrying."), retry=True),
    80007: ErrorMeaning(_("WhatsApp's account limit was reached; retrying."), retry=True),
    1: ErrorMeaning(_("WhatsApp is temporarily unavailable; retrying."), retry=True),
    2: ErrorMeaning(_("WhatsApp is temporarily unavailable; retrying."), retry=True),
}


def meaning(code: int | None, http_status: int | None = None, message: str = "") -> ErrorMeaning:
    if code in MEANINGS:
        return MEANINGS[code]
    if http_status is not None and (http_status >= 500 or http_status == 429):
        return ErrorMeaning(_("WhatsApp is temporarily unavailable; retrying."), retry=True)
    return ErrorMeaning(message or _("WhatsApp refused the message."))
