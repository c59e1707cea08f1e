from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("tickets", "0009_label_count_indexes")]

    operations = []
