"""Turning a broadcast's template and variable mapping into the message one recipient gets.

WhatsApp refuses a template whose parameter is empty, so every value taken from a contact has a fallback
("Kak" when a customer has no first name) and the send never breaks on missing data.
"""

from django.utils.translation import gettext as _

from tenants.services.errors import ServiceError
from whatsapp.models import MessageTemplate

# Contact fields a variable can take, with how to read each from a contact row.
CONTACT_FIELDS = {
    "first_name": lambda contact: (contact.name or "").split(" ")[0],
    "name": lambda contact: contact.name,
    "city": lambda contact: contact.city,
    "email": lambda contact: contact.email,
    "phone": lambda contact: contact.phone,
}
SOURCES = ("field", "attribute", "text")
MEDIA_HEADERS = {"IMAGE": "image", "VIDEO": "video", "DOCUMENT": "document"}


def header_format(template: MessageTemplate) -> str | None:
    """`image`, `video` or `document` when the template's header needs media from the sender."""
    for component in template.components or []:
        if str(component.get("type", "")).upper() == "HEADER":
            return MEDIA_HEADERS.get(str(component.get("format", "")).upper())
    return None


def clean_variables(template: MessageTemplate, variables, header_media_url: str = "") -> list[dict]:
    """The mapping as stored: one entry per template variable, each readable and with a fallback."""
    variables = list(variables or [])
    if len(variables) != template.parameter_count:
        raise ServiceError(
            _("This template has %(count)d variable(s): map each one.") % {"count": template.parameter_count},
            field="variables",
        )
    cleaned = []
    for number, variable in enumerate(variables, 1):
        if not isinstance(variable, dict) or variable.get("source") not in SOURCES:
            raise ServiceError(_("Variable {{%(n)d}}: choose where its value comes from.") % {"n": number},
                               field="variables")  # fmt: skip
        source, value = variable["source"], str(variable.get("value") or "").strip()
        fallback = str(variable.get("fallback") or "").strip()
        if source == "field" and value not in CONTACT_FIELDS:
            raise ServiceError(_("Variable {{%(n)d}}: unknown contact field.") % {"n": number}, field="variables")
        if source == "text" and not value:
            raise ServiceError(_("Variable {{%(n)d}}: type the text.") % {"n": number}, field="variables")
        if source != "text" and not fallback:
            raise ServiceError(
                _("Variable {{%(n)d}}: give a fallback for contacts without this value.") % {"n": number},
                field="variables",
            )
        cleaned.append({"source": source, "value": value[:200], "fallback": fallback[:200]})
    if header_format(template) and not header_media_url:
        raise ServiceError(_("This template's header needs a photo, video or file link."), field="header_media_url")
    return cleaned


def values_for(variables: list[dict], contact) -> list[str]:
    """The text of each variable for one contact (any object with the contact's fields and `attributes`)."""
    values = []
    for variable in variables:
        if variable["source"] == "text":
            value = variable["value"]
        elif variable["source"] == "field":
            value = CONTACT_FIELDS[variable["value"]](contact)
        else:
            value = (getattr(contact, "attributes", None) or {}).get(variable["value"])
        value = " ".join(str(value if value is not None else "").split())  # WhatsApp refuses newlines and tabs
        values.append(value[:1000] or variable.get("fallback") or "-")
    return values


def text_for(template: MessageTemplate, values: list[str]) -> str:
    text = template.body_text
    for number, value in enumerate(values, 1):
        text = text.replace(f"{{{{{number}}}}}", value)
    return text


def template_object(template: MessageTemplate, values: list[str], header_media_url: str = "") -> dict:
    """The `template` object of a Cloud API send."""
    components = []
    media = header_format(template)
    if media and header_media_url:
        components.append({"type": "header", "parameters": [{"type": media, media: {"link": header_media_url}}]})
    if values:
        components.append({"type": "body", "parameters": [{"type": "text", "text": value} for value in values]})
    return {"name": template.name, "language": {"code": template.language}, "components": components}
