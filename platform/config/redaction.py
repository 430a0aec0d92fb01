"""Keeps secrets and customers' phone numbers out of every log line (web, access log, workers).

Django's LOGGING formats with `config.observability.RedactingJsonFormatter`; Celery's and gunicorn's own
handlers get their formatters wrapped (`redact_handlers`), so whatever a library or our code writes is masked
as it is written.
"""

import logging
import re

REDACTED = "[redacted]"

# A phone number: 8 to 15 digits, optionally led by + (or %2B, URL-encoded) or 00 and grouped by single spaces,
# dashes or dots, not part of a longer run of digits. Digits glued to letters are masked too (`wa6281…`, a JSON
# `\u0000628…`), except inside a hex id (a request id, a trace id) or a date.
_PHONE = re.compile(r"(?<![\d+])(?:\+|%2B|00)?(?:\d[ .-]?){7,14}\d(?!\d)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_HEX_ID = re.compile(r"(?=[0-9]*[a-f])[0-9a-f]{16,}")

_PATTERNS = [
    # One-time secrets carried in paths: login handoffs, invitations, password-reset links.
    (re.compile(r"(/(?:auth/handoff|invitations|password-reset)/)[^/\s'\"?]+"), r"\1[token]"),
    (re.compile(r"(/reset-password/)[^/\s\"?]+/[^/\s\"?]+"), r"\1[token]"),
    # Query values that can be a phone number, an e-mail address or a secret (a contact search, a verify token).
    (
        re.compile(
            r"([?&](?:q|search|phone|email|token|access_token|app_secret|hub\.verify_token|password)=)[^&\s\"'<>]*"
        ),
        rf"\1{REDACTED}",
    ),
    # Credentials: our API tokens, Authorization headers, Stripe keys, Meta access tokens.
    (
        re.compile(
            r"(?i)(?:\bBearer\s+[\w.~+/=-]+|\bwrg_[\w-]+|\b(?:sk|rk|whsec|pk)_(?:test|live)?_?\w{6,}|\bEAA[A-Za-z0-9]{20,})"
        ),
        "[token]",
    ),
]


def _phone(match: re.Match) -> str:
    text, start, end = match.string, match.start(), match.end()
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    if _DATE.match(match.group()) or _HEX_ID.fullmatch(text[start:end]):
        return match.group()
    return "[phone]"


def redact(text: str) -> str:
    """The text with phone numbers and credentials (one-time links and secret query values included) masked."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return _PHONE.sub(_phone, text)


class RedactingFormatter(logging.Formatter):
    """Formats as the formatter it wraps would, then masks the line (message, extras, traceback).

    The record itself is left as it is: other handlers read it too (Sentry's scrubs its own way)."""

    def __init__(self, inner: logging.Formatter | None):
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


def redact_handlers(*loggers: logging.Logger) -> None:
    """Wraps the formatters of these loggers' handlers (root by default) in the redaction, once."""
    for logger in loggers or (logging.getLogger(),):
        for handler in logger.handlers:
            if not isinstance(handler.formatter, RedactingFormatter):
                handler.setFormatter(RedactingFormatter(handler.formatter))
