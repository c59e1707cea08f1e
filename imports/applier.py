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
(apply_custom_fields). Relations: written in bulk once every ticket exists, normalised and
checked as the relation service does (apply_links).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import F, Max, Q, prefetch_related_objects
from django.utils import timezone

from accounts.models import User
from imports.models import SourceMap
from imports.records import (
    ColumnRecord,
    CommentRecord,
    CustomFieldRecord,
    LabelRecord,
    MemberRecord,
    Person,
    Record,
    SprintRecord,
    TicketRecord,
)
from imports.sources import Source
from imports.sources.common import SourceError, parse_datetime, split_list
from projects import services as project_services
from projects.models import Column, Label, Membership, Project, Sprint
from projects.services.common import color_validate
from punt import errors
from punt.errors import PuntError
from tickets import markdown
from tickets.models import (
    ChecklistItem,
    CustomField,
    CustomFieldOption,
    CustomFieldValue,
    Event,
    Ticket,
    TicketRelation,
    Watcher,
)
from tickets.services import COMMENT_MAX, RANK_GAP
from tickets.services.custom_fields import OPTIONS_MAX, custom_field_create
from tickets.services.custom_values import clean_value
from tickets.services.inputs import _clean_body, _clean_estimate, _clean_title
from tickets.services.relations import blocks_would_cycle

BATCH = 500

FieldType = CustomField.Type

Progress = Callable[[int], None]


@dataclass
class Report:
    """What an import did (or, in a dry run, would do). Stored as JSON on the ImportRun."""

    source: str
    dry_run: bool = False
    tickets: int = 0
    tickets_created: int = 0
    tickets_updated: int = 0
    comments_created: int = 0
    comments_updated: int = 0
    checklist_items: int = 0
    columns_created: list[str] = field(default_factory=list)
    labels_created: list[str] = field(default_factory=list)
    sprints_created: list[str] = field(default_factory=list)
    members_added: list[str] = field(default_factory=list)
    # "name in the file" -> "PUNT user name (how matched)"
    users_matched: dict[str, str] = field(default_factory=dict)
    # "name in the file" -> how many tickets/comments name them
    users_unknown: dict[str, int] = field(default_factory=dict)
    # custom field name -> {"type": its type, "created": made by this import, "tickets": how
    # many tickets get a value, "options_created": [select options added]}
    custom_fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    custom_values: int = 0  # value rows written
    # stored relation kind -> links added; links already there; links to tickets not in the
    # file or project (named in a warning, as are blocks links left out for closing a cycle)
    links: dict[str, int] = field(default_factory=dict)
    links_existing: int = 0
    links_unresolved: int = 0
    warnings: list[str] = field(default_factory=list)
    error: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


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
        # Where each source id was first seen in this file: a second one is an error, not a copy.
        self.seen: dict[str, str] = {}
        # The last line/item read, for a failure that no record names (a database error).
        self.where = "the start of the file"
        self.people = _People(project=project, by=by, report=self.report)

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


# --------------------------------------------------------------------------- custom fields and links

_TRUE = {"true", "yes", "y", "1", "x", "on", "checked"}
_FALSE = {"false", "no", "n", "0", "off", "unchecked"}


def _field_value(field: CustomField, raw: Any) -> Any:
    """A source's raw value as the API JSON clean_value() reads for `field`'s type. Sources give
    text (the archive gives JSON already); text that cannot be read as the type is passed on as
    it is, so that clean_value's message says what is wrong with it."""
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    if not text:
        return None
    kind = field.type
    if kind == FieldType.NUMBER:
        try:
            return float(text)
        except ValueError:
            return text
    if kind == FieldType.DATE:
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
        try:
            when = parse_datetime(text)
        except PuntError:
            return text
        return when.date() if when else None
    if kind == FieldType.MULTI_SELECT:
        return split_list(text)
    if kind == FieldType.CHECKBOX:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
    return raw


def _lookup(name: str) -> str:
    """A field name as fields are matched: any case, spaces as the service keeps them."""
    return " ".join(name.split())[:100].lower()


def _field_type(kinds: set[str]) -> str:
    """The type of a field made for a batch's values: the guessed type they share, else text
    (the only one that holds them all)."""
    if len(kinds) == 1 and (kind := next(iter(kinds))) in FieldType.values:
        return kind
    return FieldType.TEXT


