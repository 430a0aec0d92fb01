"""RFM scores move from the contact row to the narrow crm_contactrfm (kept scores are copied over)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0010_contact_phone_prefix_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='ContactRfm',
            fields=[
                ('contact', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='rfm', serialize=False, to='crm.contact')),
                ('recency', models.PositiveSmallIntegerField()),
                ('frequency', models.PositiveSmallIntegerField()),
                ('monetary', models.PositiveSmallIntegerField()),
                ('segment', models.CharField(db_index=True, max_length=20)),
            ],
        ),
        migrations.RunSQL(
            """
            INSERT INTO crm_contactrfm (contact_id, recency, frequency, monetary, segment)
            SELECT id, rfm_recency, rfm_frequency, rfm_monetary, rfm_segment FROM crm_contact
            WHERE rfm_segment <> '' AND rfm_recency IS NOT NULL AND rfm_frequency IS NOT NULL
              AND rfm_monetary IS NOT NULL
            """,
            migrations.RunSQL.noop,
        ),
        migrations.RemoveField(
            model_name='contact',
            name='rfm_frequency',
        ),
        migrations.RemoveField(
            model_name='contact',
            name='rfm_monetary',
        ),
        migrations.RemoveField(
            model_name='contact',
            name='rfm_recency',
        ),
        migrations.RemoveField(
            model_name='contact',
            name='rfm_segment',
        ),
    ]
