"""Reading the audit log: one filtered queryset for every surface (admin API, project settings)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from audit.models import AuditEntry


def audit_entries(
    *,
    project_id: int | None = None,
    action: str = "",
    actor: str = "",
    target_type: str = "",
    start: datetime | None = None,
    end: datetime | None = None,
) -> QuerySet[AuditEntry]:
    """Entries, newest first, narrowed by what is given.

    `action` matches a whole name ("member.added") or a family ending in a dot ("member.");
    `actor` is a user name (as recorded, case-insensitive); `end` is exclusive. The caller
    has checked who may read them (site admin, or the project's admin for `project_id`).
    """
    entries = AuditEntry.objects.all()
    if project_id is not None:
        entries = entries.filter(project_id=project_id)
    if action:
        entries = entries.filter(action__startswith=action) if action.endswith(".") else entries.filter(action=action)
    if actor:
        entries = entries.filter(actor_name__iexact=actor)
    if target_type:
        entries = entries.filter(target_type=target_type)
    if start is not None:
        entries = entries.filter(at__gte=start)
    if end is not None:
        entries = entries.filter(at__lt=end)
    return entries.order_by("-at", "-id")
