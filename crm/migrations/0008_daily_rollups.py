"""Daily rollups for the analytics dashboard (crm.services.rollups), backfilled in the shop's zone."""

from django.db import migrations, models


def backfill(apps, schema_editor):
    """Fills the rollups of a shop that already has data; an empty or pooled schema has nothing to add."""
    from crm.services.rollups import rebuild_tables

    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT time_zone FROM public.tenants_shop WHERE schema_name = current_schema()")
        row = cursor.fetchone()
        cursor.execute("SELECT EXISTS (SELECT 1 FROM crm_contact)")
        has_data = cursor.fetchone()[0]
    if row is None or not has_data:
        return
    rebuild_tables(row[0])
    settings = apps.get_model("crm", "ShopSettings")
    if not settings.objects.update(rollup_time_zone=row[0]):
        settings.objects.create(rollup_time_zone=row[0])


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0007_search_upper_trgm'),
    ]

    operations = [
        migrations.CreateModel(
            name='DailyStats',
            fields=[
                ('day', models.DateField(primary_key=True, serialize=False)),
                ('new_contacts', models.IntegerField(default=0, help_text='Contacts created that day, merged ones left out')),
                ('orders', models.IntegerField(default=0, help_text='Orders placed that day, cancelled ones left out')),
                ('revenue', models.BigIntegerField(default=0, help_text='Their totals, minor units')),
                ('new_customers', models.IntegerField(default=0, help_text='Customers whose first order was that day')),
            ],
        ),
        migrations.CreateModel(
            name='OrderSequence',
            fields=[
                ('pk', models.CompositePrimaryKey('day', 'previous_day', 'ordinal', blank=True, editable=False, primary_key=True, serialize=False)),
                ('day', models.DateField()),
                ('previous_day', models.DateField(help_text="The day of the customer's previous order; the day itself for a first")),
                ('ordinal', models.PositiveSmallIntegerField(help_text='1 first order, 2 second, 3 third or later')),
                ('orders', models.IntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name='ProductDay',
            fields=[
                ('pk', models.CompositePrimaryKey('day', 'product_id', blank=True, editable=False, primary_key=True, serialize=False)),
                ('day', models.DateField()),
                ('product_id', models.BigIntegerField()),
                ('quantity', models.BigIntegerField(default=0)),
                ('revenue', models.BigIntegerField(default=0)),
            ],
        ),
        migrations.AddField(
            model_name='shopsettings',
            name='rollup_time_zone',
            field=models.CharField(blank=True, help_text='The zone whose local days the daily rollups were built in', max_length=64),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
