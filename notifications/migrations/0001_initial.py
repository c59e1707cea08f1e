"""Notifications move out of chat into their own app, rows and ids kept.

The new table is created, every row is copied over with one INSERT ... SELECT (ids,
timestamps and JSON as they are), and the id sequence is moved past the copied ids.
chat.0002 then drops the old table and notifications.0002 adds the inbox index (its name
was taken by the old table's until then). Unapplying copies the rows back the same way.
Table and column names come from the models' _meta, never literals.
"""

from __future__ import annotations

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.core.management.color import no_style
from django.db import migrations, models


def _copy_rows(apps: Any, schema_editor: Any, *, source: tuple[str, str], target: tuple[str, str]) -> None:
    source_model = apps.get_model(*source)
    target_model = apps.get_model(*target)
    quote = schema_editor.quote_name
    columns = ", ".join(quote(field.column) for field in target_model._meta.concrete_fields)
    schema_editor.execute(
        f"INSERT INTO {quote(target_model._meta.db_table)} ({columns}) "
        f"SELECT {columns} FROM {quote(source_model._meta.db_table)}"
    )
    # Explicit ids leave PostgreSQL's sequence at 1; the next notification would collide.
    for sql in schema_editor.connection.ops.sequence_reset_sql(no_style(), [target_model]):
        schema_editor.execute(sql)


def copy_from_chat(apps: Any, schema_editor: Any) -> None:
    _copy_rows(apps, schema_editor, source=("chat", "Notification"), target=("notifications", "Notification"))


def copy_back_to_chat(apps: Any, schema_editor: Any) -> None:
    _copy_rows(apps, schema_editor, source=("notifications", "Notification"), target=("chat", "Notification"))


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("chat", "0001_initial"),
        ("projects", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Notification",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("mention", "Mention"),
                            ("dm", "Direct message"),
                            ("assigned", "Assigned"),
                            ("watched", "Watched ticket"),
                        ],
                        max_length=20,
                    ),
                ),
                ("text", models.CharField(max_length=500)),
                ("url", models.CharField(blank=True, max_length=500)),
                ("data", models.JSONField(blank=True, default=dict)),
                ("read_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="projects.project",
                    ),
                ),
                (
                    "recipient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notifications",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-id"],
            },
        ),
        migrations.RunPython(copy_from_chat, copy_back_to_chat),
    ]
