"""A card, declared once: the fields every surface shows for a ticket on a board or in a list.

`FIELDS` below is the only list of what a card holds. Everything else is derived from it:

- the columns to read (`columns(shape)`: ORM paths from Ticket, or a count of a related
  set), which tickets.fastpath turns into one SELECT and the ORM twin in the tests into a
  values_list();
- the row type (`Row[shape]`, a NamedTuple: attribute names, no positional indexes);
- the JSON (`payloads()`), compact for the board and events, full for lists and write
  responses, deleted for the admins' bin;
- the project's custom fields (issue 21): one `custom_fields` key, {field key: value}, read by
  a third statement per call (custom_field_selectors.custom_values) like the labels, every
  value in every shape (events and webhooks carry the compact card; the board shows only
  the fields marked show_on_card, from the field definitions it has anyway);
- the OpenAPI components (each field's `Schema`, which tickets.serializers turns into
  `CardCompactSerializer`, `CardSerializer` and `DeletedCardSerializer`: they describe the
  JSON and are never used to write it). This module imports no DRF: services use it.

Adding a read-only field is one `CardField(...)` line here (plus the model's migration).

Speed: a board is a thousand cards. The per-shape payload builder is generated once, at
import time, as a plain loop that unpacks each row into locals and writes one dict literal
(what the hand-written version did); the generated source is `builder_source(shape)`. Equal
small objects (a person, a sprint, a checklist progress) are shared between the cards of one
call: the JSON is the same and a board is thousands of allocations fewer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import User
from projects.models import Project
from tickets import fastpath
from tickets.custom_field_selectors import custom_values, custom_values_of
from tickets.models import Ticket

# Shapes, each a superset of the one before: the board's card, the card in lists and write
# responses, and the card in the bin of deleted cards.
COMPACT, FULL, DELETED = "compact", "full", "deleted"
SHAPES = (COMPACT, FULL, DELETED)


@dataclass(frozen=True)
class Count:
    """A column that counts a related set of the ticket (`relation`: its related_name), optionally
    only the rows where the boolean field `where` is true."""

    name: str
    relation: str
    where: str | None = None


Column = str | Count  # an ORM path from Ticket ("assignee__username"), or a Count


# --------------------------------------------------------------------------- kinds of fields


@dataclass(frozen=True)
class Schema:
    """What a field's JSON value is, for the OpenAPI description: a plain tag, so that services
    can import this module without DRF (tickets.serializers turns it into a serializer field).

    `type`: "integer", "string", "date", "datetime", or a small object: "person" (a user brief),
    "label", "sprint", "ticket" (a ticket brief), "progress" (done/total), "custom_fields"
    ({key: value}); `many`: a list of
    them; `read_only`: documented as read-only.
    """

    type: str
    nullable: bool = False
    many: bool = False
    read_only: bool = False


@dataclass(frozen=True)
class Kind:
    """How a field reads its columns into JSON: `expression` is Python over the columns' local
    names (see _builder), `schema` what the value is (for the OpenAPI component)."""

    columns: Callable[[str], tuple[Column, ...]]
    expression: str
    schema: Schema


def _one(path: str) -> tuple[Column, ...]:
    return (path,)


INTEGER = Kind(_one, "{0}", Schema("integer"))
OPTIONAL_INTEGER = Kind(_one, "{0}", Schema("integer", nullable=True))
TEXT = Kind(_one, "{0}", Schema("string"))
KEY = Kind(_one, 'f"{{key_prefix}}{{{0}}}"', Schema("string"))  # PROJ-42, from the number
DATE = Kind(_one, "iso_date({0})", Schema("date", nullable=True))
DATETIME = Kind(_one, "iso_datetime({0}, zone)", Schema("datetime"))
OPTIONAL_DATETIME = Kind(_one, "iso_datetime({0}, zone)", Schema("datetime", nullable=True))


def person_columns(name: str) -> tuple[str, ...]:
    """The columns person() reads of the user `name` (id, username, display_name, avatar)."""
    return (f"{name}_id", f"{name}__username", f"{name}__display_name", f"{name}__avatar")


PERSON = Kind(person_columns, "person({0}, {1}, {2}, {3})", Schema("person", nullable=True))
# The card's labels come from a second statement (fastpath.card_labels), keyed by the card's id.
LABELS = Kind(lambda name: ("id",), "labels.get({0}, [])", Schema("label", many=True))
SPRINT = Kind(lambda name: (f"{name}_id", f"{name}__name"), "sprint({0}, {1})", Schema("sprint", nullable=True))
# A parent is always in the same project, so its key needs no join.
PARENT = Kind(
    lambda name: (f"{name}_id", f"{name}__number", f"{name}__title"),
    'None if {0} is None else {{"id": {0}, "key": f"{{key_prefix}}{{{1}}}", "title": {2}}}',
    Schema("ticket", nullable=True, read_only=True),
)
# A card's custom field values come from a third statement (custom_values()), keyed by its id.
CUSTOM_FIELDS = Kind(lambda name: ("id",), "dict(custom_fields.get({0}, NO_VALUES))", Schema("custom_fields"))
CHECKLIST = Kind(
    lambda name: (Count(f"{name}_done", name, where="done"), Count(f"{name}_total", name)),  # the related_name
    "progress({0}, {1})",
    Schema("progress", read_only=True),
)


@dataclass(frozen=True)
class CardField:
    """One key of the card JSON: `kind` says how it is read and written, `source` which model
    field it reads when that is not the key itself ("status" reads "column__category")."""

    name: str
    kind: Kind
    source: str = ""
    shape: str = COMPACT  # the smallest shape that shows it
    columns: tuple[Column, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", self.kind.columns(self.source or self.name))


# The card. JSON keys come out in this order.
FIELDS: tuple[CardField, ...] = (
    CardField("id", INTEGER),
    CardField("key", KEY, source="number"),
    CardField("number", INTEGER),
    CardField("title", TEXT),
    CardField("type", TEXT),
    CardField("status", TEXT, source="column__category"),
    CardField("state", TEXT),
    CardField("column_id", INTEGER),
    CardField("position", INTEGER, source="rank"),
    CardField("priority", TEXT),
    CardField("assignee", PERSON),
    CardField("labels", LABELS),
    CardField("sprint", SPRINT),
    CardField("parent", PARENT),
    CardField("due_date", DATE),
    CardField("estimate", OPTIONAL_INTEGER),
    CardField("checklist", CHECKLIST),
    CardField("created_at", DATETIME),
    CardField("updated_at", DATETIME),
    CardField("closed_at", OPTIONAL_DATETIME),
    CardField("custom_fields", CUSTOM_FIELDS),
    CardField("body", TEXT, shape=FULL),
    CardField("body_html", TEXT, shape=FULL),
    CardField("reporter", PERSON, shape=FULL),
    CardField("deleted_at", DATETIME, shape=DELETED),
    CardField("deleted_by", PERSON, shape=DELETED),
)


def fields(shape: str) -> tuple[CardField, ...]:
    return tuple(card_field for card_field in FIELDS if SHAPES.index(card_field.shape) <= SHAPES.index(shape))


def column_name(column: Column) -> str:
    return column.name if isinstance(column, Count) else column


def columns(shape: str) -> tuple[Column, ...]:
    """The columns a `shape` row holds, each once, in the order of its first field."""
    return columns_of(fields(shape))


def columns_of(card_fields: Iterable[CardField]) -> tuple[Column, ...]:
    """The columns the fields read, each once, in the order of its first field."""
    seen: dict[str, Column] = {}
    for card_field in card_fields:
        for column in card_field.columns:
            seen.setdefault(column_name(column), column)
    return tuple(seen.values())


def _row_type(shape: str) -> type[tuple[Any, ...]]:
    return _row_type_of(f"{shape.capitalize()}CardRow", columns(shape))


def _row_type_of(name: str, card_columns: tuple[Column, ...]) -> type[tuple[Any, ...]]:
    names = [column_name(column) for column in card_columns]
    return NamedTuple(name, [(name, Any) for name in names])  # type: ignore[return-value]


Row: dict[str, type[tuple[Any, ...]]] = {shape: _row_type(shape) for shape in SHAPES}


# --------------------------------------------------------------------------- JSON


NO_OFFSET = timedelta(0)
_AVATAR_STORAGE = User._meta.get_field("avatar").storage


def iso_datetime_object(value: datetime | None, zone: Any) -> str | None:
    """What DRF's DateTimeField writes: ISO 8601 in the current time zone, UTC as "Z"."""
    if not value:
        return None
    # The database hands back UTC (psycopg as its own UTC zone object): nothing to convert to UTC.
    if value.tzinfo is not zone and not (zone is UTC and value.utcoffset() == NO_OFFSET):
        value = value.astimezone(zone) if timezone.is_aware(value) else timezone.make_aware(value, zone)
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def iso_datetime(value: datetime | str | None, zone: Any) -> str | None:
    """iso_datetime_object(), also of a timestamp as SQLite stores it (fastpath reads it as text):
    UTC, "YYYY-MM-DD HH:MM:SS[.ffffff]"."""
    if not isinstance(value, str):
        return iso_datetime_object(value, zone)
    if not value:
        return None
    if zone is UTC and len(value) in (19, 26) and value[10] == " ":
        # Python's isoformat() of the same instant: the same digits, "T" and "Z" around them.
        return f"{value[:10]}T{value[11:]}Z"
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError(f"Not a stored timestamp: {value!r}")
    return iso_datetime_object(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC), zone)


