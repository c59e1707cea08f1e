"""The one place that answers "may this user do this to this project".

Roles: owner > admin > member > viewer (seed 001). Site admins (is_staff) see every
project and act with admin rights. Anyone else who is not a member gets 404, never 403,
so a private project's existence does not leak.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from projects.models import Membership, Project
from punt.errors import Forbidden, NotFound

Role = Membership.Role
RANK = Membership.RANK

# What each action needs (seed 001's matrix).
READ = Role.VIEWER  # see the project, board, tickets, chat
WRITE = Role.MEMBER  # edit tickets, sprints, labels, comment, chat
MANAGE = Role.ADMIN  # update the project, columns, members (not the owner), webhooks
OWN = Role.OWNER  # delete, transfer ownership


def role_of(user: Any, project: Project) -> str | None:
    """The user's effective role in `project`, or None if they may not see it."""
    if user is None or not user.is_authenticated:
        return None
    role = getattr(project, "_role_cache", {}).get(user.pk, "missing")
    if role == "missing":
        role = Membership.objects.filter(project=project, user=user).values_list("role", flat=True).first()
        remember_role(user, project, role)
    if role is None and user.is_staff:
        return Role.ADMIN
    if role is not None and user.is_staff and RANK[Role(role)] < RANK[Role.ADMIN]:
        return Role.ADMIN
    return role


def remember_role(user: Any, project: Project, role: str | None) -> None:
    """Record the user's membership role (None: not a member) read along with the project."""
    project.__dict__.setdefault("_role_cache", {})[user.pk] = role


def has_role(user: Any, project: Project, needed: str) -> bool:
    role = role_of(user, project)
    return role is not None and RANK[Role(role)] >= RANK[Role(needed)]


def check_role(user: Any, project: Project, needed: str) -> str:
    """Raise 404 for outsiders and 403 for members below `needed`; return the role."""
    role = role_of(user, project)
    if role is None:
        raise NotFound()
    if RANK[Role(role)] < RANK[Role(needed)]:
        raise Forbidden(f"This needs the {Role(needed).label.lower()} role in this project.")
    return role


def visible_projects(user: Any, *, include_archived: bool = False) -> QuerySet[Project]:
    queryset = Project.objects.all()
    if not include_archived:
        queryset = queryset.filter(archived_at__isnull=True)
    if user is None or not user.is_authenticated:
        return queryset.none()
    if user.is_staff:
        return queryset
    return queryset.filter(memberships__user=user)
