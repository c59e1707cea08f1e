"""Notifications are written only by the services: the admin shows them and may delete a stale one."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from notifications.models import Notification, NotificationPreference


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("id", "recipient", "kind", "actor", "text", "created_at", "read_at", "email")
    list_filter = ("kind", "email", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("text", "recipient__username", "actor__username")
    list_select_related = ("recipient", "actor")
    raw_id_fields = ("recipient", "actor", "project")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    """A user's e-mail choices (they change them in their settings; an admin may, on request)."""

    list_display = ("user", "kind", "delivery")
    list_filter = ("kind", "delivery")
    search_fields = ("user__username", "user__email")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
