"""A project's tickets as CSV (one row per ticket, every field) and as PUNT's JSON archive.

The archive (format "punt-archive", version 1), read back by imports/sources/punt_archive.py:

    {"format": "punt-archive", "version": 1, "exported_at": ISO,
     "project": {"key", "name", "slug", "description", "color"},
     "columns": [{"name", "category", "order", "wip_limit"}],          # board order
     "labels": [{"name", "color", "description"}],
     "sprints": [{"name", "goal", "status", "start_date", "end_date", "started_at", "completed_at"}],
     "members": [{"username", "email", "name", "role"}],
     "custom_fields": [{"name", "key", "type", "description", "unit", "required", "default",
                        "show_on_card", "options": [{"name", "color"}]}],   # field order
     "tickets": [{"key", "number", "type", "title", "body", "column", "status", "priority",
                  "assignee", "reporter", "closed_by" (each {"username", "email", "name"} or null),
                  "labels": [names], "sprint", "parent" (a key), "due_date", "estimate", "state",
                  "created_at", "updated_at", "closed_at",
                  "comments": [{"author", "text", "minutes", "created_at", "updated_at"}],
                  "checklist": [{"text", "done"}],
                  "custom_fields": {name: [type, value]},  # the API's value JSON
                  "links": [[kind, other key]]}]}                    # board order

Tickets come in board order (column, then rank), so an import puts them back in that order.
Deleted tickets and comments are left out. Not in version 1: attachments' files, git links,
time entries, watchers and the timeline's non-comment events (they are history, not content).
A relation is listed once, by its source ticket (kind blocks/duplicates/relates_to), or by its
target as is_blocked_by/is_duplicated_by/relates_to when the source is in another project.
The top-level `custom_fields` (the live fields' definitions) and the `links` are optional: an
archive written before them reads as having none.

The CSV has a column per live custom field (headed with its name; a multi select's options
joined with "; ") and a `links` column ("blocks DEMO-3; relates_to DEMO-9", as each ticket reads
its links).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from accounts.models import User
from imports.sources.punt_archive import FORMAT, VERSION
from projects.models import Project
from tickets.custom_field_selectors import custom_fields_for_project, custom_values
from tickets.models import CustomField, Event, Ticket, TicketRelation

CSV_COLUMNS = [
    "key",
    "number",
    "type",
    "title",
    "body",
    "status",
    "column",
    "priority",
    "assignee",
    "assignee_email",
    "reporter",
    "reporter_email",
    "labels",
    "sprint",
    "parent",
    "due_date",
    "estimate",
    "state",
    "created_at",
    "updated_at",
    "closed_at",
    "closed_by",
    "comments",
    "checklist_done",
    "checklist_total",
]
# Spreadsheets run cells that start like a formula; a leading apostrophe keeps them text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 500


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def _person(user: User | None) -> dict[str, str] | None:
    if user is None:
        return None
    return {"username": user.username, "email": user.email, "name": user.display_name}


def _tickets(project: Project) -> Any:
    return (
        Ticket.objects.filter(project=project, deleted_at__isnull=True)
        .select_related("column", "assignee", "reporter", "closed_by", "sprint", "parent")
        .order_by("column__order", "column_id", "rank", "id")
    )


# How a relation's target reads it.
INVERSE = {"blocks": "is_blocked_by", "duplicates": "is_duplicated_by", "relates_to": "relates_to"}


def _links(ticket_ids: list[int]) -> dict[int, list[tuple[str, str, bool]]]:
    """{ticket id: [(kind as the ticket reads it, other ticket's key, whether the ticket is the
    link's source or the other one is in another project)]} of live tickets' links (one query)."""
    rows = (
        TicketRelation.objects.filter(Q(source_id__in=ticket_ids) | Q(target_id__in=ticket_ids))
        .filter(source__deleted_at__isnull=True, target__deleted_at__isnull=True)
        .order_by("created_at", "id")
        .values_list(
            "kind",
            "source_id",
            "source__number",
            "source__project_id",
            "source__project__key",
            "target_id",
            "target__number",
            "target__project_id",
            "target__project__key",
        )
    )
    wanted = set(ticket_ids)
    found: dict[int, list[tuple[str, str, bool]]] = {}
    for kind, source, s_number, s_project, s_key, target, t_number, t_project, t_key in rows:
        if source in wanted:
            found.setdefault(source, []).append((kind, f"{t_key}-{t_number}", True))
        if target in wanted:
            found.setdefault(target, []).append((INVERSE[kind], f"{s_key}-{s_number}", s_project != t_project))
    return found


def _chunks(items: Iterable[Ticket], size: int) -> Iterator[list[Ticket]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _value_cell(value: Any) -> Any:
    """A custom field's value JSON as a CSV cell."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _field_definition(field: CustomField) -> dict[str, Any]:
    return {
        "name": field.name,
        "key": field.key,
        "type": field.type,
        "description": field.description,
        "unit": field.unit,
        "required": field.required,
        "default": field.default,
        "show_on_card": field.show_on_card,
        "options": [{"name": option.name, "color": option.color} for option in field.options.all()],
    }


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def export_csv(project: Project) -> Iterator[str]:
    """The CSV, a chunk of rows at a time (flat memory for big projects)."""
    fields = custom_fields_for_project(project=project)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*CSV_COLUMNS, "links", *(_cell(field.name) for field in fields)])
    yield out.getvalue()
    tickets = (
        _tickets(project)
        .prefetch_related("labels")
        .annotate(
            comment_count=Count("events", filter=Q(events__kind=Event.Kind.COMMENT, events__deleted_at__isnull=True)),
            checklist_total=Count("checklist", distinct=True),
            checklist_done=Count("checklist", filter=Q(checklist__done=True), distinct=True),
        )
    )
    for chunk in _chunks(tickets.iterator(chunk_size=CHUNK), CHUNK):
        ids = [ticket.pk for ticket in chunk]
        values, links = custom_values(ids), _links(ids)
        out.seek(0)
        out.truncate()
        for ticket in chunk:
            _csv_row(writer, project, ticket, links.get(ticket.pk, []), values.get(ticket.pk, {}), fields)
        yield out.getvalue()


def _csv_row(
    writer: Any,
    project: Project,
    ticket: Any,
    links: list[tuple[str, str, bool]],
    values: dict[str, Any],
    fields: list[CustomField],
) -> None:
    writer.writerow(
        _cell(v)
        for v in (
            f"{project.key}-{ticket.number}",
            ticket.number,
            ticket.type,
            ticket.title,
            ticket.body,
            ticket.column.category,
            ticket.column.name,
            ticket.priority,
            ticket.assignee.username if ticket.assignee else "",
            ticket.assignee.email if ticket.assignee else "",
            ticket.reporter.username if ticket.reporter else "",
            ticket.reporter.email if ticket.reporter else "",
            ", ".join(sorted(label.name for label in ticket.labels.all())),
            ticket.sprint.name if ticket.sprint else "",
            f"{project.key}-{ticket.parent.number}" if ticket.parent else "",
            _iso(ticket.due_date) or "",
            "" if ticket.estimate is None else ticket.estimate,
            ticket.state,
            _iso(ticket.created_at),
            _iso(ticket.updated_at),
            _iso(ticket.closed_at) or "",
            ticket.closed_by.username if ticket.closed_by else "",
            ticket.comment_count,
            ticket.checklist_done,
            ticket.checklist_total,
            "; ".join(f"{kind} {key}" for kind, key, _ in links),
            *(_value_cell(values.get(field.key)) for field in fields),
        )
    )


def export_archive(project: Project) -> dict[str, Any]:
    """The JSON archive as a dict (a fixed number of queries, whatever the size)."""
    comments = Event.objects.filter(kind=Event.Kind.COMMENT, deleted_at__isnull=True).select_related("author")
    tickets = list(_tickets(project).prefetch_related("labels", Prefetch("events", queryset=comments), "checklist"))
    fields = custom_fields_for_project(project=project)
    ids = [ticket.pk for ticket in tickets]
    values, links = custom_values(ids), _links(ids)
    names = {field.key: (field.name, field.type) for field in fields}
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timezone.now().isoformat(),
        "project": {
            "key": project.key,
            "name": project.name,
            "slug": project.slug,
            "description": project.description,
            "color": project.color,
        },
        "columns": [
            {"name": c.name, "category": c.category, "order": c.order, "wip_limit": c.wip_limit}
            for c in project.columns.order_by("order", "id")
        ],
        "labels": [
            {"name": label.name, "color": label.color, "description": label.description}
            for label in project.labels.order_by("name")
        ],
        "sprints": [
            {
                "name": s.name,
                "goal": s.goal,
                "status": s.status,
                "start_date": _iso(s.start_date),
                "end_date": _iso(s.end_date),
                "started_at": _iso(s.started_at),
                "completed_at": _iso(s.completed_at),
            }
            for s in project.sprints.order_by("created_at", "id")
        ],
        "members": [
            {**(_person(m.user) or {}), "role": m.role}
            for m in project.memberships.select_related("user").order_by("user__username")
        ],
        "custom_fields": [_field_definition(field) for field in fields],
        "tickets": [
            {
                **_ticket(project, t),
                "custom_fields": {names[key][0]: [names[key][1], value] for key, value in values.get(t.pk, {}).items()},
                "links": [[kind, key] for kind, key, listed in links.get(t.pk, []) if listed],
            }
            for t in tickets
        ],
    }


