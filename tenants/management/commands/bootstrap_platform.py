"""Brings a database to a working platform: migrations, the portal's host, plans, rate card, ready schemas."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from billing import ratecard
from billing.plans import ensure_default_plans
from tenants import provisioning
from tenants.models import Domain, Shop


class Command(BaseCommand):
    help = "Migrate every schema, make sure the platform tenant, plans and the shop pool exist. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--pool", type=int, default=None, help="Ready schemas to keep (default SHOP_POOL_SIZE).")
        parser.add_argument("--skip-migrate", action="store_true")

    def handle(self, *args, pool=None, skip_migrate=False, **options):
        if not skip_migrate:
            call_command("migrate_schemas", interactive=False, verbosity=max(0, options["verbosity"] - 1))
        with transaction.atomic():
            public, _ = Shop.objects.get_or_create(
                schema_name="public", defaults={"name": "Warung CRM platform", "status": Shop.Status.ACTIVE}
            )
            Domain.objects.get_or_create(domain=settings.PLATFORM_HOST, defaults={"tenant": public, "is_primary": True})
            ensure_default_plans()
            ratecard.seed()
        made = provisioning.refill_pool(pool)
        self.stdout.write(f"platform ready on {settings.PLATFORM_DOMAIN}; {made} new ready schema(s)")