def _add_options(field: CustomField, names: Iterable[str], report: Report) -> None:
    """Options of a select field named by the import's values that it lacks yet, at the end."""
    if field.type not in (FieldType.SELECT, FieldType.MULTI_SELECT):
        return
    options = list(field.options.all())
    have = {option.name.lower() for option in options}
    missing: dict[str, str] = {}
    for name in names:
        name = " ".join(name.split())[:100]
        if name and name.lower() not in have:
            missing.setdefault(name.lower(), name)
    if not missing:
        return
    if len(options) + len(missing) > OPTIONS_MAX:
        message = f"its values name {len(options) + len(missing)} options; a field has at most {OPTIONS_MAX}."
        raise SourceError(f"custom field {field.name!r}", message)
    last = max((option.position for option in options), default=-1)
    CustomFieldOption.objects.bulk_create(
        CustomFieldOption(field=field, name=name, position=last + n) for n, name in enumerate(missing.values(), 1)
    )
    report.custom_fields[field.name].setdefault("options_created", []).extend(missing.values())
    field._prefetched_objects_cache = {}  # type: ignore[attr-defined]  # read the options again
    prefetch_related_objects([field], "options")


def custom_field_definition(*, project: Project, by: User, record: CustomFieldRecord, report: Report) -> None:
    """A field the archive defines (with its options, colours, default and flags): made through
    the custom-field service unless the project has a live field of that name already, which
    is kept as it is (its values are still set from the tickets)."""
    live = CustomField.objects.filter(project=project, deleted_at__isnull=True)
    if live.filter(name__iexact=record.name.strip()).exists():
        return
    key = record.key if record.key and not live.filter(key=record.key).exists() else None
    try:
        field = custom_field_create(
            project=project,
            by=by,
            name=record.name,
            type=record.type,
            key=key,
            description=record.description,
            unit=record.unit,
            required=record.required,
            default=record.default,
            show_on_card=record.show_on_card,
            options=[{"name": name, "color": color or None} for name, color in record.options],
        )
    except PuntError as exc:
        raise SourceError(f"custom field {record.name!r}", errors.message(exc)) from None
    report.custom_fields[field.name] = {"type": field.type, "created": True, "tickets": 0}


def apply_custom_fields(
    *,
    project: Project,
    by: User,
    values: list[tuple[int, dict[str, tuple[str, Any]]]],
    report: Report,
    where: Mapping[int, str] | None = None,
) -> None:
    """Custom-field values of a batch of written tickets: [(ticket id, {name: (type, raw)})].

    Fields are matched to the project's live fields by name (any case); a missing one is made
    (custom-field service) with the guessed type, and a select field gets the options its
    values name. The values are checked with clean_value(), the rule ticket_update follows,
    and written in bulk: the batch's rows of the fields named replace the old ones, so a
    re-import updates them. A value that does not fit its field fails the import (SourceError
    naming the ticket's line/item from `where`). No event per ticket: the import's summary
    event covers them. Fields' defaults are not filled in and required fields may stay empty:
    an import keeps the source's values as they are (an archive's round trip stays exact), as
    tickets made before a field became required keep theirs.
    """
    kinds: dict[str, set[str]] = {}
    spelled: dict[str, str] = {}
    named: set[str] = set()
    for _, fields in values:
        for name, (kind, raw) in fields.items():
            named.add(_lookup(name))
            if raw is None or raw == "" or raw == []:
                continue
            kinds.setdefault(_lookup(name), set()).add(kind)
            spelled.setdefault(_lookup(name), " ".join(name.split())[:100])
    if not named:
        return
    live = {
        _lookup(field.name): field
        for field in CustomField.objects.filter(project=project, deleted_at__isnull=True).prefetch_related("options")
    }
    for lowered, name in spelled.items():
        if lowered not in live:
            try:
                live[lowered] = custom_field_create(project=project, by=by, name=name, type=_field_type(kinds[lowered]))
            except PuntError as exc:
                raise SourceError(f"custom field {name!r}", errors.message(exc)) from None
            report.custom_fields[live[lowered].name] = {"type": live[lowered].type, "created": True, "tickets": 0}
        field = live[lowered]
        report.custom_fields.setdefault(field.name, {"type": field.type, "created": False, "tickets": 0})
    # Options the values name that the select fields lack.
    option_names: dict[int, list[str]] = {}
    converted: list[tuple[int, CustomField, Any]] = []
    for ticket_id, fields in values:
        for name, (_kind, raw) in fields.items():
            if _lookup(name) not in live:
                continue
            field = live[_lookup(name)]
            value = _field_value(field, raw)
            converted.append((ticket_id, field, value))
            if field.type == FieldType.SELECT and isinstance(value, str):
                option_names.setdefault(field.pk, []).append(value)
            elif field.type == FieldType.MULTI_SELECT and isinstance(value, list):
                option_names.setdefault(field.pk, []).extend(item for item in value if isinstance(item, str))
    by_id = {field.pk: field for field in live.values()}
    for field_id, names in option_names.items():
        _add_options(by_id[field_id], names, report)
    # Check every value, then replace the batch's rows of these fields in two statements.
    checked: dict[tuple[int, str], list[dict[str, Any]]] = {}
    rows: list[CustomFieldValue] = []
    for ticket_id, field, value in converted:
        memo = (field.pk, repr(value))
        if memo not in checked:
            try:
                checked[memo] = clean_value(project=project, field=field, value=value)[0]
            except PuntError as exc:
                at = (where or {}).get(ticket_id, f"ticket {ticket_id}")
                raise SourceError(at, f"custom field {field.name!r}: {errors.message(exc)}") from None
        rows += [CustomFieldValue(ticket_id=ticket_id, field_id=field.pk, **row) for row in checked[memo]]
        if checked[memo]:
            report.custom_fields[field.name]["tickets"] += 1
    # Only the fields the batch names: values of fields the source does not know (set here
    # since the last import) stay.
    CustomFieldValue.objects.filter(
        ticket_id__in=[ticket_id for ticket_id, _ in values],
        field_id__in=[live[name].pk for name in named if name in live],
    ).delete()
    CustomFieldValue.objects.bulk_create(rows, batch_size=BATCH * 2)
    report.custom_values += len(rows)


