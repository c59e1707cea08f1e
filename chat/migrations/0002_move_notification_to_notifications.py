"""Notifications live in their own app now: notifications.0001 has copied the rows over."""

from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0001_initial"),
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.DeleteModel(name="Notification"),
    ]
