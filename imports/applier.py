"""Writes a source's records into a project: the one place an import changes data.

How it stays fast and whole (issue 21: 10,000 Jira rows in under a minute on SQLite, flat memory):
- Records stream in from the parser and are written in batches of BATCH tickets with bulk
  statements (tickets, their labels, comments, checklists and source-map rows), never one
  service call per ticket: ticket_create publishes an event, notifies, writes mentions and
  watchers per ticket, which is what an import must not fan out. What the batch writes is
  what ticket_create would store (the same field rules, tickets.services.inputs; bodies
  rendered by tickets.markdown; numbers from the project's counter; ranks at the bottom of
  the column), minus the per-ticket timeline "create" entry.
- The few project-level things (columns, labels, sprints, members) go through the projects
  services, each publishing its usual event.
- The caller runs all of it in one transaction (imports.services): a failure rolls everything
  back, and SourceError names the line/item. One summary event, "project.imported", is
  published on commit instead of a card event per ticket.

Idempotence: every ticket and comment made is remembered in SourceMap under (project, source
family, source id); a re-import finds them there and updates them in place. Checklists are
replaced as a whole; labels are matched by name.

People: matched to PUNT users by e-mail (any active user; one who is not yet a member is added
as a member), else by user name or display name among the project's members. Whoever is not
matched is reported, and their part stays attributed in the text: a comment starts with
"*Originally by NAME*", a ticket's footer says "Reported by NAME" / "Assigned to NAME".

Custom fields: matched by name to the project's live fields, missing ones made through the
custom-field service, values checked with its rule (clean_value) and written in bulk per batch
(imports.custom_values). Relations: written in bulk once every ticket exists, normalised and
checked as the relation service does (imports.links). People: imports.people.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import F, Max
from django.utils import timezone

from accounts.models import User
from imports.custom_values import apply_custom_fields, custom_field_definition
from imports.links import apply_links
from imports.models import SourceMap
from imports.people import People
from imports.records import (
    BATCH,
    ColumnRecord,
    CommentRecord,
    CustomFieldRecord,
    LabelRecord,
    MemberRecord,
    Record,
    SprintRecord,
    TicketRecord,
)
from imports.report import Report
from imports.sources import Source
from imports.sources.common import SourceError
from projects import services as project_services
from projects.models import Column, Label, Project, Sprint
from projects.services.common import color_validate
from punt.errors import PuntError
from tickets import markdown
from tickets.models import (
    ChecklistItem,
    Event,
    Placement,
    Ticket,
    Watcher,
)
from tickets.services import COMMENT_MAX, RANK_GAP
from tickets.services.inputs import _clean_body, _clean_estimate, _clean_title

Progress = Callable[[int], None]


@dataclass
class _Pending:
    """A written ticket whose parent or relations wait for the whole file (they may come later)."""

    ticket_id: int
    parent: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)


class Importer:
    """Apply one source's records to `project` as `by`. The caller holds the transaction.

    Precondition: `by` may manage the project (checked by the caller).
    """

    def __init__(self, *, project: Project, by: User, source: Source, progress: Progress | None = None) -> None:
        self.project = project
        self.by = by
        self.source = source
        self.family = source.family
        self.progress = progress
        self.report = Report(source=source.name)
        self.now = timezone.now()
        self.ticket_map: dict[str, int] = {}
        self.comment_map: dict[str, int] = {}
        for kind, source_id, object_id in SourceMap.objects.filter(project=project, source=self.family).values_list(
            "kind", "source_id", "object_id"
        ):
            (self.ticket_map if kind == SourceMap.Kind.TICKET else self.comment_map)[source_id] = object_id
        self.alt_ids: dict[str, str] = {}
        self.columns = {c.name.lower(): c for c in project.columns.all()}
        self.labels = {label.name.lower(): label for label in project.labels.all()}
        self.sprints = {s.name.lower(): s for s in project.sprints.all()}
        self.next_rank: dict[int, int] = {}
        self.pending: list[_Pending] = []
        self.batch: list[TicketRecord] = []
        # Tickets of the batch that a re-import moves to another column, with the category they left.
        self.moved: list[tuple[Ticket, str]] = []
        # Where each source id was first seen in this file: a second one is an error, not a copy.
        self.seen: dict[str, str] = {}
        # The last line/item read, for a failure that no record names (a database error).
        self.where = "the start of the file"
        self.people = People(project=project, by=by, report=self.report)

    # ------------------------------------------------------------------ the stream

    def run(self, records: Iterable[Record]) -> Report:
        for record in records:
            if isinstance(record, TicketRecord):
                self.where = record.position
                if record.source_id in self.seen:
                    raise SourceError(
                        record.position, f"{record.source_id} appears twice (first at {self.seen[record.source_id]})."
                    )
                self.seen[record.source_id] = record.position
                self.batch.append(record)
                if len(self.batch) >= BATCH:
                    self._flush()
            elif isinstance(record, ColumnRecord):
                self._column(record)
            elif isinstance(record, LabelRecord):
                self._label(record.name, color=record.color, description=record.description)
            elif isinstance(record, SprintRecord):
                self._sprint(record)
            elif isinstance(record, MemberRecord):
                self.people.member(record)
            elif isinstance(record, CustomFieldRecord):
                custom_field_definition(project=self.project, by=self.by, record=record, report=self.report)
        self._flush()
        self._resolve_parents()
        apply_links(project=self.project, by=self.by, links=self._links(), report=self.report)
        return self.report

    # ------------------------------------------------------------------ project-level things

    def _column(self, record: ColumnRecord, where: str = "") -> Column:
        found = self.columns.get(record.name.lower())
        if found is not None:
            return found
        try:
            column = project_services.column_create(
                project=self.project,
                name=record.name[:100],
                category=record.category or Column.Category.TODO,
                wip_limit=record.wip_limit,
                by=self.by,
            )
        except PuntError as exc:
            raise SourceError(where or f"column {record.name!r}", exc.message) from None
        self.columns[column.name.lower()] = column
        self.report.columns_created.append(column.name)
        return column

    def _column_for(self, record: TicketRecord) -> Column:
        if record.column:
            return self._column(ColumnRecord(name=record.column, category=record.category), record.position)
        category = record.category or Column.Category.TODO
        first = min(
            (c for c in self.columns.values() if c.category == category), key=lambda c: (c.order, c.pk), default=None
        )
        if first is not None:
            return first
        return self._column(ColumnRecord(name=Column.Category(category).label, category=category), record.position)

    def _label(self, name: str, *, color: str = "", description: str = "", where: str = "") -> Label:
        name = name.strip()[:50]
        found = self.labels.get(name.lower())
        if found is not None:
            return found
        try:
            checked = color_validate(color) if color else None
        except PuntError:
            checked = None
        try:
            label = project_services.label_create(
                project=self.project, name=name, color=checked, description=description[:200], by=self.by
            )
        except PuntError as exc:
            raise SourceError(where or f"label {name!r}", exc.message) from None
        self.labels[label.name.lower()] = label
        self.report.labels_created.append(label.name)
        return label

    def _sprint(self, record: SprintRecord, where: str = "") -> Sprint:
        found = self.sprints.get(record.name.strip().lower())
        if found is not None:
            return found
        try:
            sprint = project_services.sprint_create(
                project=self.project,
                name=record.name[:100],
                goal=record.goal,
                start_date=record.start_date,
                end_date=record.end_date,
                by=self.by,
            )
        except PuntError as exc:
            raise SourceError(where or f"sprint {record.name!r}", exc.message) from None
        status = record.status if record.status in Sprint.Status.values else Sprint.Status.PLANNED
        if status == Sprint.Status.ACTIVE and self.project.sprints.filter(status=Sprint.Status.ACTIVE).exists():
            self.report.warnings.append(f"Sprint {sprint.name!r} stays planned: the project has an active sprint.")
            status = Sprint.Status.PLANNED
        if status != Sprint.Status.PLANNED or record.started_at or record.completed_at:
            Sprint.objects.filter(pk=sprint.pk).update(
                status=status, started_at=record.started_at, completed_at=record.completed_at
            )
            sprint.status = status
        self.sprints[sprint.name.lower()] = sprint
        self.report.sprints_created.append(sprint.name)
        return sprint

    # ------------------------------------------------------------------ tickets, a batch at a time

    def _rank(self, column: Column) -> int:
        if column.pk not in self.next_rank:
            top = Ticket.objects.filter(column=column).aggregate(top=Max("rank"))["top"] or 0
            self.next_rank[column.pk] = top
        self.next_rank[column.pk] += RANK_GAP
        return self.next_rank[column.pk]

    def _numbers(self, count: int) -> list[int]:
        """`count` new ticket numbers from the project's counter (one UPDATE; the row stays locked)."""
        if not count:
            return []
        Project.objects.filter(pk=self.project.pk).update(ticket_counter=F("ticket_counter") + count)
        last = Project.objects.filter(pk=self.project.pk).values_list("ticket_counter", flat=True).get()
        self.project.ticket_counter = last
        return list(range(last - count + 1, last + 1))

    def _flush(self) -> None:
        records, self.batch = self.batch, []
        if not records:
            return
        existing = Ticket.objects.in_bulk(
            [self.ticket_map[r.source_id] for r in records if r.source_id in self.ticket_map]
        )
        new_records = [r for r in records if self.ticket_map.get(r.source_id) not in existing]
        numbers = iter(self._numbers(len(new_records)))
        tickets: list[Ticket] = []
        created: list[Ticket] = []
        labels_of: dict[int, list[Label]] = {}
        for record in records:
            ticket = existing.get(self.ticket_map.get(record.source_id, 0))
            if ticket is None:
                ticket = Ticket(project=self.project, number=next(numbers))
                created.append(ticket)
            try:
                self._fill(ticket, record)
                labels_of[id(ticket)] = [
                    self._label(name, where=record.position) for name in record.labels if name.strip()
                ]
            except PuntError as exc:
                if isinstance(exc, SourceError):
                    raise
                raise SourceError(record.position, exc.message) from None
            tickets.append(ticket)
        _write_rows(Ticket, all_rows=tickets, new_rows=created, fields=TICKET_FIELDS)
        self._write_placements(created)
        SourceMap.objects.bulk_create(
            SourceMap(
                project=self.project,
                source=self.family,
                kind=SourceMap.Kind.TICKET,
                source_id=record.source_id,
                object_id=ticket.pk,
                reference=record.reference[:255],
            )
            for record, ticket in zip(records, tickets, strict=True)
            if record.source_id not in self.ticket_map or self.ticket_map[record.source_id] != ticket.pk
        )
        SourceMap.objects.filter(
            project=self.project,
            source=self.family,
            kind=SourceMap.Kind.TICKET,
            source_id__in=[r.source_id for r in new_records if r.source_id in self.ticket_map],
        ).exclude(object_id__in=[t.pk for t in created]).delete()
        for record, ticket in zip(records, tickets, strict=True):
            self.ticket_map[record.source_id] = ticket.pk
            if record.alt_id:
                self.alt_ids[record.alt_id] = record.source_id
            if record.parent or record.links:
                self.pending.append(_Pending(ticket_id=ticket.pk, parent=record.parent, links=record.links))
        self._write_labels(tickets, labels_of)
        self._write_watchers(records, tickets)
        self._write_comments(records, tickets)
        self._write_checklists(records, tickets)
        apply_custom_fields(
            project=self.project,
            by=self.by,
            # Every ticket of the batch: one whose value is gone at the source loses it here too.
            values=[(t.pk, r.custom_fields) for r, t in zip(records, tickets, strict=True)],
            report=self.report,
            where={t.pk: r.position for r, t in zip(records, tickets, strict=True)},
        )
        self.report.tickets += len(records)
        self.report.tickets_created += len(created)
        self.report.tickets_updated += len(records) - len(created)
        if self.progress is not None:
            self.progress(self.report.tickets)

    def _fill(self, ticket: Ticket, record: TicketRecord) -> None:
        """Set the ticket's fields from the record (the same rules as ticket_create's)."""
        column = self._column_for(record)
        if ticket.pk is None or ticket.column_id != column.pk:
            if ticket.pk is not None:
                left = next(c.category for c in self.columns.values() if c.pk == ticket.column_id)
                self.moved.append((ticket, left))
            ticket.column = column
            ticket.rank = self._rank(column)
        ticket.title = _clean_title(record.title)
        ticket.type = record.type if record.type in Ticket.Type.values else Ticket.Type.TASK
        ticket.priority = record.priority if record.priority in Ticket.Priority.values else Ticket.Priority.MEDIUM
        assignee, assignee_known = self.people.user(record.assignee)
        reporter, reporter_known = self.people.user(record.reporter)
        ticket.assignee = assignee
        ticket.reporter = reporter
        ticket.body = _clean_body(self._body(record, assignee_known, reporter_known))
        ticket.body_html = render(ticket.body)
        ticket.sprint = self._sprint(SprintRecord(name=record.sprint), record.position) if record.sprint else None
        ticket.due_date = record.due_date
        if not record.parent:
            ticket.parent = None  # a parent the source names is set once every ticket exists
        ticket.estimate = _clean_estimate(record.estimate)
        created = record.created_at or ticket.created_at or self.now
        ticket.created_at = created
        ticket.updated_at = record.updated_at or created
        if column.category == Column.Category.DONE:
            ticket.state = Ticket.State.CLOSED
            ticket.closed_at = record.closed_at or ticket.updated_at
        else:
            ticket.state = Ticket.State.OPENED
            ticket.closed_at = None
        ticket.closed_by = self.people.user(record.closed_by)[0] if ticket.state == Ticket.State.CLOSED else None

    def _body(self, record: TicketRecord, assignee_known: bool, reporter_known: bool) -> str:
        """The source's text plus a footer saying where it came from and who, of the people
        without an account, did what (so it stays attributable and searchable)."""
        lines: list[str] = []
        if self.source.origin and record.reference:
            lines.append(f"Imported from {self.source.origin} {record.reference}.")
        if record.url:
            lines.append(f"<{record.url}>")
        if not reporter_known:
            lines.append(f"Reported by {record.reporter.label}.")
        if not assignee_known:
            lines.append(f"Assigned to {record.assignee.label}.")
        unknown_watchers = [p.label for p in record.watchers if not self.people.user(p)[1]]
        if unknown_watchers:
            lines.append(f"Also following: {', '.join(unknown_watchers)}.")
        if record.attachments:
            lines.append("Attachments:")
            lines += [f"- [{name}]({url})" for name, url in record.attachments]
        if not lines:
            return record.body
        # Plain lines (no Markdown) so that most imported texts take render()'s fast path.
        footer = "\n".join(lines)
        return f"{record.body}\n\n{footer}" if record.body else footer

    def _write_placements(self, created: list[Ticket]) -> None:
        """The board history insights read (tickets.models.Placement), at the source's dates: a new
        ticket enters its column when it was created; one created closed enters the board's first
        open column then and its done column when it was closed. A re-import's move is dated now."""
        first_open = min(
            (c for c in self.columns.values() if c.category != Column.Category.DONE),
            key=lambda c: (c.order, c.pk),
            default=None,
        )
        rows: list[Placement] = []
        for ticket in created:
            column = ticket.column
            entered = ticket.created_at
            if column.category == Column.Category.DONE and first_open is not None:
                rows.append(self._placement(ticket, first_open, None, entered))
                rows.append(
                    self._placement(ticket, column, first_open.category, max(ticket.closed_at or entered, entered))
                )
            else:
                rows.append(self._placement(ticket, column, None, entered))
        for ticket, left in self.moved:
            rows.append(self._placement(ticket, ticket.column, left, self.now))
        self.moved = []
        Placement.objects.bulk_create(rows)

    def _placement(self, ticket: Ticket, column: Column, left: str | None, at: datetime) -> Placement:
        return Placement(
            ticket_id=ticket.pk,
            project_id=self.project.pk,
            column=column,
            category=column.category,
            from_category=left,
            rank=ticket.rank,
            at=at,
        )

    def _write_labels(self, tickets: list[Ticket], labels_of: dict[int, list[Label]]) -> None:
        through = Ticket.labels.through
        through.objects.filter(ticket_id__in=[t.pk for t in tickets]).delete()
        through.objects.bulk_create(
            through(ticket_id=t.pk, label_id=label.pk)
            for t in tickets
            for label in {label.pk: label for label in labels_of[id(t)]}.values()
        )

    def _write_watchers(self, records: list[TicketRecord], tickets: list[Ticket]) -> None:
        """Assignee, reporter and the source's followers watch the ticket, as on a ticket made
        here (existing watchers stay: people may have followed it since the last import)."""
        rows = []
        for record, ticket in zip(records, tickets, strict=True):
            people = [ticket.assignee, ticket.reporter, *(self.people.cache.get(p) for p in record.watchers)]
            for user_id in {user.pk for user in people if user is not None}:
                rows.append(Watcher(ticket_id=ticket.pk, user_id=user_id))
        Watcher.objects.bulk_create(rows, ignore_conflicts=True)

    def _write_comments(self, records: list[TicketRecord], tickets: list[Ticket]) -> None:
        wanted = [(c, t, r.position) for r, t in zip(records, tickets, strict=True) for c in r.comments]
        if not wanted:
            return
        existing = Event.objects.in_bulk(
            [self.comment_map[c.source_id] for c, _, _ in wanted if c.source_id in self.comment_map]
        )
        events: list[Event] = []
        created: list[tuple[CommentRecord, Event]] = []
        for comment, ticket, position in wanted:
            event = existing.get(self.comment_map.get(comment.source_id, 0))
            if event is None or event.ticket_id != ticket.pk:
                event = Event(ticket=ticket, kind=Event.Kind.COMMENT)
                created.append((comment, event))
            author, known = self.people.user(comment.author)
            text = comment.text if known else f"Originally by {comment.author.label}:\n\n{comment.text}"
            if len(text) > COMMENT_MAX:
                raise SourceError(position, f"a comment is longer than {COMMENT_MAX} characters.")
            event.author = author
            event.text = text
            event.html = render(text)
            event.minutes = comment.minutes
            event.created_at = comment.created_at or ticket.created_at
            event.updated_at = comment.updated_at or event.created_at
            events.append(event)
        _write_rows(Event, all_rows=events, new_rows=[event for _, event in created], fields=COMMENT_FIELDS)
        SourceMap.objects.filter(
            project=self.project,
            source=self.family,
            kind=SourceMap.Kind.COMMENT,
            source_id__in=[c.source_id for c, _ in created if c.source_id in self.comment_map],
        ).delete()
        SourceMap.objects.bulk_create(
            SourceMap(
                project=self.project,
                source=self.family,
                kind=SourceMap.Kind.COMMENT,
                source_id=comment.source_id,
                object_id=event.pk,
            )
            for comment, event in created
        )
        for comment, event in created:
            self.comment_map[comment.source_id] = event.pk
        self.report.comments_created += len(created)
        self.report.comments_updated += len(events) - len(created)

    def _write_checklists(self, records: list[TicketRecord], tickets: list[Ticket]) -> None:
        ChecklistItem.objects.filter(ticket_id__in=[t.pk for t in tickets]).delete()
        items = [
            ChecklistItem(
                ticket=ticket,
                text=item.text[:500],
                done=item.done,
                order=order,
                done_at=(ticket.updated_at if item.done else None),
            )
            for record, ticket in zip(records, tickets, strict=True)
            for order, item in enumerate(record.checklist)
        ]
        ChecklistItem.objects.bulk_create(items)
        self.report.checklist_items += len(items)

    # ------------------------------------------------------------------ after the last ticket

    def _target(self, source_id: str) -> int | None:
        return self.ticket_map.get(source_id) or self.ticket_map.get(self.alt_ids.get(source_id, ""))

    def _resolve_parents(self) -> None:
        with_parent = [p for p in self.pending if p.parent]
        parents = {p.ticket_id: self._target(p.parent) for p in with_parent}
        missing = [p.parent for p in with_parent if parents[p.ticket_id] is None]
        if missing:
            names = ", ".join(sorted(set(missing))[:10])
            self.report.warnings.append(f"{len(missing)} parent(s) not in the file or project, left empty: {names}")
        for child, parent in parents.items():
            if parent and parent != child:
                Ticket.objects.filter(pk=child).update(parent_id=parent)

    def _links(self) -> list[tuple[int, str, int | None, str]]:
        return [(p.ticket_id, kind, self._target(other), other) for p in self.pending for kind, other in p.links]


