"""Saved views on the board and the backlog: the switcher (`?view=<id>` narrows the cards by the
view's PQL), and "Save view" (the current search as a new view). Writes call the tickets
service, exactly like the API does."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from projects.models import Project
from projects.permissions import MANAGE, WRITE
from punt import errors
from tickets import pql, view_selectors
from tickets.models import SavedView, Ticket
from tickets.services import views as view_services
from web.pages import can, project_for


@dataclass
class Switcher:
    """The views a user may switch to (shared first, then their own) with their open-card counts,
    the one shown (None: no view) and, when its query no longer compiles, why."""

    views: list[SavedView] = field(default_factory=list)
    current: SavedView | None = None
    error: str = ""


def switcher(request: HttpRequest, project: Project) -> Switcher:
    """The switcher for `?view=`: the user's views with counts, and the current one (404 for an id
    the user does not see). Queries: the views, one aggregate for the counts, and each query's name
    lookups (a label or a person it names)."""
    views = list(view_selectors.views_for_user(project=project, user=request.user))
    counts = view_selectors.view_counts(views, project=project, user=request.user)
    for view in views:
        view.project = project
        view.__dict__["open_count"] = counts.get(view.pk)  # for the template only
    state = Switcher(views=views)
    wanted = (request.GET.get("view") or "").strip()
    if wanted:
        state.current = next((view for view in views if str(view.pk) == wanted), None)
        if state.current is None:
            raise errors.NotFound("Saved view not found.")
    return state


def narrowed(tickets: QuerySet[Ticket], view: SavedView | None, *, user: Any) -> tuple[QuerySet[Ticket], str]:
    """`tickets` narrowed by the view's query, and the error when it no longer compiles (then the
    view shows no cards rather than all of them)."""
    if view is None:
        return tickets, ""
    try:
        return pql.apply(tickets, view_selectors.view_compiled(view, user=user)), ""
    except pql.PqlError as exc:
        return tickets.none(), exc.message


def narrowed_by_request(tickets: QuerySet[Ticket], request: HttpRequest, project: Project) -> QuerySet[Ticket]:
    """`tickets` narrowed by the `?view=` of a board fragment's query string (board_more, board_card)."""
    wanted = (request.GET.get("view") or "").strip()
    if not wanted:
        return tickets
    view = view_selectors.view_get(project=project, user=request.user, view_id=wanted)
    return narrowed(tickets, view, user=request.user)[0]


@login_required
@require_POST
def view_create(request: HttpRequest, namespace: str, path: str) -> HttpResponse:
    """Save the search text (`q`) as a new personal view, or a shared one (admins), then show the
    board with it. htmx posts the search box's current text (hx-include) and follows HX-Redirect;
    without scripts the form carries the text the page was drawn with."""
    project, role = project_for(request, namespace, path, WRITE)
    board = reverse("web:board", args=[project.namespace, project.path])
    try:
        view = view_services.saved_view_create(
            project=project,
            by=request.user,
            name=request.POST.get("name", ""),
            query=request.POST.get("q", ""),
            shared=can(role, MANAGE) and request.POST.get("shared") == "1",
        )
    except errors.PuntError as exc:
        messages.error(request, f"The view was not saved: {errors.message(exc)}")
        return _go(request, board)
    messages.success(request, f"View '{view.name}' saved.")
    return _go(request, f"{board}?view={view.pk}")


def _go(request: HttpRequest, url: str) -> HttpResponse:
    if request.headers.get("HX-Request"):
        response = HttpResponse()
        response["HX-Redirect"] = url
        return response
    return redirect(url)
