"""`manage.py export_shop <slug> <file>`: the operator's copy of everything a shop owns."""

from django.core.management.base import BaseCommand, CommandError

from tenants.models import Shop
from tenants.portability import services


class Command(BaseCommand):
    help = "Writes a shop's data (every table, its members, billing history) into a zip archive."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The shop's subdomain")
        parser.add_argument("file", help="Where to write the .zip")

    def handle(self, *args, slug, file, **options):
        shop = Shop.objects.shops().filter(slug=slug).first()
        if shop is None:
            raise CommandError(f"No shop has the subdomain {slug!r}.")
        with open(file, "wb") as target:
            manifest = services.write_archive(shop, target)
        rows = sum(table["rows"] for table in manifest["tables"].values())
        self.stdout.write(f"Exported {shop.slug}: {rows} rows in {len(manifest['tables'])} tables to {file}")
