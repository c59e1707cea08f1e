"""PUNT's own JSON archive, as GET /api/v1/projects/<slug>/export.json writes it
(imports/export.py documents the format; version 1).

Read back losslessly: columns (order, category, WIP limit), labels (colour, description),
sprints (status, dates), members (matched by user name, then e-mail, with their role), custom
field definitions (type, options and colours, flags, default), and tickets in board order with
every field, comments (authors, minutes, dates), checklists, custom values (any type, as the
API's JSON) and links.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from imports.records import (
    ChecklistRecord,
    ColumnRecord,
    CommentRecord,
    CustomFieldRecord,
    LabelRecord,
    MemberRecord,
    Options,
    Person,
    Record,
    SprintRecord,
    TicketRecord,
)
from imports.sources.common import SourceError, parse_date, parse_datetime
from imports.sources.trello import load_json

FORMAT = "punt-archive"
VERSION = 1


def person(value: Any) -> Person:
    if not isinstance(value, dict):
        return Person()
    return Person(username=value.get("username") or "", email=value.get("email") or "", name=value.get("name") or "")


def parse(stream: IO[bytes], options: Options) -> Iterator[Record]:
    archive = load_json(stream)
    if not isinstance(archive, dict) or archive.get("format") != FORMAT:
        raise SourceError("the file", f'a PUNT archive is a JSON object with "format": "{FORMAT}".')
    if archive.get("version") != VERSION:
        raise SourceError("the file", f"this PUNT reads archive version {VERSION}, not {archive.get('version')!r}.")
    try:
        for column in archive.get("columns", []):
            yield ColumnRecord(name=column["name"], category=column["category"], wip_limit=column.get("wip_limit"))
        for label in archive.get("labels", []):
            yield LabelRecord(
                name=label["name"], color=label.get("color", ""), description=label.get("description", "")
            )
        for sprint in archive.get("sprints", []):
            yield SprintRecord(
                name=sprint["name"],
                goal=sprint.get("goal", ""),
                status=sprint.get("status", "planned"),
                start_date=parse_date(sprint.get("start_date"), "sprints"),
                end_date=parse_date(sprint.get("end_date"), "sprints"),
                started_at=parse_datetime(sprint.get("started_at"), "sprints"),
                completed_at=parse_datetime(sprint.get("completed_at"), "sprints"),
            )
        for member in archive.get("members", []):
            yield MemberRecord(person=person(member), role=member.get("role", "member"))
        for field in archive.get("custom_fields", []):
            yield CustomFieldRecord(
                name=field["name"],
                type=field["type"],
                key=field.get("key") or "",
                description=field.get("description") or "",
                unit=field.get("unit") or "",
                required=bool(field.get("required")),
                default=field.get("default"),
                show_on_card=bool(field.get("show_on_card")),
                options=[(option["name"], option.get("color") or "") for option in field.get("options", [])],
            )
    except (KeyError, TypeError, AttributeError) as exc:
        raise SourceError("the file", f"the project part is incomplete ({exc}).") from None
    for index, ticket in enumerate(archive.get("tickets", []), start=1):
        where = f"ticket {index}"
        try:
            yield _ticket(ticket, where)
        except (KeyError, TypeError, AttributeError) as exc:
            raise SourceError(where, f"a field is missing or malformed ({exc}).") from None


def _ticket(ticket: dict[str, Any], where: str) -> TicketRecord:
    key = ticket["key"]
    where = f"{where} ({key})"
    return TicketRecord(
        source_id=key,
        title=ticket["title"],
        position=where,
        body=ticket.get("body", ""),
        type=ticket.get("type", "task"),
        priority=ticket.get("priority", "medium"),
        column=ticket.get("column", ""),
        category=ticket.get("status", ""),
        assignee=person(ticket.get("assignee")),
        reporter=person(ticket.get("reporter")),
        labels=list(ticket.get("labels", [])),
        sprint=ticket.get("sprint") or "",
        parent=ticket.get("parent") or "",
        due_date=parse_date(ticket.get("due_date"), where),
        estimate=ticket.get("estimate"),
        created_at=parse_datetime(ticket.get("created_at"), where),
        updated_at=parse_datetime(ticket.get("updated_at"), where),
        closed_at=parse_datetime(ticket.get("closed_at"), where),
        closed_by=person(ticket.get("closed_by")),
        comments=[
            CommentRecord(
                source_id=f"{key}#comment-{n}",
                author=person(c.get("author")),
                text=c["text"],
                minutes=c.get("minutes"),
                created_at=parse_datetime(c.get("created_at"), where),
                updated_at=parse_datetime(c.get("updated_at"), where),
            )
            for n, c in enumerate(ticket.get("comments", []), start=1)
        ],
        checklist=[ChecklistRecord(text=i["text"], done=bool(i.get("done"))) for i in ticket.get("checklist", [])],
        custom_fields={name: (v[0], v[1]) for name, v in (ticket.get("custom_fields") or {}).items()},
        links=[(kind, other) for kind, other in ticket.get("links", [])],
    )
