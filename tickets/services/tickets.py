"""Tickets: create, update, close and reopen (the bin, delete and restore, is in `bin`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import F

from accounts.serializers import user_brief
from notifications.services import notification_batch
from projects.models import Column, Project
from projects.services import column_for_category, columns_create_defaults
from punt import events
from punt.errors import invalid as _invalid
from tickets import cards, fastpath
from tickets.models import Event, Ticket
from tickets.services.common import UNSET, _actor_id, _choice, _event, _json, _publish_card, _reload
from tickets.services.custom_values import custom_values_insert, custom_values_prepare, custom_values_replace
from tickets.services.inputs import (
    _clean_body,
    _clean_estimate,
    _clean_title,
    resolve_labels,
    resolve_parent,
    resolve_sprint,
    resolve_user,
)
from tickets.services.mentions import _write_mentions, render_markdown
from tickets.services.moves import _apply_state, _check_wip, _lock_columns, _rank_for, ticket_move
from tickets.services.placements import placement_add
from tickets.services.watchers import _notify_assigned, _notify_watchers, _watch


def _next_ticket_number(project: Project) -> int:
    """Increment Project.ticket_counter and return the new value (the UPDATE row-locks the project).

    One `UPDATE ... RETURNING` where the database has it (PostgreSQL, SQLite >= 3.35), else
    the queryset UPDATE and a read-back in the same transaction: the same row, lock and value.
    """
    if not fastpath.has_returning():
        Project.objects.filter(pk=project.pk).update(ticket_counter=F("ticket_counter") + 1)
        return Project.objects.filter(pk=project.pk).values_list("ticket_counter", flat=True).get()
    number = fastpath.next_ticket_number(project_id=project.pk)
    if number is None:
        raise Project.DoesNotExist("Project matching query does not exist.")
    return number


@transaction.atomic
@notification_batch()
def ticket_create(
    *,
    project: Project,
    by: Any,
    title: str,
    column: Column | None = None,
    body: str = "",
    type: str = Ticket.Type.TASK,
    priority: str = Ticket.Priority.MEDIUM,
    status: str | None = None,
    assignee: Any = None,
    labels: Sequence[Any] = (),
    sprint: Any = None,
    parent: Any = None,
    due_date: date | None = None,
    estimate: int | None = None,
    reporter: Any = UNSET,
    custom_fields: Any = UNSET,
    force: bool = False,
    tab_id: str | None = None,
) -> Ticket:
    """Create a ticket at the bottom of `column` (or of the first column of `status`, or the first column).

    `custom_fields`: {field key: value JSON}; defaults fill the fields not given and required
    fields must end with a value (tickets.services.custom_fields).

    The number comes from Project.ticket_counter, incremented with an UPDATE that row-locks
    the project until commit: concurrent creates queue, and numbers have no gaps or repeats.
    """
    title = _clean_title(title)
    body = _clean_body(body)
    _choice("type", type, Ticket.Type)
    _choice("priority", priority, Ticket.Priority)
    estimate = _clean_estimate(estimate)
    assignee_user = resolve_user(project=project, value=assignee)
    label_list = resolve_labels(project=project, values=labels or [])
    sprint_obj = resolve_sprint(project=project, value=sprint)
    parent_obj = resolve_parent(project=project, value=parent)
    custom = custom_values_prepare(project=project, values=custom_fields, creating=True)
    if column is not None and column.project_id != project.pk:
        raise _invalid("column_id", "That column belongs to another project.")
    if column is None and status:
        _choice("status", status, Column.Category)
        column = column_for_category(project=project, category=status)
    if column is None:
        column = project.columns.order_by("order", "id").first() or columns_create_defaults(project=project)[0]

    number = _next_ticket_number(project)
    project.ticket_counter = number
    column = _lock_columns([column.pk])[column.pk]
    _check_wip(column, exclude_id=None, force=force)

    ticket = Ticket(
        project=project,
        number=number,
        type=type,
        title=title,
        body=body,
        column=column,
        rank=_rank_for(column),
        priority=priority,
        assignee=assignee_user,
        reporter=by if reporter is UNSET else reporter,
        sprint=sprint_obj,
        parent=parent_obj,
        due_date=due_date,
        estimate=estimate,
        updated_by=by if getattr(by, "pk", None) else None,
    )
    ticket.body_html = render_markdown(project=project, by=by, text=body)
    _apply_state(ticket, column=column, by=by)
    ticket.save()
    placement_add(ticket=ticket, column=column, from_category=None)
    if label_list:
        ticket.labels.set(label_list)
    _watch(ticket, [ticket.reporter, assignee_user])
    custom_json = custom_values_insert(ticket=ticket, prepared=custom)

    _event(ticket, by, Event.Kind.ACTION, "create", {"column": {"id": column.pk, "name": column.name}})
    if assignee_user is not None:
        _event(ticket, by, Event.Kind.ACTION, "assign", {"assignee": user_brief(assignee_user)})
    _write_mentions(ticket=ticket, by=by, old_text="", new_text=f"{title}\n{body}", tab_id=tab_id)

    # The full card, built from what is in memory (labels in the database's name order, if
    # any): the event carries its compact part, the API's 201 all of it.
    card_labels = fastpath.card_labels([ticket.pk]) if label_list else {}
    ticket.card = cards.card_of(ticket, shape=cards.FULL, labels=card_labels, custom_fields={ticket.pk: custom_json})
    events.publish(
        "board.card_created",
        cards.compact(ticket.card),
        project_id=project.pk,
        tab_id=tab_id,
        actor_id=_actor_id(by),
    )
    _notify_assigned(ticket=ticket, by=by, tab_id=tab_id)
    return ticket


# How a watcher's notification names the fields an update changed.
FIELD_WORDS = {
    "title": "the title",
    "body": "the description",
    "type": "the type",
    "priority": "the priority",
    "labels": "the labels",
    "sprint": "the sprint",
    "parent": "the parent",
    "due_date": "the due date",
    "estimate": "the estimate",
    "assignee": "the assignee",
    "custom_fields": "the custom fields",
}


def _changed_summary(fields: Sequence[str]) -> str:
    words = [FIELD_WORDS.get(field, field.replace("_", " ")) for field in fields]
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return f"changed {listed}"


def _diff_value(ticket: Ticket, field: str) -> Any:
    if field == "labels":
        return sorted(label.name for label in ticket.labels.all())
    if field == "sprint":
        return None if ticket.sprint is None else {"id": ticket.sprint.pk, "name": ticket.sprint.name}
    if field == "parent":
        return None if ticket.parent is None else ticket.parent.key
    return _json(getattr(ticket, field))


@transaction.atomic
@notification_batch()
def ticket_update(
    *,
    ticket: Ticket,
    by: Any,
    title: Any = UNSET,
    body: Any = UNSET,
    type: Any = UNSET,
    priority: Any = UNSET,
    status: Any = UNSET,
    assignee: Any = UNSET,
    labels: Any = UNSET,
    sprint: Any = UNSET,
    parent: Any = UNSET,
    due_date: Any = UNSET,
    estimate: Any = UNSET,
    custom_fields: Any = UNSET,
    force: bool = False,
    tab_id: str | None = None,
) -> Ticket:
    """Change the given fields. Writes one `update` event with old/new values of what changed,
    `assign`/`unassign` actions, and, for a new status, moves the card (see ticket_move).

    `custom_fields`: {field key: value JSON}, only the keys given change (null clears); their
    changes are `custom_fields` in the event's old/new.
    """
    custom = custom_values_prepare(project=ticket.project, values=custom_fields, creating=False)
    project = ticket.project
    moved = False
    if status is not UNSET and status is not None:
        _choice("status", status, Column.Category)
        if status != ticket.column.category:
            # Move first: ticket_move locks column then card, and so must every writer that
            # takes both, or two of them could deadlock.
            target = column_for_category(project=project, category=status)
            ticket = ticket_move(ticket=ticket, column=target, by=by, force=force, tab_id=tab_id)
            moved = True
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    # Only the fields changed here are saved: column, rank and state belong to ticket_move.
    dirty: set[str] = set()
    old_text = f"{ticket.title}\n{ticket.body}"

    def change(field: str, value: Any) -> None:
        before = _diff_value(ticket, field)
        if field == "labels":
            ticket.labels.set(value)
        else:
            setattr(ticket, field, value)
        after = _diff_value(ticket, field)
        if before != after:
            old[field], new[field] = before, after
            if field != "labels":
                dirty.add(field)

    if title is not UNSET:
        change("title", _clean_title(title))
    if body is not UNSET:
        change("body", _clean_body(body))
    if type is not UNSET:
        change("type", _choice("type", type, Ticket.Type))
    if priority is not UNSET:
        change("priority", _choice("priority", priority, Ticket.Priority))
    if labels is not UNSET:
        change("labels", resolve_labels(project=project, values=labels or []))
    if sprint is not UNSET:
        change("sprint", resolve_sprint(project=project, value=sprint))
    if parent is not UNSET:
        change("parent", resolve_parent(project=project, value=parent, child=ticket))
    if due_date is not UNSET:
        change("due_date", due_date)
    if estimate is not UNSET:
        change("estimate", _clean_estimate(estimate))
    old_custom, new_custom = custom_values_replace(ticket=ticket, prepared=custom)
    if new_custom:
        old["custom_fields"], new["custom_fields"] = old_custom, new_custom

    assigned = False
    if assignee is not UNSET:
        user = resolve_user(project=project, value=assignee)
        if (user.pk if user else None) != ticket.assignee_id:
            previous = ticket.assignee
            ticket.assignee = user
            dirty.add("assignee")
            assigned = user is not None
            if user is None:
                _event(ticket, by, Event.Kind.ACTION, "unassign", {"assignee": user_brief(previous)})
            else:
                _event(ticket, by, Event.Kind.ACTION, "assign", {"assignee": user_brief(user)})
                _watch(ticket, [user])

    if "body" in new:
        ticket.body_html = render_markdown(project=project, by=by, text=ticket.body)
        dirty.add("body_html")
    if new or dirty:
        ticket.updated_by = by if getattr(by, "pk", None) else None
        ticket.save(update_fields=[*sorted(dirty), "updated_by", "updated_at"])
    if new:
        _event(ticket, by, Event.Kind.UPDATE, str({"old": old, "new": new}), {"old": old, "new": new})
        if "title" in new or "body" in new:
            _write_mentions(
                ticket=ticket, by=by, old_text=old_text, new_text=f"{ticket.title}\n{ticket.body}", tab_id=tab_id
            )

    if dirty or new:
        _publish_card("board.card_updated", ticket, by=by, tab_id=tab_id)
        changed = sorted({*new, *({"assignee"} & dirty)})
        _notify_watchers(ticket=ticket, by=by, action="updated", summary=_changed_summary(changed), tab_id=tab_id)
        if assigned:
            _notify_assigned(ticket=ticket, by=by, tab_id=tab_id)
    if not moved and not new and not dirty:
        return ticket
    return _reload(ticket)


def reopen_column(project: Project) -> Column:
    """Where a reopened ticket goes: the board's first column that is not a done column."""
    column = project.columns.exclude(category=Column.Category.DONE).order_by("order", "id").first()
    return column or column_for_category(project=project, category=Column.Category.TODO)


@transaction.atomic
def ticket_close(*, ticket: Ticket, by: Any, force: bool = False, tab_id: str | None = None) -> Ticket:
    """Close a ticket: it moves to the board's first done column (created if there is none).

    A ticket blocked by an open ticket, or a full done column, is refused unless `force`.
    """
    if ticket.state == Ticket.State.CLOSED:
        return ticket
    return ticket_update(ticket=ticket, by=by, status=Column.Category.DONE, force=force, tab_id=tab_id)


@transaction.atomic
def ticket_reopen(*, ticket: Ticket, by: Any, tab_id: str | None = None) -> Ticket:
    """Reopen a closed ticket: it moves to the bottom of the board's first open column."""
    if ticket.state == Ticket.State.OPENED:
        return ticket
    return ticket_move(ticket=ticket, column=reopen_column(ticket.project), by=by, tab_id=tab_id)
