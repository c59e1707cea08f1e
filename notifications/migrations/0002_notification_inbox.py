"""The inbox index, added once chat.0002 has dropped the old table that held its name."""

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0002_move_notification_to_notifications"),
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(fields=["recipient", "read_at", "id"], name="notification_inbox"),
        ),
    ]
