"""Reads for saved views: the views a user sees in a project, one of them, and their counts.

A user sees the project's shared views and their own personal ones; another member's
personal view does not exist for them (404). Callers have checked the READ role.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Count, F, Q, QuerySet

from projects.models import Project
from punt.errors import NotFound
from punt.ranges import as_id
from tickets import pql
from tickets.models import SavedView, Ticket
from tickets.selectors import cards_for_project


def views_for_user(*, project: Project, user: Any) -> QuerySet[SavedView]:
    """The shared views first, then the user's own, each group in `position` order."""
    mine = Q(owner_id=user.pk) if getattr(user, "is_authenticated", False) else Q(pk__in=[])
    return (
        SavedView.objects.filter(Q(owner__isnull=True) | mine, project=project)
        .select_related("owner", "created_by")
        .order_by(F("owner_id").asc(nulls_first=True), "position", "id")
    )


def view_get(*, project: Project, user: Any, view_id: int | str) -> SavedView:
    """One view the user sees (404 otherwise: another member's personal view, or none)."""
    pk = as_id(str(view_id))
    view = views_for_user(project=project, user=user).filter(pk=pk).first() if pk is not None else None
    if view is None:
        raise NotFound("Saved view not found.")
    view.project = project
    return view


def view_compiled(view: SavedView, *, user: Any) -> pql.Compiled:
    """The view's query compiled for `user` (me() is the reader). PqlError when a name it uses
    has gone since it was saved (a label deleted, a member removed)."""
    return pql.compile_query(view.query, pql.project_scope(view.project, user))


def view_tickets(view: SavedView, *, user: Any) -> QuerySet[Ticket]:
    """The live tickets the view shows, ordered by its ORDER BY when it has one (else unordered)."""
    return pql.apply(cards_for_project(project=view.project), view_compiled(view, user=user))


def view_counts(views: Iterable[SavedView], *, project: Project, user: Any) -> dict[int, int | None]:
    """The number of open cards each view matches, in one aggregate query (plus the lookups each
    query's names need to compile). None for a view whose query no longer compiles."""
    counts: dict[int, int | None] = {}
    aggregates: dict[str, Count] = {}
    scope = pql.project_scope(project, user)
    for view in views:
        try:
            condition = pql.compile_query(view.query, scope).q()
        except pql.PqlError:
            counts[view.pk] = None
            continue
        aggregates[f"view_{view.pk}"] = Count("pk", filter=condition) if condition else Count("pk")
    if aggregates:
        open_cards = cards_for_project(project=project).filter(state=Ticket.State.OPENED)
        for name, count in open_cards.aggregate(**aggregates).items():
            counts[int(name.removeprefix("view_"))] = count
    return counts
