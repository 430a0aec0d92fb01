"""The inbox list's own index (status, newest first) instead of a lone `status` index and its LIKE twin."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("whatsapp", "0003_auto_reply_list"),
    ]

    operations = [
        migrations.AlterField(
            model_name="conversation",
            name="status",
            field=models.CharField(choices=[("open", "Open"), ("closed", "Closed")], default="open", max_length=8),
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(fields=["status", "-last_message_at", "-id"], name="conversation_inbox_idx"),
        ),
    ]