def iso_date(value: date | str | None) -> str | None:
    """A date as DRF's DateField writes it (SQLite's stored text is already that)."""
    if not value:
        return None
    return value if isinstance(value, str) else value.isoformat()


def _builder_source(shape: str) -> str:
    return _source_of(fields(shape))


def _source_of(card_fields: tuple[CardField, ...]) -> str:
    names = {column_name(column): f"c{index}" for index, column in enumerate(columns_of(card_fields))}
    entries = []
    for card_field in card_fields:
        local_names = [names[column_name(column)] for column in card_field.columns]
        entries.append(f"            {card_field.name!r}: {card_field.kind.expression.format(*local_names)},")
    body = "\n".join(entries)
    return (
        "def build(rows, labels, key_prefix, zone, person, sprint, progress, custom_fields):\n"
        "    cards = []\n"
        "    append = cards.append\n"
        f"    for {', '.join(names.values())}, in rows:\n"
        "        append({\n"
        f"{body}\n"
        "        })\n"
        "    return cards\n"
    )


def builder_source(shape: str) -> str:
    """The Python source of the `shape` payload builder (for reading; it is compiled at import)."""
    return _builder_source(shape)


def _compile(shape: str) -> Callable[..., list[dict[str, Any]]]:
    return _compile_source(_builder_source(shape), shape, {})