# Each kind a source names, as (stored kind, whether the ticket naming it is the source).
LINK_KINDS: dict[str, tuple[str, bool]] = {
    "blocks": (TicketRelation.Kind.BLOCKS.value, True),
    "blocked_by": (TicketRelation.Kind.BLOCKS.value, False),
    "is_blocked_by": (TicketRelation.Kind.BLOCKS.value, False),
    "duplicates": (TicketRelation.Kind.DUPLICATES.value, True),
    "duplicated_by": (TicketRelation.Kind.DUPLICATES.value, False),
    "is_duplicated_by": (TicketRelation.Kind.DUPLICATES.value, False),
    "relates_to": (TicketRelation.Kind.RELATES_TO.value, True),
}


class _Blocks:
    """The blocks graph for the cycle check while links are added in bulk: the project's
    tickets' blocks links read once, other tickets' (a chain may cross projects) when the check
    reaches them, and the links this import adds as it goes."""

    def __init__(self, project: Project) -> None:
        self.next: dict[int, set[int]] = {}
        self.read: set[int] = set(Ticket.objects.filter(project=project).values_list("pk", flat=True))
        for source, target in TicketRelation.objects.filter(
            kind=TicketRelation.Kind.BLOCKS, source__project=project
        ).values_list("source_id", "target_id"):
            self.next.setdefault(source, set()).add(target)

    def successors(self, frontier: set[int]) -> set[int]:
        unread = frontier - self.read
        if unread:
            for source, target in TicketRelation.objects.filter(
                kind=TicketRelation.Kind.BLOCKS, source_id__in=unread
            ).values_list("source_id", "target_id"):
                self.next.setdefault(source, set()).add(target)
            self.read |= unread
        return {target for node in frontier for target in self.next.get(node, ())}

    def add(self, source: int, target: int) -> None:
        self.next.setdefault(source, set()).add(target)


def apply_links(*, project: Project, by: User, links: list[tuple[int, str, int | None, str]], report: Report) -> None:
    """Relations between tickets, once all are written: [(ticket id, kind, other ticket id or
    None when not in the file or project, other's source id)].

    Normalised as the relation service stores them (Jira lists a link from both ends:
    blocked_by(a, b) is blocks(b, a); relates_to has no direction) and written in bulk, each
    once: a link the project has already (a re-import) is skipped, as relation_add() refuses
    it, and so is a blocks link that would close a cycle (the service's check, over the
    links so far and those added here). Links to tickets outside the file and project are
    counted as unresolved and named in a warning. No event per link: the summary covers them.
    """
    wanted: dict[tuple[str, frozenset[int]], tuple[int, int]] = {}
    unresolved: list[str] = []
    for ticket_id, kind, other_id, other_source in links:
        if other_id is None:
            unresolved.append(other_source)
            continue
        if ticket_id == other_id or kind not in LINK_KINDS:
            continue
        stored, forward = LINK_KINDS[kind]
        source, target = (ticket_id, other_id) if forward else (other_id, ticket_id)
        # relation_add refuses a second link of a kind between two tickets, either way round.
        wanted.setdefault((stored, frozenset((source, target))), (source, target))
    report.links_unresolved += len(unresolved)
    if unresolved:
        names = ", ".join(sorted(set(unresolved))[:10])
        report.warnings.append(f"{len(unresolved)} link(s) to tickets not in the file or project, left out: {names}")
    if not wanted:
        return
    existing = {
        (kind, frozenset((source, target)))
        for kind, source, target in TicketRelation.objects.filter(
            Q(source__project=project) | Q(target__project=project)
        ).values_list("kind", "source_id", "target_id")
    }
    blocks = _Blocks(project)
    rows: list[TicketRelation] = []
    cycles: list[tuple[int, int]] = []
    for (kind, pair), (source, target) in wanted.items():
        if (kind, pair) in existing:
            report.links_existing += 1
            continue
        if kind == TicketRelation.Kind.BLOCKS:
            if blocks_would_cycle(blocker_id=source, blocked_id=target, successors=blocks.successors):
                cycles.append((source, target))
                continue
            blocks.add(source, target)
        rows.append(TicketRelation(source_id=source, target_id=target, kind=kind, created_by=by))
        report.links[kind] = report.links.get(kind, 0) + 1
    TicketRelation.objects.bulk_create(rows, batch_size=BATCH * 2)
    if cycles:
        keys = dict(Ticket.objects.filter(pk__in={pk for pair in cycles for pk in pair}).values_list("pk", "number"))
        named = ", ".join(f"{project.key}-{keys[s]} blocks {project.key}-{keys[t]}" for s, t in cycles[:10])
        report.warnings.append(f"{len(cycles)} blocks link(s) left out: each would close a cycle ({named}).")


