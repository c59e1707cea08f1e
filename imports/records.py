"""The normalized records every source module yields, and the applier reads.

A source (imports/sources/<name>.py) turns its file into a stream of these, one at a time, so
a 10,000-ticket file is never held in memory: first what tickets refer to (people, columns,
labels, sprints), then the tickets themselves, each carrying its comments and checklist.

People are `Person`s (whatever the source knows: e-mail, user name, display name); the
applier matches them to PUNT users. Dates are aware datetimes (or dates for due dates).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

# Tickets written per batch of bulk statements (imports.applier); value and link rows go in
# twice as many at a time.
BATCH = 500

# A custom field's type as the sources guess it from values (the PUNT archive names any of
# tickets.models.CustomField.Type, with its definition in a CustomFieldRecord).
FIELD_TYPES = ("text", "number", "date", "select", "multi_select")


@dataclass(frozen=True)
class Person:
    """Someone the source names. Any part may be empty; `label` is what reports show."""

    email: str = ""
    username: str = ""
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or self.username or self.email

    def __bool__(self) -> bool:
        return bool(self.email or self.username or self.name)


@dataclass
class ColumnRecord:
    name: str
    category: str  # a Column.Category value
    wip_limit: int | None = None


@dataclass
class LabelRecord:
    name: str
    color: str = ""  # "#RRGGBB" or empty (PUNT picks one)
    description: str = ""


@dataclass
class SprintRecord:
    name: str
    goal: str = ""
    status: str = "planned"
    start_date: date | None = None
    end_date: date | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None


@dataclass
class MemberRecord:
    """A person the archive lists as a project member, with their role there."""

    person: Person
    role: str = "member"


@dataclass
class CustomFieldRecord:
    """A custom field's definition (the PUNT archive's): made as it is if the project has no
    live field of that name. Sources that know only values leave this out."""

    name: str
    type: str
    key: str = ""
    description: str = ""
    unit: str = ""
    required: bool = False
    default: Any = None
    show_on_card: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)  # (name, colour)


@dataclass
class CommentRecord:
    source_id: str
    author: Person
    text: str
    created_at: datetime | None = None
    updated_at: datetime | None = None
    minutes: int | None = None


@dataclass
class ChecklistRecord:
    text: str
    done: bool = False


@dataclass
class TicketRecord:
    """One ticket. `source_id` is the source's stable id (Jira key, Trello card id, issue number).

    `reference` is the original key users know it by ("PROJ-123", "#12"); it goes into the
    ticket's text so the list's search finds it. `position` is where the line/item was in the
    file, for error messages ("line 14", "card 3").
    """

    source_id: str
    title: str
    position: str = ""
    reference: str = ""
    # Another id the source's own references may use for this ticket (Jira's numeric issue id,
    # which its CSV's "Parent id" names).
    alt_id: str = ""
    url: str = ""  # the item's page at the source, shown in the imported ticket's footer
    body: str = ""
    type: str = "task"
    priority: str = "medium"
    column: str = ""  # a column name; empty: the first column of `category`
    category: str = ""  # a Column.Category value, for a column the project lacks
    assignee: Person = field(default_factory=Person)
    reporter: Person = field(default_factory=Person)
    labels: list[str] = field(default_factory=list)
    sprint: str = ""
    parent: str = ""  # the parent's source id
    due_date: date | None = None
    estimate: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by: Person = field(default_factory=Person)
    # Other people following the ticket (Trello's card members besides the first): watchers.
    watchers: list[Person] = field(default_factory=list)
    comments: list[CommentRecord] = field(default_factory=list)
    checklist: list[ChecklistRecord] = field(default_factory=list)
    # Attachments are kept as links (the files stay where the source keeps them).
    attachments: list[tuple[str, str]] = field(default_factory=list)  # (name, url)
    # {field name: (type, raw value)}: applied by apply_custom_fields. The raw value is text,
    # or a list of option names for a multi select, or (the archive) the API's JSON value.
    custom_fields: dict[str, tuple[str, Any]] = field(default_factory=dict)
    # [(kind, other ticket's source id)], kind in blocks/blocked_by/duplicates/duplicated_by/relates_to.
    links: list[tuple[str, str]] = field(default_factory=list)


Record = ColumnRecord | LabelRecord | SprintRecord | MemberRecord | CustomFieldRecord | TicketRecord


@dataclass(frozen=True)
class Options:
    """What a parser is told besides the file. `mapping` (generic CSV only): PUNT field -> the
    file's column name."""

    mapping: dict[str, str] = field(default_factory=dict)
