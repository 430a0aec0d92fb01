"""Every shop starts with the default pipeline: Prospek, Dihubungi, Negosiasi, Menang, Kalah."""

from django.db import migrations

DEFAULT_STAGES = [
    ("Prospek", "open", False),
    ("Dihubungi", "open", True),
    ("Negosiasi", "open", True),
    ("Menang", "won", True),
    ("Kalah", "lost", False),
]


def seed(apps, schema_editor):
    Stage = apps.get_model("crm", "Stage")
    ShopSettings = apps.get_model("crm", "ShopSettings")
    if not Stage.objects.exists():
        for position, (name, kind, contacted) in enumerate(DEFAULT_STAGES):
            Stage.objects.create(name=name, kind=kind, position=position, counts_as_contacted=contacted)
    if not ShopSettings.objects.exists():
        ShopSettings.objects.create()


class Migration(migrations.Migration):
    dependencies = [("crm", "0003_trigram_search")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
