"""Rebuilds the analytics rollups of shops (after a bulk load past the services, or a change of time zone)."""

from django.core.management.base import BaseCommand
from django_tenants.utils import tenant_context

from crm.services.rollups import rebuild_daily_rollups
from tenants.models import Shop


class Command(BaseCommand):
    help = "Recompute the daily analytics rollups from the contacts and orders, in each shop's time zone."

    def add_arguments(self, parser):
        parser.add_argument("--schema", action="append", default=[], help="Only this shop schema (repeatable).")

    def handle(self, *args, schema=(), **options):
        shops = Shop.objects.exclude(schema_name="public").exclude(schema_name__isnull=True).order_by("schema_name")
        if schema:
            shops = shops.filter(schema_name__in=schema)
        for shop in shops:
            with tenant_context(shop):
                counts = rebuild_daily_rollups()
            self.stdout.write(f"{shop.schema_name}: {counts}")
