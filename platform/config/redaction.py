"""Keeps secrets and customers' phone numbers out of every log line (web, access log, workers).

Applied as a logging filter to the log handlers (Django's LOGGING, Celery's, gunicorn's access and error
logs), so whatever a library or our own code writes passes through it before it is written.
"""

import logging
import re

REDACTED = "[redacted]"

# A phone number: 8 to 15 digits, optionally led by + (or %2B, URL-encoded) or 00 and grouped by single spaces,
# dashes or dots, not part of a longer word or number (a hex request id, a wamid); a date is not a phone.
_PHONE = re.compile(r"(?<![\w.+%])(?:\+|%2B|00)?(?:\d[ .-]?){7,14}\d(?![\w])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

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
    return match.group() if _DATE.match(match.group()) else "[phone]"


def redact(text: str) -> str:
    """The text with phone numbers and credentials (one-time links and secret query values included) masked."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return _PHONE.sub(_phone, text)


# What every LogRecord has; anything else on a record is an `extra` that a formatter may print.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class RedactFilter(logging.Filter):
    """Rewrites the record's message, its extras (Django's `request` prints its path and query) and any
    traceback text with secrets and phone numbers replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in vars(record).items():
            if key in _STANDARD or value is None or isinstance(value, int | float | bool | dict | list | tuple):
                continue
            setattr(record, key, redact(str(value)))
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: logged as it is, not dropped
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def redact_handlers(*loggers: logging.Logger) -> None:
    """Puts the filter on the handlers of these loggers (root by default), once."""
    for logger in loggers or (logging.getLogger(),):
        for handler in logger.handlers:
            if not any(isinstance(existing, RedactFilter) for existing in handler.filters):
                handler.addFilter(RedactFilter())
