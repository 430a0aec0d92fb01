"""Trigram indexes that `icontains` can use: Django compares UPPER(column), so index that expression.

Replaces the plain column indexes of 0003, which a case-insensitive search never used. Created only
where pg_trgm is available (see 0003).
"""

from django.db import migrations

NEW = [
    ("contact_name_upper_trgm", "crm_contact", "name"),
    ("contact_email_upper_trgm", "crm_contact", "email"),
    ("product_name_upper_trgm", "crm_product", "name"),
]
OLD = ["contact_name_trgm", "product_name_trgm"]


def create(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            return
        for name in OLD:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
        for name, table, column in NEW:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (upper({column}::text) public.gin_trgm_ops)"
            )


def drop(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for name, _table, _column in NEW:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("crm", "0006_analytics_indexes")]

    operations = [migrations.RunPython(create, drop)]
