"""PQL, PUNT's query language: `assignee = me() AND priority >= high ORDER BY updated DESC`.

One language for the card list, the board, cross-project search, saved views, live
subscriptions and webhook filters. The grammar is in `syntax` (a hand-written
recursive-descent parser), the fields and functions in `compiler`, and what a compiled
query does in `plan`: one Django Q for the database, or a test of one ticket's `Facts` in
Python where the ticket is already at hand (an event fanned out to many subscribers).

    compiled = pql.compile_query("label = backend status != done", pql.project_scope(project, user))
    tickets = pql.apply(queryset, compiled)            # filtered, and ordered if it says ORDER BY
    facts = pql.load_facts([ticket.pk])[ticket.pk]
    compiled.test(facts)                               # the same answer, in Python

Errors are `PqlError` (a 400 in the API's shape, with the position in `details`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import CharField, QuerySet, Value

from projects.models import Project
from projects.permissions import visible_projects
from tickets.models import CustomFieldValue, Ticket, TicketRelation, Watcher
from tickets.pql.compiler import FIELDS, FUNCTIONS, Compiled, Compiler, Scope, custom_column
from tickets.pql.plan import Facts, Plan
from tickets.pql.syntax import InList, Literal, PqlError, Query, parse

__all__ = [
    "FIELDS",
    "FUNCTIONS",
    "Compiled",
    "Facts",
    "Plan",
    "PqlError",
    "Query",
    "Scope",
    "apply",
    "compile_query",
    "fixed_filter",
    "load_facts",
    "parse",
    "project_scope",
    "text_search",
    "user_scope",
]


def project_scope(project: Project, user: Any) -> Scope:
    return Scope(projects=[project], user=user)


def user_scope(user: Any) -> Scope:
    """Every project `user` can see (cross-project search)."""
    return Scope(projects=list(visible_projects(user).order_by("pk")), user=user)


def compile_query(text: str | Query, scope: Scope) -> Compiled:
    query = parse(text) if isinstance(text, str) else text
    return Compiler(scope).compile(query)


def text_search(text: str, scope: Scope) -> Plan:
    """Plain text search (the fixed `?q=` of the older filters): PQL's free text, each
    whitespace-separated word required (tickets.search), quotes taken as typed."""
    return Compiler(scope).text(text.split())


def fixed_filter(field: str, values: list[str], scope: Scope) -> Plan:
    """A fixed filter parameter (`?status=todo,done`) as the PQL condition `status IN (todo, done)`:
    the older filters and PQL share one rule per field."""
    literals = tuple(Literal(value, True, 0) for value in values)
    return Compiler(scope).node(InList(field, literals, False, 0))


def apply(queryset: QuerySet[Ticket], compiled: Compiled) -> QuerySet[Ticket]:
    """`queryset` filtered by the query, ordered by its ORDER BY (then id) when it has one."""
    queryset = queryset.filter(compiled.q())
    if compiled.order:
        queryset = queryset.order_by(*compiled.order, "id")
    return queryset


def load_facts(ticket_ids: Iterable[int]) -> dict[int, Facts]:
    """What queries test, for these tickets: three queries whatever the number of tickets (their
    rows; their labels, watchers and ticket links in one UNION ALL; their custom field values)."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return {}
    held: dict[int, dict[str, set[int]]] = {}
    for ticket_id, other_id, name in _held_rows(ids):
        held.setdefault(ticket_id, {}).setdefault(name, set()).add(other_id)
    custom: dict[int, dict[int, list[Any]]] = {}
    values = CustomFieldValue.objects.filter(ticket_id__in=ids, field__deleted_at__isnull=True)
    for ticket_id, field_id, field_type, *columns in values.values_list(
        "ticket_id", "field_id", "field__type", *_CUSTOM_COLUMNS
    ):
        value = columns[_CUSTOM_COLUMNS.index(custom_column(field_type))]
        custom.setdefault(ticket_id, {}).setdefault(field_id, []).append(value)
    facts = {}
    for row in Ticket.objects.filter(pk__in=ids).values(*_FACT_COLUMNS):
        row["category"] = row.pop("column__category")
        mine = held.get(row["id"], {})
        for name in _HELD:
            row[name] = frozenset(mine.get(name, ()))
        row["custom_values"] = {field_id: tuple(held) for field_id, held in custom.get(row["id"], {}).items()}
        facts[row["id"]] = Facts(**row)
    return facts


# Facts' sets of ids, read together by _held_rows().
_HELD = (
    "label_ids",
    "watcher_ids",
    "blocks_ids",
    "blocked_by_ids",
    "open_blocker_ids",
    "duplicates_ids",
    "duplicated_by_ids",
    "relates_ids",
)


def _held_rows(ids: list[int]) -> Any:
    """(ticket id, held id, Facts field) rows: the rules of plan._RELATIONS as one query."""

    def part(queryset: QuerySet[Any], ticket_column: str, column: str, name: str) -> Any:
        name_value = Value(name, output_field=CharField())
        rows = queryset.filter(**{f"{ticket_column}__in": ids}).order_by()
        return rows.values_list(ticket_column, column, name_value)

    links = TicketRelation.objects.all()
    blocks = links.filter(kind=TicketRelation.Kind.BLOCKS)
    duplicates = links.filter(kind=TicketRelation.Kind.DUPLICATES)
    relates = links.filter(kind=TicketRelation.Kind.RELATES_TO)
    open_blockers = blocks.filter(source__state=Ticket.State.OPENED, source__deleted_at__isnull=True)
    first = part(Ticket.labels.through.objects.all(), "ticket_id", "label_id", "label_ids")
    return first.union(
        part(Watcher.objects.all(), "ticket_id", "user_id", "watcher_ids"),
        part(blocks, "source_id", "target_id", "blocks_ids"),
        part(blocks, "target_id", "source_id", "blocked_by_ids"),
        part(open_blockers, "target_id", "source_id", "open_blocker_ids"),
        part(duplicates, "source_id", "target_id", "duplicates_ids"),
        part(duplicates, "target_id", "source_id", "duplicated_by_ids"),
        part(relates, "source_id", "target_id", "relates_ids"),
        part(relates, "target_id", "source_id", "relates_ids"),
        all=True,
    )


_CUSTOM_COLUMNS = ("text", "number", "date", "option_id", "user_id", "flag")

_FACT_COLUMNS = (
    "id",
    "project_id",
    "number",
    "title",
    "body",
    "type",
    "column__category",
    "column_id",
    "priority",
    "assignee_id",
    "reporter_id",
    "sprint_id",
    "parent_id",
    "estimate",
    "due_date",
    "created_at",
    "updated_at",
    "closed_at",
    "state",
)
