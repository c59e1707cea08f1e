"""E-mail delivery: per-user preferences, and where each notification stands on its way out.

Rows that exist already are marked skipped: they predate e-mail, and nobody wants a flood of
old notifications the day the feature ships. New rows start pending.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_notification_inbox"),
        ("projects", "0003_project_slug_unique_organization_default_project"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="NotificationPreference",
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
                            ("due", "Due tomorrow"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "delivery",
                    models.CharField(
                        choices=[("instant", "Right away"), ("digest", "Daily digest"), ("off", "Off")], max_length=10
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="notification",
            name="email",
            field=models.CharField(
                choices=[
                    ("pending", "Not decided yet"),
                    ("digest", "Waiting for the daily digest"),
                    ("sent", "Sent"),
                    ("skipped", "Not sent (read, off, or nothing to send)"),
                    ("failed", "Sending failed"),
                ],
                default="skipped",
                max_length=10,
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="email",
            field=models.CharField(
                choices=[
                    ("pending", "Not decided yet"),
                    ("digest", "Waiting for the daily digest"),
                    ("sent", "Sent"),
                    ("skipped", "Not sent (read, off, or nothing to send)"),
                    ("failed", "Sending failed"),
                ],
                default="pending",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="snippet",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="notification",
            name="emailed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="notification",
            name="kind",
            field=models.CharField(
                choices=[
                    ("mention", "Mention"),
                    ("dm", "Direct message"),
                    ("assigned", "Assigned"),
                    ("watched", "Watched ticket"),
                    ("due", "Due tomorrow"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("email__in", ["pending", "digest"])),
                fields=["email", "created_at"],
                name="notification_email_queue",
            ),
        ),
        migrations.AddField(
            model_name="notificationpreference",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="notification_preferences",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="notificationpreference",
            constraint=models.UniqueConstraint(fields=("user", "kind"), name="notification_preference_once"),
        ),
    ]