def _ticket(project: Project, ticket: Ticket) -> dict[str, Any]:
    return {
        "key": f"{project.key}-{ticket.number}",
        "number": ticket.number,
        "type": ticket.type,
        "title": ticket.title,
        "body": ticket.body,
        "column": ticket.column.name,
        "status": ticket.column.category,
        "priority": ticket.priority,
        "assignee": _person(ticket.assignee),
        "reporter": _person(ticket.reporter),
        "closed_by": _person(ticket.closed_by),
        "labels": sorted(label.name for label in ticket.labels.all()),
        "sprint": ticket.sprint.name if ticket.sprint else None,
        "parent": f"{project.key}-{ticket.parent.number}" if ticket.parent else None,
        "due_date": _iso(ticket.due_date),
        "estimate": ticket.estimate,
        "state": ticket.state,
        "created_at": _iso(ticket.created_at),
        "updated_at": _iso(ticket.updated_at),
        "closed_at": _iso(ticket.closed_at),
        "comments": [
            {
                "author": _person(e.author),
                "text": e.text,
                "minutes": e.minutes,
                "created_at": _iso(e.created_at),
                "updated_at": _iso(e.updated_at),
            }
            for e in ticket.events.all()
        ],
        "checklist": [{"text": item.text, "done": item.done} for item in ticket.checklist.all()],
    }
