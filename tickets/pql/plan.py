"""A resolved query: conditions on a ticket's own columns, with every name already an id.

tickets.pql.compiler turns the parser's tree into this plan (users, labels, sprints,
columns and functions looked up once). The plan has two readings, side by side so that a
rule's two forms are never apart:

- `q()`: a Django Q for one ORM query (lists, boards, search, view counts);
- `test(facts)`: plain Python over one ticket's `Facts` (live subscriptions and webhook
  filters, where the ticket is already loaded and many queries are tested against it).

tests/tickets/test_pql_table.py holds both to the same answers on SQLite and PostgreSQL.

Empty values: a comparison with a field that is empty is false (SQL's NULL), and NOT
negates it ("NOT assignee = bob" includes unassigned tickets, "assignee != bob" does not),
which is what Django's ~Q does for nullable columns.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime
from typing import Any

from django.db.models import Q

from tickets import search
from tickets.models import CustomFieldValue, Ticket, TicketRelation, Watcher

OPENED = Ticket.State.OPENED

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_LOOKUPS = {"=": "exact", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}


@dataclass
class Facts:
    """What a query can ask of one ticket (tickets.pql.facts loads them)."""

    id: int
    project_id: int
    number: int
    title: str
    body: str
    type: str
    category: str
    column_id: int
    priority: str
    assignee_id: int | None
    reporter_id: int | None
    sprint_id: int | None
    parent_id: int | None
    estimate: int | None
    due_date: date | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    state: str
    label_ids: frozenset[int]
    watcher_ids: frozenset[int]
    # Ticket links (TicketRelation): the other tickets' ids, as this ticket reads each kind.
    blocks_ids: frozenset[int] = frozenset()
    blocked_by_ids: frozenset[int] = frozenset()
    open_blocker_ids: frozenset[int] = frozenset()
    duplicates_ids: frozenset[int] = frozenset()
    duplicated_by_ids: frozenset[int] = frozenset()
    relates_ids: frozenset[int] = frozenset()
    # Custom field values: {field id: the values in the field's column (option ids, user ids,
    # numbers, dates, texts, booleans)}.
    custom_values: dict[int, tuple[Any, ...]] = dataclass_field(default_factory=dict)


# Plan attributes are ORM paths from Ticket; the few that cross a join have a plain name in Facts.
_FACT_NAMES = {"column__category": "category"}


def _fact(facts: Facts, attr: str) -> Any:
    return getattr(facts, _FACT_NAMES.get(attr, attr))


# --------------------------------------------------------------------------- nodes


@dataclass(frozen=True)
class Compare:
    """`attr op value` on a column of the ticket (op: = != > >= < <=)."""

    attr: str
    op: str
    value: Any

    def q(self) -> Q:
        if self.op == "!=":
            # Not equal and not empty (a NULL is not "another value").
            return Q(**{f"{self.attr}__isnull": False}) & ~Q(**{self.attr: self.value})
        return Q(**{f"{self.attr}__{_LOOKUPS[self.op]}": self.value})

    def test(self, facts: Facts) -> bool:
        value = _fact(facts, self.attr)
        return value is not None and _OPS[self.op](value, self.value)


@dataclass(frozen=True)
class OneOf:
    """`attr` is one of `values` (empty list: nothing)."""

    attr: str
    values: frozenset[Any]

    def q(self) -> Q:
        if len(self.values) == 1:
            # `=`, not `IN (x)`: SQLite uses a partial index (WHERE state = 'opened') only for a
            # query that says the same (PostgreSQL reads both alike).
            (value,) = self.values
            return Q(**{self.attr: value})
        return Q(**{f"{self.attr}__in": sorted(self.values)}) if self.values else Q(pk__in=[])

    def test(self, facts: Facts) -> bool:
        return _fact(facts, self.attr) in self.values


@dataclass(frozen=True)
class Empty:
    attr: str

    def q(self) -> Q:
        if self.attr == "body":
            return Q(body="")
        return Q(**{f"{self.attr}__isnull": True})

    def test(self, facts: Facts) -> bool:
        value = _fact(facts, self.attr)
        return value is None or value == ""


@dataclass(frozen=True)
class Contains:
    """Any of `attrs` contains `text`, ignoring case."""

    attrs: tuple[str, ...]
    text: str

    def q(self) -> Q:
        condition = Q()
        for attr in self.attrs:
            condition |= Q(**{f"{attr}__icontains": self.text})
        return condition

    def test(self, facts: Facts) -> bool:
        needle = self.text.lower()
        return any(needle in (_fact(facts, attr) or "").lower() for attr in self.attrs)


@dataclass(frozen=True)
class Search:
    """The title and body hold every phrase, as words (tickets.search: word starts, in order)."""

    phrases: tuple[search.Phrase, ...]

    def q(self) -> Q:
        return search.q(self.phrases)

    def test(self, facts: Facts) -> bool:
        return search.matches(self.phrases, facts.title, facts.body)


@dataclass(frozen=True)
class Matches:
    """`attr` equals `text`, ignoring case (title = "Fix login")."""

    attr: str
    text: str

    def q(self) -> Q:
        return Q(**{f"{self.attr}__iexact": self.text})

    def test(self, facts: Facts) -> bool:
        return (_fact(facts, self.attr) or "").lower() == self.text.lower()


def _links(kind: str, **more: Any) -> Callable[[], Any]:
    return lambda: TicketRelation.objects.filter(kind=kind, **more)


# Sets of related rows (labels, watchers, ticket links): a subquery each, so no join multiplies
# the rows. Each is (rows, the ticket's column, the held id's column); relates_ids reads both ways.
_RELATIONS: dict[str, tuple[tuple[Callable[[], Any], str, str], ...]] = {
    "label_ids": ((lambda: Ticket.labels.through.objects, "ticket_id", "label_id"),),
    "watcher_ids": ((lambda: Watcher.objects, "ticket_id", "user_id"),),
    "blocks_ids": ((_links("blocks"), "source_id", "target_id"),),
    "blocked_by_ids": ((_links("blocks"), "target_id", "source_id"),),
    # Blockers that still block: open and not deleted (`is blocked`).
    "open_blocker_ids": (
        (_links("blocks", source__state=OPENED, source__deleted_at__isnull=True), "target_id", "source_id"),
    ),
    "duplicates_ids": ((_links("duplicates"), "source_id", "target_id"),),
    "duplicated_by_ids": ((_links("duplicates"), "target_id", "source_id"),),
    "relates_ids": (
        (_links("relates_to"), "source_id", "target_id"),
        (_links("relates_to"), "target_id", "source_id"),
    ),
}


@dataclass(frozen=True)
class HasAny:
    """The ticket's `relation` (label_ids, watcher_ids, blocks_ids, ...) holds any of `ids`; no
    ids: it holds any."""

    relation: str
    ids: frozenset[int] | None

    def q(self) -> Q:
        condition = Q(pk__in=[])
        for manager, ticket_column, column in _RELATIONS[self.relation]:
            links = manager()
            if self.ids is not None:
                links = links.filter(**{f"{column}__in": sorted(self.ids)})
            condition |= Q(pk__in=links.values(ticket_column))
        return condition

    def test(self, facts: Facts) -> bool:
        held: frozenset[int] = getattr(facts, self.relation)
        return bool(held) if self.ids is None else not held.isdisjoint(self.ids)


_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "exact": operator.eq,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "in": lambda held, wanted: held in wanted,
    "iexact": lambda held, wanted: held.lower() == wanted.lower(),
    "icontains": lambda held, wanted: wanted.lower() in held.lower(),
}


@dataclass(frozen=True)
class HasCustom:
    """The ticket holds a value of custom field `field_id` whose `column` matches `lookup` (exact,
    iexact, icontains, in, gt, gte, lt, lte) `value`; lookup "any": any value at all.

    A subquery on the typed value table: its (field, <column>, ticket) indexes answer it.
    """

    field_id: int
    column: str  # of CustomFieldValue: text, number, date, option_id, user_id, flag
    lookup: str
    value: Any = None

    def q(self) -> Q:
        rows = CustomFieldValue.objects.filter(field_id=self.field_id)
        if self.lookup != "any":
            value = sorted(self.value) if self.lookup == "in" else self.value
            rows = rows.filter(**{f"{self.column}__{self.lookup}": value})
        return Q(pk__in=rows.values("ticket_id"))

    def test(self, facts: Facts) -> bool:
        held = facts.custom_values.get(self.field_id, ())
        if self.lookup == "any":
            return bool(held)
        check = _TESTS[self.lookup]
        return any(value is not None and check(value, self.value) for value in held)


@dataclass(frozen=True)
class Always:
    value: bool

    def q(self) -> Q:
        return Q() if self.value else Q(pk__in=[])

    def test(self, facts: Facts) -> bool:
        return self.value


@dataclass(frozen=True)
class AllOf:
    items: tuple[Plan, ...]

    def q(self) -> Q:
        condition = Q()
        for item in self.items:
            condition &= item.q()
        return condition

    def test(self, facts: Facts) -> bool:
        return all(item.test(facts) for item in self.items)


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Plan, ...]

    def q(self) -> Q:
        if not self.items:
            return Q(pk__in=[])
        condition = self.items[0].q()
        for item in self.items[1:]:
            condition |= item.q()
        return condition

    def test(self, facts: Facts) -> bool:
        return any(item.test(facts) for item in self.items)


@dataclass(frozen=True)
class Negation:
    item: Plan

    def q(self) -> Q:
        return ~self.item.q()

    def test(self, facts: Facts) -> bool:
        return not self.item.test(facts)


Plan = Compare | OneOf | Empty | Contains | Search | Matches | HasAny | HasCustom | Always | AllOf | AnyOf | Negation


def all_of(items: Iterable[Plan]) -> Plan:
    items = tuple(items)
    return items[0] if len(items) == 1 else AllOf(items)


def any_of(items: Iterable[Plan]) -> Plan:
    items = tuple(items)
    return items[0] if len(items) == 1 else AnyOf(items)
