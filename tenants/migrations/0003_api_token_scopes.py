import django.contrib.postgres.fields
from django.db import migrations, models

# Every permission there was when scopes came in: tokens made before then keep the full access they had.
SCOPES_AT_INTRODUCTION = [
    "contacts:read", "contacts:write", "orders:read", "orders:write", "deals:read", "deals:write",
    "messages:read", "messages:send", "broadcasts:read", "broadcasts:write", "whatsapp:read", "whatsapp:write",
    "analytics:read", "billing:read", "team:read",
]  # fmt: skip


def grant_existing_tokens_full_access(apps, schema_editor):
    apps.get_model("tenants", "ApiToken").objects.update(scopes=SCOPES_AT_INTRODUCTION)


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0002_shop_deletion_audit"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="scopes",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(max_length=40), blank=True, default=list, size=None
            ),
        ),
        migrations.RunPython(grant_existing_tokens_full_access, migrations.RunPython.noop),
    ]
