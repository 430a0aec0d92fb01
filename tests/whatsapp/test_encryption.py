"""Key rotation: a new key first, rotate, and the old key can go."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from config import encryption
from whatsapp.channel.models import WhatsAppAccount

pytestmark = pytest.mark.django_db


def test_rotating_keys_keeps_secrets_readable(wa_a, settings):
    old_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    new_key = Fernet.generate_key().decode()
    try:
        settings.FIELD_ENCRYPTION_KEYS = [new_key, *old_keys]
        encryption._box.cache_clear()
        call_command("rotate_encryption_keys", verbosity=0)
        settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is retired
        encryption._box.cache_clear()
        account = WhatsAppAccount.objects.get(phone_number_id=wa_a.number)
        assert (account.access_token, account.app_secret) == (wa_a.token, wa_a.secret)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT access_token FROM public.whatsapp_channel_whatsappaccount WHERE id = %s", [account.pk]
            )
            assert Fernet(new_key.encode()).decrypt(cursor.fetchone()[0].encode()).decode() == wa_a.token
    finally:
        settings.FIELD_ENCRYPTION_KEYS = old_keys
        encryption._box.cache_clear()
