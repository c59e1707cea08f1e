"""The indexes that serve the list filters teams use (issue 20; bench/README.md explains each)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("tickets", "0006_saved_view")]

    operations = [
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                models.F("project"),
                models.F("assignee"),
                models.Case(
                    models.When(priority="low", then=models.Value(0)),
                    models.When(priority="medium", then=models.Value(1)),
                    models.When(priority="high", then=models.Value(2)),
                    models.When(priority="urgent", then=models.Value(3)),
                    default=models.Value(1),
                    output_field=models.IntegerField(),
                ),
                models.F("id"),
                condition=models.Q(("deleted_at__isnull", True), ("state", "opened")),
                name="ticket_open_assignee_prio",
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", True), ("state", "opened")),
                fields=["project", "updated_at", "id"],
                name="ticket_open_updated",
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", True)),
                fields=["project", "due_date", "id"],
                name="ticket_live_due",
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", True)),
                fields=["project", "sprint", "rank", "id"],
                name="ticket_live_sprint_rank",
            ),
        ),
    ]
