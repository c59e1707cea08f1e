"""Full-text search of tickets (issue 20)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("tickets", "0007_list_filter_indexes")]

    operations = []
