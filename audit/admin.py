from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from audit.models import SHOWN_FIELDS, AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: entries are written by audit_record() and removed only by the retention prune."""

    list_display = ("at", "actor_name", "action", "target_repr", "project_name", "ip")
    list_filter = ("action", ("at", admin.DateFieldListFilter), "actor_name", "target_type")
    search_fields = ("actor_name", "action", "target_repr", "project_name", "ip", "target_id")
    date_hierarchy = "at"
    list_select_related = False
    show_full_result_count = False
    readonly_fields = SHOWN_FIELDS
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