def _compile_source(
    source: str, name: str, helpers: dict[str, Callable[..., Any]]
) -> Callable[..., list[dict[str, Any]]]:
    namespace: dict[str, Any] = {"iso_date": iso_date, "iso_datetime": iso_datetime, "NO_VALUES": {}, **helpers}
    # Only field names and the kinds' fixed expressions go into the source: no data.
    exec(compile(source, f"<cards.{name}>", "exec"), namespace)  # noqa: S102
    build: Callable[..., list[dict[str, Any]]] = namespace["build"]
    return build


_BUILDERS = {shape: _compile(shape) for shape in SHAPES}


class _People:
    """UserBriefSerializer's output per person, computed once per person of the call (shared by roles)."""

    def __init__(self) -> None:
        self.seen: dict[int, dict[str, Any]] = {}

    def __call__(self, user_id: int | None, username: str, display_name: str, avatar: str) -> dict[str, Any] | None:
        if user_id is None:
            return None
        brief = self.seen.get(user_id)
        if brief is None:
            # User.name and avatar_url(), from the row's columns.
            url = _AVATAR_STORAGE.url(avatar) if avatar else None
            brief = self.seen[user_id] = {
                "id": user_id,
                "username": username,
                "name": display_name or username,
                "avatar": url,
            }
        return brief


def current_zone() -> Any:
    """The zone iso_datetime() writes in (the request's current time zone)."""
    zone = timezone.get_current_timezone()
    return UTC if getattr(zone, "key", None) == "UTC" else zone


