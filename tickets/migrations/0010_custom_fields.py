from __future__ import annotations

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0009_label_count_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CustomField",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.SlugField()),
                ("name", models.CharField(max_length=100)),
                ("description", models.TextField(blank=True, max_length=2000)),
                (
                    "type",
                    models.CharField(
                        choices=[
                            ("text", "Text"),
                            ("long_text", "Long text (Markdown)"),
                            ("number", "Number"),
                            ("date", "Date"),
                            ("select", "Single select"),
                            ("multi_select", "Multi select"),
                            ("user", "User"),
                            ("checkbox", "Checkbox"),
                            ("url", "URL"),
                        ],
                        max_length=20,
                    ),
                ),
                ("unit", models.CharField(blank=True, help_text="Shown after a number (h, EUR, %).", max_length=20)),
                ("required", models.BooleanField(default=False)),
                ("default", models.JSONField(blank=True, null=True)),
                ("show_on_card", models.BooleanField(default=False)),
                ("position", models.PositiveIntegerField(default=0)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("deleted_at", models.DateTimeField(blank=True, null=True)),
                (
                    "deleted_by",
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
                        on_delete=django.db.models.deletion.CASCADE, related_name="custom_fields", to="projects.project"
                    ),
                ),
            ],
            options={
                "ordering": ["position", "id"],
            },
        ),
        migrations.CreateModel(
            name="CustomFieldOption",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100)),
                ("color", models.CharField(default="#6b7280", max_length=7)),
                ("position", models.PositiveIntegerField(default=0)),
                (
                    "field",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="options", to="tickets.customfield"
                    ),
                ),
            ],
            options={
                "ordering": ["position", "id"],
            },
        ),
        migrations.CreateModel(
            name="CustomFieldValue",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("text", models.TextField(blank=True, null=True)),
                ("number", models.FloatField(blank=True, null=True)),
                ("date", models.DateField(blank=True, null=True)),
                ("flag", models.BooleanField(blank=True, null=True)),
                (
                    "field",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="values", to="tickets.customfield"
                    ),
                ),
                (
                    "option",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tickets.customfieldoption",
                    ),
                ),
                (
                    "ticket",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="custom_values", to="tickets.ticket"
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="customfield",
            index=models.Index(fields=["project", "deleted_at", "position"], name="customfield_project"),
        ),
        migrations.AddConstraint(
            model_name="customfield",
            constraint=models.UniqueConstraint(
                condition=models.Q(("deleted_at__isnull", True)), fields=("project", "key"), name="customfield_live_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="customfieldoption",
            constraint=models.UniqueConstraint(fields=("field", "name"), name="customfieldoption_name"),
        ),
        migrations.AddIndex(
            model_name="customfieldvalue",
            index=models.Index(fields=["ticket", "field"], name="cfvalue_ticket"),
        ),
        migrations.AddIndex(
            model_name="customfieldvalue",
            index=models.Index(fields=["field", "option", "ticket"], name="cfvalue_option"),
        ),
        migrations.AddIndex(
            model_name="customfieldvalue",
            index=models.Index(fields=["field", "number", "ticket"], name="cfvalue_number"),
        ),
        migrations.AddIndex(
            model_name="customfieldvalue",
            index=models.Index(fields=["field", "date", "ticket"], name="cfvalue_date"),
        ),
        migrations.AddIndex(
            model_name="customfieldvalue",
            index=models.Index(fields=["field", "user", "ticket"], name="cfvalue_user"),
        ),
        migrations.AddIndex(
            model_name="customfieldvalue",
            index=models.Index(fields=["field", "flag", "ticket"], name="cfvalue_flag"),
        ),
    ]
