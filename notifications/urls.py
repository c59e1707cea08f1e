"""/api/v1/notifications: the caller's inbox; /api/v1/users/me/notification-preferences: its e-mails."""

from __future__ import annotations

from django.urls import path

from notifications import api

urlpatterns = [
    path("notifications", api.NotificationsView.as_view(), name="notifications"),
    path("notifications/read-all", api.NotificationsReadAllView.as_view(), name="notifications-read-all"),
    path("notifications/<int:notification_id>/read", api.NotificationReadView.as_view(), name="notification-read"),
    path(
        "users/me/notification-preferences",
        api.NotificationPreferencesView.as_view(),
        name="users-me-notification-preferences",
    ),
]
