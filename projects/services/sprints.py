"""Writes for sprints: planned -> active -> closed."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from projects.board_contents import board_contents
from projects.models import Project, Sprint
from projects.services.common import _UNSET
from punt.errors import Conflict
from punt.errors import invalid as _invalid
from punt.events import publish

BURNDOWN_MAX_DAYS = 366


def _sprint_payload(sprint: Sprint) -> dict[str, Any]:
    return {
        "id": sprint.pk,
        "project_id": sprint.project_id,
        "name": sprint.name,
        "status": sprint.status,
        "start_date": sprint.start_date.isoformat() if sprint.start_date else None,
        "end_date": sprint.end_date.isoformat() if sprint.end_date else None,
    }


def _check_dates(start_date: date | None, end_date: date | None) -> None:
    if start_date and end_date and end_date < start_date:
        raise _invalid("end_date", "The end date cannot be before the start date.")


@transaction.atomic
def sprint_create(
    *,
    project: Project,
    name: str,
    by: Any,
    goal: str = "",
    start_date: date | None = None,
    end_date: date | None = None,
    tab_id: str | None = None,
) -> Sprint:
    name = (name or "").strip()
    if not name:
        raise _invalid("name", "This field may not be blank.")
    _check_dates(start_date, end_date)
    sprint = Sprint.objects.create(project=project, name=name, goal=goal, start_date=start_date, end_date=end_date)
    publish("sprint.created", _sprint_payload(sprint), project_id=project.pk, tab_id=tab_id, actor_id=by.pk)
    return sprint


@transaction.atomic
def sprint_update(
    *,
    sprint: Sprint,
    by: Any,
    name: str | None = None,
    goal: str | None = None,
    start_date: date | None = _UNSET,
    end_date: date | None = _UNSET,
    tab_id: str | None = None,
) -> Sprint:
    fields: list[str] = []
    if name is not None:
        if not name.strip():
            raise _invalid("name", "This field may not be blank.")
        sprint.name = name.strip()
        fields.append("name")
    if goal is not None:
        sprint.goal = goal
        fields.append("goal")
    if start_date is not _UNSET:
        sprint.start_date = start_date
        fields.append("start_date")
    if end_date is not _UNSET:
        sprint.end_date = end_date
        fields.append("end_date")
    _check_dates(sprint.start_date, sprint.end_date)
    if fields:
        sprint.save(update_fields=fields)
        publish("sprint.updated", _sprint_payload(sprint), project_id=sprint.project_id, tab_id=tab_id, actor_id=by.pk)
    return sprint


@transaction.atomic
def sprint_delete(*, sprint: Sprint, by: Any, tab_id: str | None = None) -> None:
    """Delete a planned or closed sprint; its tickets go back to the backlog (sprint = null)."""
    if sprint.status == Sprint.Status.ACTIVE:
        raise Conflict("This sprint is active; complete it before deleting it.")
    payload = _sprint_payload(sprint)
    sprint.delete()
    publish("sprint.deleted", payload, project_id=payload["project_id"], tab_id=tab_id, actor_id=by.pk)


@transaction.atomic
def sprint_start(*, sprint: Sprint, by: Any, tab_id: str | None = None) -> Sprint:
    """Start a planned sprint; a project has at most one active sprint."""
    # The project row lock serialises starts, so the check below is race-free (the
    # one_active_sprint constraint is the backstop).
    Project.objects.select_for_update().filter(pk=sprint.project_id).first()
    sprint.refresh_from_db()
    if sprint.status != Sprint.Status.PLANNED:
        raise Conflict(f"Only a planned sprint can be started; this one is {sprint.status}.")
    active = Sprint.objects.filter(project_id=sprint.project_id, status=Sprint.Status.ACTIVE).first()
    if active is not None:
        raise Conflict(f"Sprint '{active.name}' is already active; complete it first.")
    sprint.status = Sprint.Status.ACTIVE
    sprint.started_at = timezone.now()
    fields = ["status", "started_at"]
    if sprint.start_date is None:
        sprint.start_date = timezone.localdate()
        fields.append("start_date")
    _check_dates(sprint.start_date, sprint.end_date)
    sprint.save(update_fields=fields)
    publish("sprint.started", _sprint_payload(sprint), project_id=sprint.project_id, tab_id=tab_id, actor_id=by.pk)
    return sprint


@transaction.atomic
def sprint_complete(
    *, sprint: Sprint, by: Any, move_to: Sprint | None = None, tab_id: str | None = None
) -> dict[str, Any]:
    """Close the active sprint; unfinished tickets go to `move_to` (a planned sprint) or the backlog.

    Unfinished = not deleted and not in a done column. Returns {"sprint", "moved", "move_to_sprint_id"}.
    """
    Project.objects.select_for_update().filter(pk=sprint.project_id).first()
    sprint.refresh_from_db()
    if sprint.status != Sprint.Status.ACTIVE:
        raise Conflict(f"Only the active sprint can be completed; this one is {sprint.status}.")
    if move_to is not None and (move_to.project_id != sprint.project_id or move_to.status != Sprint.Status.PLANNED):
        raise _invalid("move_to_sprint_id", "Unfinished tickets can only move to a planned sprint of this project.")
    target_id = move_to.pk if move_to else None
    moved_ids = board_contents().sprint_carry_over(sprint=sprint, move_to=move_to, by=by)
    sprint.status = Sprint.Status.CLOSED
    sprint.completed_at = timezone.now()
    sprint.save(update_fields=["status", "completed_at"])
    payload = {**_sprint_payload(sprint), "move_to_sprint_id": target_id, "moved_ticket_ids": moved_ids}
    publish("sprint.completed", payload, project_id=sprint.project_id, tab_id=tab_id, actor_id=by.pk)
    return {"sprint": sprint, "moved": len(moved_ids), "move_to_sprint_id": target_id}
