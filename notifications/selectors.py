"""Reads of a user's own notifications; each loads the actor the serializer shows."""

from __future__ import annotations

from typing import Any

from notifications.models import Notification
from punt.errors import NotFound


def notification_list(
    *, user: Any, unread_only: bool = False, before: int | None = None, limit: int
) -> tuple[list[Notification], bool]:
    """A page of `user`'s notifications, newest first, and whether older ones remain."""
    queryset = Notification.objects.filter(recipient=user).select_related("actor")
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    if before is not None:
        queryset = queryset.filter(id__lt=before)
    rows = list(queryset.order_by("-id")[: limit + 1])
    return rows[:limit], len(rows) > limit


def notification_unread_count(*, user: Any) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_get(*, user: Any, notification_id: int) -> Notification:
    """One of `user`'s notifications; anyone else's is NotFound."""
    notification = Notification.objects.select_related("actor").filter(recipient=user, pk=notification_id).first()
    if notification is None:
        raise NotFound("Notification not found.")
    return notification
