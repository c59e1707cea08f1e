"""In-app notifications: what a user should look at (mentions, DMs, assignments, watched tickets).

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

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["recipient", "read_at", "id"], name="notification_inbox")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}"