# Every field _fill sets: what a re-import writes to an existing ticket.
TICKET_FIELDS = [
    "column",
    "rank",
    "title",
    "type",
    "priority",
    "assignee",
    "reporter",
    "body",
    "body_html",
    "sprint",
    "parent",
    "due_date",
    "estimate",
    "created_at",
    "updated_at",
    "state",
    "closed_at",
    "closed_by",
]


COMMENT_FIELDS = ["author", "text", "html", "minutes", "created_at", "updated_at"]


def _write_rows(
    model: type[Ticket] | type[Event], *, all_rows: list[Any], new_rows: list[Any], fields: list[str]
) -> None:
    """Insert `new_rows` keeping their source dates, and write `fields` of the other rows.

    auto_now_add/auto_now overwrite the dates on insert, so the source's are put back after it;
    the existing rows are written one UPDATE each (Django's bulk_update builds a CASE per field
    and row and cost 4x more than the rest of the import together)."""
    dates = [(row.created_at, row.updated_at) for row in new_rows]
    model.objects.bulk_create(new_rows)
    for row, (created_at, updated_at) in zip(new_rows, dates, strict=True):
        model.objects.filter(pk=row.pk).update(created_at=created_at, updated_at=updated_at)
        row.created_at, row.updated_at = created_at, updated_at
    new = {id(row) for row in new_rows}
    for row in all_rows:
        if id(row) not in new:
            model.objects.filter(pk=row.pk).update(**_values(row, fields))


