"""Project.slug unique and required (filled from the key in 0002); Organization.default_project:
where AgentsMesh creates without `repository_id` go (seed 002)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0002_project_slug"),
    ]

    operations = [
        migrations.AlterField(
            model_name="project",
            name="slug",
            field=models.CharField(
                help_text="URL form in /api/v1/projects/<slug>: lowercase letters, digits, dashes; immutable.",
                max_length=50,
                unique=True,
            ),
        ),
        migrations.AddField(
            model_name="organization",
            name="default_project",
            field=models.ForeignKey(
                blank=True,
                help_text="Tickets created without a repository go here; empty: the organization's first project.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="projects.project",
            ),
        ),
    ]
