"""In-app notifications: what a user should look at (mentions, DMs, assignments, watched tickets,
due dates), and how each user wants them by e-mail.

Other apps create them through `notifications.services.notify`; this app knows nothing of
tickets or chat beyond the URL and the data they hand over.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from projects.models import Project


class Notification(models.Model):
    """Something a user should look at: a mention, a DM, an assignment, a watched ticket."""

    class Kind(models.TextChoices):
        MENTION = "mention", "Mention"
        DM = "dm", "Direct message"
        ASSIGNED = "assigned", "Assigned"
        WATCHED = "watched", "Watched ticket"
        DUE = "due", "Due tomorrow"

    class Email(models.TextChoices):
        """Where the notification stands on its way to the recipient's inbox."""

        PENDING = "pending", "Not decided yet"
        DIGEST = "digest", "Waiting for the daily digest"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Not sent (read, off, or nothing to send)"
        FAILED = "failed", "Sending failed"

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.CharField(max_length=500)
    url = models.CharField(max_length=500, blank=True)
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    data = models.JSONField(default=dict, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The Markdown that was said (a comment, a message), cut short: quoted in the e-mail only.
    snippet = models.TextField(blank=True)
    email = models.CharField(max_length=10, choices=Email.choices, default=Email.PENDING)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at", "id"], name="notification_inbox"),
            # The e-mail sweeps read only the few rows still on their way.
            models.Index(
                fields=["email", "created_at"],
                name="notification_email_queue",
                condition=models.Q(email__in=["pending", "digest"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}"


class NotificationPreference(models.Model):
    """How one user wants one kind of notification by e-mail; no row means the kind's default."""

    class Delivery(models.TextChoices):
        INSTANT = "instant", "Right away"
        DIGEST = "digest", "Daily digest"
        OFF = "off", "Off"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=20, choices=Notification.Kind.choices)
    delivery = models.CharField(max_length=10, choices=Delivery.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_once")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.delivery}"


# What a user gets before choosing: a mention, an assignment, a DM and a due date concern them
# directly; every comment on every watched ticket would flood an inbox, so those wait for the digest.
DEFAULT_DELIVERY: dict[str, str] = {
    str(kind): str(delivery)
    for kind, delivery in (
        (Notification.Kind.MENTION, NotificationPreference.Delivery.INSTANT),
        (Notification.Kind.ASSIGNED, NotificationPreference.Delivery.INSTANT),
        (Notification.Kind.WATCHED, NotificationPreference.Delivery.DIGEST),
        (Notification.Kind.DM, NotificationPreference.Delivery.INSTANT),
        (Notification.Kind.DUE, NotificationPreference.Delivery.INSTANT),
    )
}
