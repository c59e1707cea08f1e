"""Project.slug becomes a stored field (chosen at creation, seed 004's `myproject` holding
`MYPROJ-99`); existing projects keep the slug they had: their lowercased key.

The column is filled here and made unique in 0003: PostgreSQL refuses to alter a table with
row updates still pending in the same transaction.
"""

from django.db import migrations, models
from django.db.models.functions import Lower


def slug_from_key(apps, schema_editor):
    Project = apps.get_model("projects", "Project")
    Project.objects.update(slug=Lower("key"))


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="project",
            name="slug",
            field=models.CharField(max_length=50, null=True),
        ),
        migrations.RunPython(slug_from_key, migrations.RunPython.noop),
    ]
