"""Secrets at rest (WhatsApp tokens and app secrets): Fernet with key rotation.

FIELD_ENCRYPTION_KEYS lists keys newest first; everything is encrypted with the first and
decrypted with any, so a new key can be added before old rows are re-encrypted
(`manage.py rotate_encryption_keys`). cryptography's MultiFernet does the work; the model
field below only keeps the database from ever seeing clear text.
"""

from functools import cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.db import models


@cache
def _box() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in settings.FIELD_ENCRYPTION_KEYS])


def encrypt(plain: str) -> str:
    return _box().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    return _box().decrypt(token.encode()).decode()


def rotate(token: str) -> str:
    """Re-encrypts with the newest key."""
    return _box().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """Stores Fernet tokens, hands Python code clear text. Not searchable, by design."""

    def from_db_value(self, value, expression, connection):
        return None if value in (None, "") else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return value if value in (None, "") else encrypt(value)
