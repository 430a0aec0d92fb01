"""`manage.py restore_shop <file> --subdomain new-slug`: an export becomes a new shop with the same content."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from tenants.portability import services
from tenants.services.errors import ServiceError


class Command(BaseCommand):
    help = "Restores a shop export into a new shop (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="A .zip written by export_shop or the dashboard")
        parser.add_argument("--subdomain", required=True, help="The new shop's subdomain")

    def handle(self, *args, file, subdomain, **options):
        try:
            with open(file, "rb") as source, translation.override("en"):
                restored = services.restore_shop(source, subdomain)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from exc
        except ServiceError as exc:
            raise CommandError(f"Nothing was restored: {exc.message}") from exc
        self.stdout.write(f"Restored {restored.rows} rows into {restored.shop.url}")
        for email in restored.people_not_found:
            self.stdout.write(f"Not a member (no account with this email here): {email}")
