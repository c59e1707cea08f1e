"""Helpers shared by the page views: find a project from its URL and check the viewer's role.

Pages use the same rules as the API (projects/permissions.py): outsiders get 404 for a
project, never 403, so a private project's existence does not leak.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from projects import permissions
from projects import selectors as project_selectors
from projects.models import Project
from punt import errors

ARCHIVED_TEXT = project_selectors.ARCHIVED_MESSAGE


def project_for(
    request: HttpRequest,
    namespace: str,
    path: str,
    needed: str = permissions.READ,
    *,
    allow_archived: bool = False,
) -> tuple[Project, str]:
    """projects.selectors.project_for for pages: the project at /projects/<namespace>/<path>/
    if `request.user` holds `needed` in it, and the role to show controls for.

    The archived rule is the API's (members read, nobody writes): the role comes back as
    viewer so pages hide every write control, and a write is refused with the 403 page and
    the archived message (pages have no 409 page). The caller's real role stays on
    `project.page_role` (the owner's restore button needs it).
    """
    try:
        project = project_selectors.project_for(
            request.user, owner=namespace, path=path, min_role=needed, allow_archived=allow_archived
        )
    except errors.Conflict as exc:
        raise PermissionDenied(exc.message) from exc
    role = permissions.role_of(request.user, project)
    assert role is not None  # project_for let the user through, so they hold a role
    # For the template only: not a field the model declares.
    project.__dict__["page_role"] = role
    if project.archived_at is not None:
        role = permissions.Role.VIEWER
    return project, role


def can(role: str | None, needed: str) -> bool:
    """True if `role` reaches `needed` (for showing or hiding controls; the services check again)."""
    if role is None:
        return False
    rank = permissions.RANK
    return rank[permissions.Role(role)] >= rank[permissions.Role(needed)]


def tab_id(request: HttpRequest) -> str | None:
    """The browser tab that made this change, so the live feed does not echo it back to that tab."""
    return request.headers.get("X-Tab-Id") or request.POST.get("tab_id") or None
