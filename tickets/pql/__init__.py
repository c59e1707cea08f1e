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

from django.db.models import QuerySet

from projects.models import Project
from projects.permissions import visible_projects
from tickets.models import CustomFieldValue, Ticket, Watcher
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
    """What queries test, for these tickets: four queries whatever the number of tickets."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return {}
    labels: dict[int, set[int]] = {}
    for ticket_id, label_id in Ticket.labels.through.objects.filter(ticket_id__in=ids).values_list(
        "ticket_id", "label_id"
    ):
        labels.setdefault(ticket_id, set()).add(label_id)
    watchers: dict[int, set[int]] = {}
    for ticket_id, user_id in Watcher.objects.filter(ticket_id__in=ids).values_list("ticket_id", "user_id"):
        watchers.setdefault(ticket_id, set()).add(user_id)
    custom: dict[int, dict[int, list[Any]]] = {}
    values = CustomFieldValue.objects.filter(ticket_id__in=ids, field__deleted_at__isnull=True)
    for ticket_id, field_id, field_type, *columns in values.values_list(
        "ticket_id", "field_id", "field__type", *_CUSTOM_COLUMNS
    ):
        held = columns[_CUSTOM_COLUMNS.index(custom_column(field_type))]
        custom.setdefault(ticket_id, {}).setdefault(field_id, []).append(held)
    facts = {}
    for row in Ticket.objects.filter(pk__in=ids).values(*_FACT_COLUMNS):
        row["category"] = row.pop("column__category")
        row["label_ids"] = frozenset(labels.get(row["id"], ()))
        row["watcher_ids"] = frozenset(watchers.get(row["id"], ()))
        row["custom_values"] = {field_id: tuple(held) for field_id, held in custom.get(row["id"], {}).items()}
        facts[row["id"]] = Facts(**row)
    return facts


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
