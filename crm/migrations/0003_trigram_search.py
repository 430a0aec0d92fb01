"""Trigram indexes for contact and product search, where the pg_trgm extension is available.

The extension goes into `public`, which every shop's search_path includes, so one installation
serves all schemas. The embedded development PostgreSQL (pgserver) ships without contrib
extensions: there search still works, by sequential scan.
"""

from django.db import migrations

INDEXES = [
    ("contact_name_trgm", "crm_contact", "name"),
    ("contact_phone_digits_trgm", "crm_contact", "phone_digits"),
    ("product_name_trgm", "crm_product", "name"),
]


def trigram_available(cursor) -> bool:
    cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    return cursor.fetchone() is not None


def create(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if not trigram_available(cursor):
            return
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
        for name, table, column in INDEXES:
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} public.gin_trgm_ops)")


def drop(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for name, _table, _column in INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("crm", "0002_attributedefinition_label_order_orderitem_product_and_more")]

    operations = [migrations.RunPython(create, drop)]
