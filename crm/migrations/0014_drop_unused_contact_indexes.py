"""Contact indexes no query uses, dropped: the planner opens every index of a table it plans for.

A database connection does that work (reading each index's catalog rows) the first time it meets a shop's
schema, and with a thousand shops almost every inbox view is such a first time. Dropped:

- the `varchar_pattern_ops` twins Django adds to unique text columns (phone, wa_id, business_user_id) for
  `LIKE 'prefix%'`: no query matches a prefix of these columns (phone fragments are searched in
  `phone_digits`), and equality is served by the unique index itself;
- `contact_city_idx`: city filters compare `upper(city)`, which a plain column index cannot serve.
"""

from django.db import migrations

LIKE_TWINS = [
    ("crm_contact_phone_ada5db8c_like", "phone"),
    ("crm_contact_wa_id_5a83f003_like", "wa_id"),
    ("crm_contact_business_user_id_a73c6a2c_like", "business_user_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0013_contact_erased_at"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="contact",
            name="contact_city_idx",
        ),
        migrations.RunSQL(
            [f"DROP INDEX IF EXISTS {name}" for name, _column in LIKE_TWINS],
            [
                f"CREATE INDEX IF NOT EXISTS {name} ON crm_contact ({column} varchar_pattern_ops)"
                for name, column in LIKE_TWINS
            ],
        ),
    ]