def payloads(
    rows: Iterable[tuple[Any, ...]],
    *,
    project: Project,
    labels: dict[int, list[dict[str, Any]]],
    shape: str = COMPACT,
    custom_fields: dict[int, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The cards of `rows` (Row[shape], from fastpath.card_rows() or row_of()) as JSON-ready dicts.

    `labels`: {card id: [label brief, ...]} (fastpath.card_labels()); `custom_fields`: {card id:
    {field key: value}} (custom_field_selectors.custom_values()).
    """
    return _run(_BUILDERS[shape], rows, labels=labels, key_prefix=f"{project.key}-", custom_fields=custom_fields)


def _run(
    build: Callable[..., list[dict[str, Any]]],
    rows: Iterable[tuple[Any, ...]],
    *,
    labels: dict[int, list[dict[str, Any]]],
    key_prefix: str,
    custom_fields: dict[int, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """A compiled builder over `rows`, with the small objects shared between the cards of the call."""
    sprints: dict[int, dict[str, Any]] = {}
    progresses: dict[tuple[int, int], dict[str, int]] = {}

    def sprint(sprint_id: int | None, name: str) -> dict[str, Any] | None:
        if sprint_id is None:
            return None
        brief = sprints.get(sprint_id)
        if brief is None:
            brief = sprints[sprint_id] = {"id": sprint_id, "name": name}
        return brief

    def progress(done: int, total: int) -> dict[str, int]:
        brief = progresses.get((done, total))
        if brief is None:
            brief = progresses[done, total] = {"done": done, "total": total}
        return brief

    return build(rows, labels, key_prefix, current_zone(), _People(), sprint, progress, custom_fields or {})


# --------------------------------------------------------------------------- reads


def cards(tickets: list[int] | Any, *, project: Project, shape: str = COMPACT) -> list[dict[str, Any]]:
    """The cards of `tickets` (ids, in that order, or a queryset of tickets, in board order) in three
    statements: the rows, their labels and their custom field values."""
    rows = fastpath.card_rows(tickets, columns=columns(shape), row_type=Row[shape])
    return payloads(
        rows, project=project, labels=fastpath.card_labels(tickets), shape=shape, custom_fields=custom_values(tickets)
    )


def cards_across(
    tickets: list[tuple[int, int]], *, projects: dict[int, Project], shape: str = FULL
) -> list[dict[str, Any]]:
    """The cards of (id, project id) pairs from several projects, in that order, each with its
    project's brief (cross-project search): three statements, as cards() reads one project's."""
    ids = [ticket_id for ticket_id, _project_id in tickets]
    project_of = dict(tickets)
    rows_by_project: dict[int, list[Any]] = {}
    for row in fastpath.card_rows(ids, columns=columns(shape), row_type=Row[shape]):
        rows_by_project.setdefault(project_of[row[0]], []).append(row)  # a row starts with the id
    labels = fastpath.card_labels(ids)
    values = custom_values(ids)
    found: dict[int, dict[str, Any]] = {}
    for project_id, rows in rows_by_project.items():
        project = projects[project_id]
        brief = {"id": project.pk, "key": project.key, "slug": project.slug, "name": project.name}
        for payload in payloads(rows, project=project, labels=labels, shape=shape, custom_fields=values):
            payload["project"] = brief
            found[payload["id"]] = payload
    return [found[ticket_id] for ticket_id in ids if ticket_id in found]


def card(ticket: Ticket, *, shape: str = COMPACT) -> dict[str, Any]:
    """The card of one ticket, read as the board reads its cards (`ticket.project` attached)."""
    return cards([ticket.pk], project=ticket.project, shape=shape)[0]


def row_of(ticket: Ticket, *, shape: str = FULL) -> tuple[Any, ...]:
    """The Row[shape] of a ticket in memory, without a query.

    The ticket carries what the columns name as objects (its column, people, sprint, parent:
    select_related) and, as attributes, its counts (tickets_for_project() annotates them; a
    new ticket has none and counts 0).
    """
    return Row[shape](*_values_of(ticket, columns(shape)))


def _values_of(ticket: Ticket, card_columns: tuple[Column, ...]) -> list[Any]:
    """row_of()'s values of `card_columns`, read from the ticket in memory."""
    values: list[Any] = []
    for column in card_columns:
        if isinstance(column, Count):
            values.append(getattr(ticket, column.name, 0))
            continue
        value: Any = ticket
        for part in column.split("__"):
            value = getattr(value, part)
            if value is None:
                break
        if isinstance(value, FieldFile):
            value = value.name
        elif isinstance(value, str):
            value = str(value)  # a TextChoices member as its plain value
        values.append(value)
    return values


def labels_of(ticket: Ticket) -> dict[int, list[dict[str, Any]]]:
    """card_labels() of one ticket from its prefetched (or freshly read) labels."""
    return {ticket.pk: [{"id": label.pk, "name": label.name, "color": label.color} for label in ticket.labels.all()]}


def card_of(
    ticket: Ticket,
    *,
    shape: str = FULL,
    labels: dict[int, list[dict[str, Any]]] | None = None,
    custom_fields: dict[int, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The card of a ticket in memory (see row_of); `labels` default to the ticket's own and
    `custom_fields` ({id: {key: value}}) to its stored values (a query)."""
    labels = labels_of(ticket) if labels is None else labels
    if custom_fields is None:
        custom_fields = {ticket.pk: custom_values_of(ticket.pk)}
    row = row_of(ticket, shape=shape)
    return payloads([row], project=ticket.project, labels=labels, shape=shape, custom_fields=custom_fields)[0]


def compact(card: dict[str, Any]) -> dict[str, Any]:
    """A fuller card cut down to the compact card (what board events carry)."""
    return {card_field.name: card[card_field.name] for card_field in fields(COMPACT)}


def person_briefs() -> Callable[[int | None, str, str, str], dict[str, Any] | None]:
    """person(id, username, display_name, avatar) -> UserBriefSerializer's JSON (None without an
    id), each person built once per call of this function: for other rows that carry people."""
    return _People()


# --------------------------------------------------------------------------- cards of their own


class Card:
    """A card with fields of its own (a dialect's ticket JSON: other keys, other formats), read
    and built by the same machinery as the shapes above: its columns, row type and compiled
    builder are derived from `card_fields`, so a new field is one `CardField(...)` line in the
    declaring module.

    Its kinds' expressions may call the functions in `helpers` by name, besides iso_date,
    iso_datetime and the builder's arguments (labels, key_prefix, zone, person, sprint,
    progress, custom_fields: read only when a field of the card uses the CUSTOM_FIELDS kind).
    A card that spans projects reads its key from the row ("project__key") rather than from
    `key_prefix`. The first field must read the ticket's id (rows are matched by it).
    """

    def __init__(
        self, name: str, card_fields: tuple[CardField, ...], *, helpers: dict[str, Callable[..., Any]] | None = None
    ) -> None:
        self.name = name
        self.fields = card_fields
        self.columns = columns_of(card_fields)
        if self.columns[:1] != ("id",):
            raise ValueError(f"Card {name!r}: its first column must be the ticket's id.")
        self.row = _row_type_of(f"{name.capitalize()}CardRow", self.columns)
        self.source = _source_of(card_fields)
        self._build = _compile_source(self.source, name, helpers or {})
        self.reads_custom_fields = any(card_field.kind is CUSTOM_FIELDS for card_field in card_fields)

    def payloads(
        self,
        rows: Iterable[tuple[Any, ...]],
        *,
        labels: dict[int, list[dict[str, Any]]],
        key_prefix: str = "",
        custom_fields: dict[int, dict[str, Any]] | None = None,
    ) -> list[dict[str, Any]]:
        """The cards of `rows` (self.row: from read()'s statement or row_of())."""
        return _run(self._build, rows, labels=labels, key_prefix=key_prefix, custom_fields=custom_fields)

    def read(self, ids: list[int], *, key_prefix: str = "") -> list[dict[str, Any]]:
        """The cards of the tickets `ids`, in that order (missing ones left out), in two
        statements: the rows and their labels."""
        rows = fastpath.card_rows(ids, columns=self.columns, row_type=self.row)
        values = custom_values(ids) if self.reads_custom_fields else None
        return self.payloads(rows, labels=fastpath.card_labels(ids), key_prefix=key_prefix, custom_fields=values)

    def row_of(self, ticket: Ticket) -> tuple[Any, ...]:
        """The row of a ticket in memory, without a query (see the module's row_of())."""
        return self.row(*_values_of(ticket, self.columns))