def _values(row: Ticket | Event, names: list[str]) -> dict[str, Any]:
    """{column: value} of `row`'s fields (foreign keys by id, so nothing is fetched)."""
    fields = [row._meta.get_field(name) for name in names]
    return {field.attname: getattr(row, field.attname) for field in fields}  # type: ignore[union-attr]


# Text with none of Markdown's syntax: letters, digits, spaces and plain punctuation, no line
# that starts like a list, a heading underline, an indented block or ends in a hard break.
_PLAIN = re.compile(r"[A-Za-z0-9 ,.;:?!'\"()/\n-]*")
_NOT_PLAIN_LINE = re.compile(r"^(?:\s|-|\d+[.)])|\s$")


def render(text: str) -> str:
    """tickets.markdown.render(text) for an import (no references linked, no mentions styled),
    with a fast path for plain text: its HTML is paragraphs and line breaks, built here
    without the Markdown parser (1.8 ms a text, most of a 10,000-ticket import's time).
    tests/imports/test_render.py holds the fast path to the parser's output."""
    if not text or not _PLAIN.fullmatch(text) or any(_NOT_PLAIN_LINE.search(line) for line in text.split("\n") if line):
        return markdown.render(text, None, set())
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip("\n")) if p.strip()]
    return "\n".join("<p>" + "<br>\n".join(p.split("\n")) + "</p>" for p in paragraphs)
