"""Re-encrypts stored WhatsApp credentials with the newest key of FIELD_ENCRYPTION_KEYS."""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from config.encryption import rotate


class Command(BaseCommand):
    help = "After putting a new key first in FIELD_ENCRYPTION_KEYS: re-encrypt every stored secret with it."

    def handle(self, *args, **options):
        table = "public.whatsapp_channel_whatsappaccount"
        rotated = 0
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT id, access_token, app_secret FROM {table} FOR UPDATE")
            for pk, token, secret in cursor.fetchall():
                cursor.execute(
                    f"UPDATE {table} SET access_token = %s, app_secret = %s WHERE id = %s",
                    [rotate(token), rotate(secret), pk],
                )
                rotated += 1
        self.stdout.write(f"re-encrypted the credentials of {rotated} WhatsApp account(s)")
