"""A project's tickets as CSV (one row per ticket, every field) and as PUNT's JSON archive.

The archive (format "punt-archive", version 1), read back by imports/sources/punt_archive.py:

    {"format": "punt-archive", "version": 1, "exported_at": ISO,
     "project": {"key", "name", "slug", "description", "color"},
     "columns": [{"name", "category", "order", "wip_limit"}],          # board order
     "labels": [{"name", "color", "description"}],
     "sprints": [{"name", "goal", "status", "start_date", "end_date", "started_at", "completed_at"}],
     "members": [{"username", "email", "name", "role"}],
     "tickets": [{"key", "number", "type", "title", "body", "column", "status", "priority",
                  "assignee", "reporter", "closed_by" (each {"username", "email", "name"} or null),
                  "labels": [names], "sprint", "parent" (a key), "due_date", "estimate", "state",
                  "created_at", "updated_at", "closed_at",
                  "comments": [{"author", "text", "minutes", "created_at", "updated_at"}],
                  "checklist": [{"text", "done"}],
                  "custom_fields": {}, "links": []}]}                  # board order

Tickets come in board order (column, then rank), so an import puts them back in that order.
Deleted tickets and comments are left out. Not in version 1: attachments' files, git links,
time entries, watchers and the timeline's non-comment events (they are history, not content).
Custom fields and relations are written by the integrator (`custom_fields`, `links`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from accounts.models import User
from imports.sources.punt_archive import FORMAT, VERSION
from projects.models import Project
from tickets.models import Event, Ticket

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


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def export_csv(project: Project) -> Iterator[str]:
    """The CSV, a chunk of rows at a time (flat memory for big projects)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
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
    for ticket in tickets.iterator(chunk_size=CHUNK):
        out.seek(0)
        out.truncate()
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
            )
        )
        yield out.getvalue()


def export_archive(project: Project) -> dict[str, Any]:
    """The JSON archive as a dict (a fixed number of queries, whatever the size)."""
    comments = Event.objects.filter(kind=Event.Kind.COMMENT, deleted_at__isnull=True).select_related("author")
    tickets = _tickets(project).prefetch_related("labels", Prefetch("events", queryset=comments), "checklist")
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
        "tickets": [_ticket(project, t) for t in tickets],
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
        "custom_fields": {},
        "links": [],
    }