# --------------------------------------------------------------------------- people


class _People:
    """Matches a source's people to PUNT users, once per person, and keeps the report's lists."""

    def __init__(self, *, project: Project, by: User, report: Report) -> None:
        self.project = project
        self.by = by
        self.report = report
        self.cache: dict[Person, User | None] = {}
        self.by_email: dict[str, User] = {}
        self.by_username: dict[str, User] = {}
        self.by_name: dict[str, User] = {}
        for membership in Membership.objects.filter(project=project).select_related("user"):
            self._remember(membership.user)

    def _remember(self, user: User) -> None:
        if user.email:
            self.by_email[user.email.lower()] = user
        self.by_username[user.username.lower()] = user
        if user.display_name:
            self.by_name.setdefault(user.display_name.lower(), user)
        name = user.get_full_name()
        if name:
            self.by_name.setdefault(name.lower(), user)

    def _site_user(self, *, email: str = "", username: str = "") -> User | None:
        users = User.objects.filter(is_active=True)
        if email:
            return users.filter(email__iexact=email).order_by("id").first()
        return users.filter(username__iexact=username).first()

    def _join(self, user: User, role: str = Membership.Role.MEMBER) -> None:
        if role == Membership.Role.OWNER:
            role = Membership.Role.ADMIN  # a project has one owner: the importing project's
        project_services.membership_add(project=self.project, username=user.username, role=role, by=self.by)
        self._remember(user)
        self.report.members_added.append(user.username)

    def _match(self, person: Person, role: str = Membership.Role.MEMBER) -> tuple[User | None, str]:
        email = person.email.strip().lower()
        if email:
            if email in self.by_email:
                return self.by_email[email], "e-mail"
            user = self._site_user(email=email)
            if user is not None:
                self._join(user, role)
                return user, "e-mail"
        for value in (person.username, person.name):
            value = value.strip().lower()
            if value and value in self.by_username:
                return self.by_username[value], "user name"
            if value and value in self.by_name:
                return self.by_name[value], "name"
        return None, ""

    def user(self, person: Person) -> tuple[User | None, bool]:
        """(the user, True) if matched or nobody was named; (None, False) for an unknown person."""
        if not person:
            return None, True
        if person not in self.cache:
            user, how = self._match(person)
            self.cache[person] = user
            if user is not None:
                self.report.users_matched[person.label] = f"{user.username} (by {how})"
        user = self.cache[person]
        if user is None:
            self.report.users_unknown[person.label] = self.report.users_unknown.get(person.label, 0) + 1
            return None, False
        return user, True

    def member(self, record: MemberRecord) -> None:
        """An archive's member: matched site-wide by e-mail, else by user name when no e-mail is
        given (the archive names PUNT accounts), and added with their role if not a member yet."""
        person = record.person
        role = record.role if record.role in Membership.Role.values else Membership.Role.MEMBER
        user, how = self._match(person, role)
        if user is None and not person.email and person.username:
            user = self._site_user(username=person.username)
            how = "user name"
            if user is not None:
                self._join(user, role)
        self.cache[person] = user
        if user is None:
            self.report.users_unknown.setdefault(person.label, 0)
        else:
            self.report.users_matched[person.label] = f"{user.username} (by {how})"
