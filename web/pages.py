"""Helpers shared by the page views: find a project from its URL and check the viewer's role.

Pages use the same rules as the API (projects/permissions.py): outsiders get 404 for a
project, never 403, so a private project's existence does not leak.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import F, Q
from django.http import Http404, HttpRequest

from projects import permissions
from projects.models import Project

ARCHIVED_TEXT = "This project is archived and read-only; its owner can restore it."


def project_get(*, namespace: str, path: str) -> Project:
    """The project at /projects/<namespace>/<path>/ (user names and org slugs share one namespace).

    Archived projects are found too (a live one wins should both share a path): the caller
    decides what an archived project allows.
    """
    project = (
        Project.objects.select_related("owner_user", "organization")
        .filter(Q(owner_user__username__iexact=namespace) | Q(organization__slug__iexact=namespace))
        .filter(path__iexact=path)
        .order_by(F("archived_at").asc(nulls_first=True), "id")
        .first()
    )
    if project is None:
        raise Http404("Project not found.")
    return project


def check_page_role(user: Any, project: Project, needed: str) -> str:
    """check_role for pages: its refusals are Django's Http404 / PermissionDenied, so the 404 / 403 page renders."""
    return permissions.check_role(user, project, needed)


def project_for(request: HttpRequest, namespace: str, path: str, needed: str = permissions.READ) -> tuple[Project, str]:
    """Resolve the project and check `request.user` holds `needed` in it; returns (project, role).

    An archived project reads like the API's (members see it, nobody changes it): anything
    past READ is a 403, and the role comes back as viewer so pages hide every write control.
    The caller's real role stays on `project.page_role` (the owner's restore button needs it).
    """
    project = project_get(namespace=namespace, path=path)
    role = check_page_role(request.user, project, needed)
    project.page_role = role
    if project.archived_at is not None:
        if needed != permissions.READ:
            raise PermissionDenied(ARCHIVED_TEXT)
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
