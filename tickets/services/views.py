"""Writes for saved views (named PQL queries): create, update, delete.

Who may do what (projects.permissions roles):
- a member (WRITE) creates personal views and edits or deletes their own;
- sharing a view with the project, and editing or deleting a shared view, needs MANAGE (admin);
- a viewer reads the shared views and has none of their own.
Another member's personal view does not exist for anyone else (404). The callers have checked
READ on the project (project_for); the rules above are checked here.

A query is validated by compiling it in the project's scope for the author: a PqlError
becomes a 400 on the `query` field with the character position.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from projects.models import Project
from projects.permissions import MANAGE, WRITE, check_role
from punt.errors import Invalid, NotFound
from punt.errors import invalid as _invalid
from tickets import pql
from tickets.models import SavedView
from tickets.services.common import UNSET

NAME_MAX = SavedView._meta.get_field("name").max_length or 100
QUERY_MAX = 2000


def _check_query(project: Project, by: Any, text: str) -> str:
    text = text.strip()
    if len(text) > QUERY_MAX:
        raise _invalid("query", f"Keep the query under {QUERY_MAX} characters.")
    try:
        pql.compile_query(text, pql.project_scope(project, by))
    except pql.PqlError as exc:
        details = [{**detail, "field": "query"} for detail in exc.details]
        raise Invalid(exc.message, details=details) from None
    return text


def _check_name(view_project: Project, *, name: str, owner_id: int | None, exclude: int | None = None) -> str:
    name = " ".join(name.split())
    if not name:
        raise _invalid("name", "Give the view a name.")
    if len(name) > NAME_MAX:
        raise _invalid("name", f"Keep the name under {NAME_MAX} characters.")
    taken = SavedView.objects.filter(project=view_project, owner_id=owner_id, name__iexact=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise _invalid("name", _taken(name, owner_id))
    return name


def _taken(name: str, owner_id: int | None) -> str:
    whose = "The project already has a shared" if owner_id is None else "You already have a"
    return f"{whose} view named '{name}'."


def _check_display(display: str) -> str:
    if display not in SavedView.Display.values:
        raise _invalid("display", f"Use one of: {', '.join(SavedView.Display.values)}.")
    return display


def _check_may_change(view: SavedView, by: Any) -> None:
    """Shared views need MANAGE; a personal view only its owner (anyone else: 404, it is not theirs),
    or a site admin fixing it in the Django admin."""
    if view.owner_id is None or (view.owner_id != by.pk and by.is_staff):
        check_role(by, view.project, MANAGE)
    elif view.owner_id != by.pk:
        raise NotFound("Saved view not found.")
    else:
        check_role(by, view.project, WRITE)


def _next_position(project: Project, owner_id: int | None) -> int:
    last = SavedView.objects.filter(project=project, owner_id=owner_id).aggregate(last=Max("position"))["last"]
    return 0 if last is None else last + 1


@transaction.atomic
def saved_view_create(
    *,
    project: Project,
    by: Any,
    name: str,
    query: str = "",
    display: str = SavedView.Display.BOARD,
    shared: bool = False,
    position: int | None = None,
) -> SavedView:
    """A personal view of `by` (WRITE), or a view shared with the project (MANAGE)."""
    check_role(by, project, MANAGE if shared else WRITE)
    owner_id = None if shared else by.pk
    name = _check_name(project, name=name, owner_id=owner_id)
    query = _check_query(project, by, query)
    display = _check_display(display)
    try:
        with transaction.atomic():
            view = SavedView.objects.create(
                project=project,
                name=name,
                query=query,
                display=display,
                owner_id=owner_id,
                position=_next_position(project, owner_id) if position is None else position,
                created_by=by,
            )
    except IntegrityError:  # a concurrent create took the name between the check and the insert
        raise _invalid("name", _taken(name, owner_id)) from None
    return view


@transaction.atomic
def saved_view_update(
    *,
    view: SavedView,
    by: Any,
    name: str = UNSET,
    query: str = UNSET,
    display: str = UNSET,
    shared: bool = UNSET,
    position: int = UNSET,
) -> SavedView:
    """Change the fields given. Sharing a personal view, or taking a shared one back as the
    caller's own, needs MANAGE as well as the right to change the view."""
    _check_may_change(view, by)
    owner_id = view.owner_id
    if shared is not UNSET and shared != view.shared:
        check_role(by, view.project, MANAGE)
        owner_id = None if shared else by.pk
    new_name = view.name if name is UNSET else name
    if name is not UNSET or owner_id != view.owner_id:
        view.name = _check_name(view.project, name=new_name, owner_id=owner_id, exclude=view.pk)
    if owner_id != view.owner_id:
        view.owner_id = owner_id
        view.position = _next_position(view.project, owner_id) if position is UNSET else position
    if query is not UNSET:
        view.query = _check_query(view.project, by, query)
    if display is not UNSET:
        view.display = _check_display(display)
    if position is not UNSET:
        view.position = position
    try:
        with transaction.atomic():
            view.save(update_fields=["name", "query", "display", "owner", "position", "updated_at"])
    except IntegrityError:
        raise _invalid("name", _taken(view.name, owner_id)) from None
    return view


@transaction.atomic
def saved_view_delete(*, view: SavedView, by: Any) -> None:
    _check_may_change(view, by)
    view.delete()
