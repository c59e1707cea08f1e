"""From the parser's tree to a plan (tickets.pql.plan): fields, values, functions, ORDER BY.

Custom fields (issue 21) are fields too: by name or key (`Severity >= S2`, `"Customer tier" =
Gold`), or `cf[name or key]` (`cf[Severity]`, and `"cf[Customer tier]"` for a name with spaces)
when a built-in field has the same name. The scope's live fields are read once per query.

Every name a query uses (a person, a label, a sprint, a column, a project, a ticket key) is
looked up here, once per query, within the projects of its `Scope`; a name that matches
nothing is an error at its position, never an empty result.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Case, Expression, F, IntegerField, OrderBy, Q, Value, When
from django.utils import timezone

from accounts.models import User
from projects.models import Column, Label, Project, Sprint
from projects.permissions import visible_projects
from tickets import fastpath, search
from tickets.models import CustomField, Ticket
from tickets.pql import plan as p
from tickets.pql import syntax as s
from tickets.pql.syntax import PqlError
from tickets.selectors import CARD_KEY_RE, as_ticket_number

PRIORITIES = list(Ticket.Priority.values)  # low < medium < high < urgent
CATEGORIES = list(Column.Category.values)  # backlog < todo < in_progress < in_review < done
STATES = {"open": Ticket.State.OPENED, "opened": Ticket.State.OPENED, "closed": Ticket.State.CLOSED}
EQUALITY = ("=", "!=")
ORDERED = ("=", "!=", ">", ">=", "<", "<=")
TEXTUAL = ("=", "!=", "~", "!~")
MAX_VALUES = 100


def _rank(path: str, values: list[str]) -> Case:
    """Order of a choice by its place in `values` (priority by urgency, status by flow)."""
    return Case(
        *(When(**{path: value}, then=Value(index)) for index, value in enumerate(values)),
        default=Value(len(values)),
        output_field=IntegerField(),
    )


@dataclass
class Scope:
    """Where a query runs: the projects it may read, who asks, and when (for me() and dates)."""

    projects: list[Project]
    user: Any = None
    now: datetime = field(default_factory=timezone.now)

    @property
    def project_ids(self) -> list[int]:
        return [project.pk for project in self.projects]

    @property
    def single(self) -> Project | None:
        return self.projects[0] if len(self.projects) == 1 else None

    def today(self) -> date:
        return timezone.localtime(self.now).date()


@dataclass
class Compiled:
    """A compiled query: `plan` to filter with, `order` (ORM expressions) when it says ORDER BY."""

    plan: p.Plan
    order: list[OrderBy]
    query: s.Query

    def q(self) -> Q:
        return self.plan.q()

    def test(self, facts: p.Facts) -> bool:
        return self.plan.test(facts)


# --------------------------------------------------------------------------- fields


@dataclass(frozen=True)
class FieldSpec:
    name: str
    ops: tuple[str, ...]
    resolve: Callable[[Compiler, s.Compare | s.InList | s.IsEmpty], p.Plan]
    order: tuple[str | Expression, ...] = ()  # ORM paths or expressions to order by
    aliases: tuple[str, ...] = ()
    values: str = ""  # what autocomplete offers: "person", "label", "sprint", "column", "type", ...
    help: str = ""


FIELDS: dict[str, FieldSpec] = {}
NAMES: dict[str, FieldSpec] = {}  # every name and alias, lower-cased


def _field(spec: FieldSpec) -> None:
    FIELDS[spec.name] = spec
    for name in (spec.name, *spec.aliases):
        NAMES[name.lower()] = spec


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=0.6)
    return f": did you mean '{close[0]}'?" if close else ""


class Compiler:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self._custom_fields: list[CustomField] | None = None

    def custom_fields(self) -> list[CustomField]:
        """The scope's live custom fields with their options (read once per query)."""
        if self._custom_fields is None:
            self._custom_fields = list(
                CustomField.objects.filter(project_id__in=self.scope.project_ids, deleted_at__isnull=True)
                .order_by("project_id", "position", "id")
                .prefetch_related("options")
            )
        return self._custom_fields

    def custom_named(self, name: str, position: int = 0) -> list[CustomField] | None:
        """The custom fields `name` means (by key or name, any case; `cf[...]` forces a custom
        field), or None when it is no custom field's (then it is a built-in name or unknown)."""
        lowered = name.strip().lower()
        forced = lowered.startswith("cf[") and lowered.endswith("]")
        if forced:
            lowered = lowered[3:-1].strip()
        elif lowered in NAMES:
            return None
        found = [f for f in self.custom_fields() if lowered in (f.key.lower(), f.name.lower())]
        if forced and not found:
            names = [f.name for f in self.custom_fields()]
            raise PqlError(
                f"Unknown custom field '{name}' at {position}{_suggest(lowered, [n.lower() for n in names])}",
                position,
                names,
            )
        return found or None

    # entry
    def compile(self, query: s.Query) -> Compiled:
        plan = self.node(query.where) if query.where is not None else p.Always(True)
        order = [self.order_item(item) for item in query.order]
        return Compiled(plan=plan, order=[expr for group in order for expr in group], query=query)

    def node(self, node: s.Node) -> p.Plan:
        if isinstance(node, s.And):
            return p.all_of(self.node(item) for item in node.items) if node.items else p.Always(True)
        if isinstance(node, s.Or):
            return p.any_of(self.node(item) for item in node.items)
        if isinstance(node, s.Not):
            return p.Negation(self.node(node.item))
        if isinstance(node, s.Text):
            return self.text(node.words)
        if isinstance(node, s.Predicate):
            return p.HasAny(PREDICATES[node.name], None)
        if isinstance(node, s.InList) and len(node.values) > MAX_VALUES:
            raise PqlError(f"At most {MAX_VALUES} values in a list at {node.position}", node.position)
        custom = self.custom_named(node.field, node.position)
        if custom is not None:
            return p.any_of(_custom(self, custom_field, node) for custom_field in custom)
        spec = self.spec(node.field, node.position)
        if not spec.ops:
            raise PqlError(f"{spec.name} is for ORDER BY only at {node.position}", node.position)
        if isinstance(node, s.Compare) and node.op not in spec.ops:
            raise PqlError(
                f"'{node.op}' does not apply to {spec.name} at {node.position}; use {', '.join(spec.ops)}",
                node.position,
                list(spec.ops),
            )
        return spec.resolve(self, node)

    def spec(self, name: str, position: int) -> FieldSpec:
        spec = NAMES.get(name.lower())
        if spec is None:
            known = [*NAMES, *(f.name.lower() for f in self.custom_fields())]
            raise PqlError(f"Unknown field '{name}' at {position}{_suggest(name, known)}", position, sorted(FIELDS))
        return spec

    def order_item(self, item: s.OrderItem) -> list[OrderBy]:
        if self.custom_named(item.field, item.position) is not None:
            raise PqlError(f"Cannot order by a custom field ({item.field}) at {item.position}", item.position)
        spec = self.spec(item.field, item.position)
        if not spec.order:
            raise PqlError(f"Cannot order by {spec.name} at {item.position}", item.position)
        expressions = [F(path) if isinstance(path, str) else path for path in spec.order]
        return [expr.desc(nulls_last=True) if item.descending else expr.asc(nulls_last=True) for expr in expressions]

    def text(self, words: Iterable[str]) -> p.Plan:
        """Free text: every word (tickets.search); plain words are one search of the index."""
        plans = [self.text_word(word) for word in words]
        searches = [plan for plan in plans if isinstance(plan, p.Search)]
        rest: list[p.Plan] = [plan for plan in plans if not isinstance(plan, p.Search)]
        if len(searches) > 1:
            rest.insert(0, p.Search(tuple(phrase for plan in searches for phrase in plan.phrases)))
        else:
            rest[:0] = searches
        return p.all_of(rest) if rest else p.Always(True)

    def text_word(self, word: str) -> p.Plan:
        """Free text: the word (a phrase of its words) in the title or body, as tickets.search
        reads it; a key or a number also finds that ticket. A word without letters or digits
        (`%`, `->`) is looked for as typed."""
        options: list[p.Plan] = [_words(("title", "body"), word)]
        match = CARD_KEY_RE.match(word)
        if match:
            project = self.project_by_key(match.group(1))
            number = as_ticket_number(match.group(2))
            if project is not None and number is not None:
                options.append(p.all_of([p.Compare("project_id", "=", project.pk), p.Compare("number", "=", number)]))
        elif (number := as_ticket_number(word.removeprefix("#"))) is not None:
            options.append(p.Compare("number", "=", number))
        return p.any_of(options)

    # values
    def literals(self, node: s.Compare | s.InList) -> list[s.Value]:
        return list(node.values) if isinstance(node, s.InList) else [node.value]

    def word(self, value: s.Value, what: str) -> str:
        if isinstance(value, s.Call):
            raise PqlError(f"Expected {what} but found {value.name}() at {value.position}", value.position, [what])
        return value.text

    def call(self, value: s.Call, allowed: Iterable[str]) -> str:
        name = FUNCTIONS.get(value.name.lower())
        allowed = list(allowed)
        if name is None or name not in allowed:
            choices = ", ".join(f"{f}()" for f in allowed) or "none here"
            raise PqlError(
                f"Unknown function '{value.name}()' at {value.position}{_suggest(value.name, allowed)}"
                f" (functions here: {choices})",
                value.position,
                [f"{f}()" for f in allowed],
            )
        if value.args:
            raise PqlError(f"{name}() takes no arguments at {value.position}", value.position)
        return name

    def choice(self, value: s.Value, what: str, choices: list[str], normalize: Callable[[str], str] = str.lower) -> str:
        word = normalize(self.word(value, what))
        if word not in choices:
            raise PqlError(
                f"Unknown {what} '{self.word(value, what)}' at {value.position}{_suggest(word, choices)}; "
                f"use one of {', '.join(choices)}",
                value.position,
                choices,
            )
        return word

    def me(self, value: s.Value) -> int:
        if self.scope.user is None or not getattr(self.scope.user, "is_authenticated", False):
            raise PqlError(f"me() needs a signed-in user at {value.position}", value.position)
        return int(self.scope.user.pk)

    def person(self, value: s.Value) -> int:
        if isinstance(value, s.Call):
            self.call(value, ["me"])
            return self.me(value)
        # Deactivated accounts too: their old tickets stay findable by name.
        user_id = User.objects.filter(username__iexact=value.text).values_list("pk", flat=True).first()
        if user_id is None:
            raise PqlError(f"Unknown user '{value.text}' at {value.position}", value.position)
        return int(user_id)

    def project_by_key(self, key: str) -> Project | None:
        return next((project for project in self.scope.projects if project.key.upper() == key.upper()), None)

    def date_value(self, value: s.Value) -> date | datetime:
        """A date (2026-12-31, today(), startOfWeek(), endOfWeek()) or a moment (-7d, +1w)."""
        if isinstance(value, s.Call):
            name = self.call(value, ["today", "startOfWeek", "endOfWeek"])
            today = self.scope.today()
            if name == "today":
                return today
            monday = today - timedelta(days=today.weekday())
            return monday if name == "startOfWeek" else monday + timedelta(days=6)
        text = value.text
        relative = s.RELATIVE_DATE.match(text)
        if relative:
            sign, amount, unit = relative.group(1), int(relative.group(2)), relative.group(3).lower()
            days = amount * {"d": 1, "w": 7, "m": 30, "y": 365}[unit]
            return self.scope.now + timedelta(days=-days if sign == "-" else days)
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise PqlError(
                f"Expected a date (2026-12-31, -7d, today()) but found '{text}' at {value.position}",
                value.position,
                ["a date"],
            ) from None

    def number(self, value: s.Value, what: str) -> int:
        text = self.word(value, what)
        if not text.lstrip("-").isdigit() or len(text) > 12:
            raise PqlError(f"Expected a number for {what} but found '{text}' at {value.position}", value.position)
        return int(text)


def _values_or_empty(
    node: s.Compare | s.InList | s.IsEmpty,
    attr: str,
    ids: Callable[[s.Value], Iterable[Any]],
    compiler: Compiler,
) -> p.Plan:
    """`attr = x`, `!= x`, `IN (...)`, `NOT IN (...)`, `IS [NOT] EMPTY`, where each value names one
    or more ids (a label name may name one label in each of several projects)."""
    if isinstance(node, s.IsEmpty):
        empty: p.Plan = p.Empty(attr)
        return p.Negation(empty) if node.negated else empty
    found: set[Any] = set()
    for value in compiler.literals(node):
        found.update(ids(value))
    matches = p.OneOf(attr, frozenset(found))
    negated = node.op == "!=" if isinstance(node, s.Compare) else node.negated
    if negated:  # not one of them, and not empty
        return p.all_of([p.Negation(p.Empty(attr)), p.Negation(matches)])
    return matches


def _ordered_choice(
    node: s.Compare | s.InList | s.IsEmpty, attr: str, what: str, choices: list[str], compiler: Compiler
) -> p.Plan:
    """type, status, priority: a choice, and for ordered ones (<, >=) the choices in range."""
    if isinstance(node, s.IsEmpty):
        return p.Always(node.negated)
    if isinstance(node, s.InList):
        picked = {compiler.choice(value, what, choices, _choice_word) for value in node.values}
        plan: p.Plan = p.OneOf(attr, frozenset(picked))
        return p.Negation(plan) if node.negated else plan
    index = choices.index(compiler.choice(node.value, what, choices, _choice_word))
    op = node.op
    picked_set = {
        "=": choices[index : index + 1],
        "!=": choices[:index] + choices[index + 1 :],
        ">": choices[index + 1 :],
        ">=": choices[index:],
        "<": choices[:index],
        "<=": choices[: index + 1],
    }[op]
    return p.OneOf(attr, frozenset(picked_set))


def _choice_word(word: str) -> str:
    """ "In progress", "in-progress", "To do" → in_progress, todo."""
    word = word.strip().lower().replace("-", "_").replace(" ", "_")
    return "todo" if word == "to_do" else word


# ---- field resolvers


def _key(c: Compiler, node: Any) -> p.Plan:
    if isinstance(node, s.IsEmpty):
        return p.Always(node.negated)

    def one(value: s.Value) -> tuple[int, int]:
        text = c.word(value, "ticket key")
        match = CARD_KEY_RE.match(text)
        single = c.scope.single
        if match:
            project = c.project_by_key(match.group(1))
            if project is None:
                raise PqlError(f"Unknown project key '{match.group(1)}' at {value.position}", value.position)
            number = as_ticket_number(match.group(2))
        elif single is not None:
            project, number = single, as_ticket_number(text.removeprefix("#"))
        else:
            project, number = None, None
        if project is None or number is None:
            raise PqlError(f"Expected a ticket key (DEMO-42) but found '{text}' at {value.position}", value.position)
        return project.pk, number

    def at(project_id: int, op: str, number: int) -> p.Plan:
        return p.all_of([p.Compare("project_id", "=", project_id), p.Compare("number", op, number)])

    if isinstance(node, s.InList):
        plan = p.any_of(at(project_id, "=", number) for project_id, number in map(one, node.values))
        return p.Negation(plan) if node.negated else plan
    project_id, number = one(node.value)
    if node.op == "!=":
        return p.Negation(at(project_id, "=", number))
    return at(project_id, node.op, number)


def _number_field(attr: str, what: str) -> Callable[[Compiler, Any], p.Plan]:
    def resolve(c: Compiler, node: Any) -> p.Plan:
        if isinstance(node, s.IsEmpty):
            empty: p.Plan = p.Empty(attr)
            return p.Negation(empty) if node.negated else empty
        if isinstance(node, s.InList):
            plan: p.Plan = p.OneOf(attr, frozenset(c.number(value, what) for value in node.values))
            return p.all_of([p.Negation(p.Empty(attr)), p.Negation(plan)]) if node.negated else plan
        return p.Compare(attr, node.op, c.number(node.value, what))

    return resolve


def _words(attrs: tuple[str, ...], text: str) -> p.Plan:
    found = search.words(text)
    return p.Search((tuple(found),)) if found else p.Contains(attrs, text)


def _text_field(attrs: tuple[str, ...]) -> Callable[[Compiler, Any], p.Plan]:
    def resolve(c: Compiler, node: Any) -> p.Plan:
        if isinstance(node, s.IsEmpty):
            empty = p.all_of(p.Empty(attr) for attr in attrs)
            return p.Negation(empty) if node.negated else empty
        values = [c.word(value, "text") for value in c.literals(node)]
        if isinstance(node, s.InList):
            plan = p.any_of(p.any_of(p.Matches(attr, text) for attr in attrs) for text in values)
            return p.Negation(plan) if node.negated else plan
        text = values[0]
        if node.op in ("~", "!~"):
            # `text ~` (title and body) is the search index's; `title ~` / `body ~` stay substrings.
            contains: p.Plan = _words(attrs, text) if attrs == ("title", "body") else p.Contains(attrs, text)
            return p.Negation(contains) if node.op == "!~" else contains
        equal = p.any_of(p.Matches(attr, text) for attr in attrs)
        return p.Negation(equal) if node.op == "!=" else equal

    return resolve


def _type(c: Compiler, node: Any) -> p.Plan:
    return _ordered_choice(node, "type", "type", list(Ticket.Type.values), c)


def _priority(c: Compiler, node: Any) -> p.Plan:
    return _ordered_choice(node, "priority", "priority", PRIORITIES, c)


def _status(c: Compiler, node: Any) -> p.Plan:
    plan = _ordered_choice(node, "column__category", "status", CATEGORIES, c)
    return _categories_as_columns(c, plan)


def _categories_as_columns(c: Compiler, plan: p.Plan) -> p.Plan:
    """Categories as the scope's column ids: the database seeks the (project, column, ...) indexes
    instead of joining the columns (see tickets.filters.CardFilter.filter_status)."""
    if isinstance(plan, p.Negation):
        return p.Negation(_categories_as_columns(c, plan.item))
    if not isinstance(plan, p.OneOf) or not 0 < len(c.scope.projects) <= 20:
        return plan
    categories = sorted(plan.values)
    ids = [
        column_id
        for pk in c.scope.project_ids
        for column_id in fastpath.column_ids(project_id=pk, categories=categories)
    ]
    return p.OneOf("column_id", frozenset(ids))


def _column(c: Compiler, node: Any) -> p.Plan:
    columns = list(Column.objects.filter(project_id__in=c.scope.project_ids).values_list("pk", "name"))

    def ids(value: s.Value) -> list[int]:
        name = c.word(value, "column")
        found = [pk for pk, column_name in columns if column_name.lower() == name.lower()]
        if not found:
            names = sorted({column_name for _pk, column_name in columns})
            raise PqlError(
                f"Unknown column '{name}' at {value.position}{_suggest(name, [n.lower() for n in names])}",
                value.position,
                names,
            )
        return found

    return _values_or_empty(node, "column_id", ids, c)


def _person_field(attr: str) -> Callable[[Compiler, Any], p.Plan]:
    def resolve(c: Compiler, node: Any) -> p.Plan:
        return _values_or_empty(node, attr, lambda value: [c.person(value)], c)

    return resolve


def _watcher(c: Compiler, node: Any) -> p.Plan:
    return _set_field(c, node, "watcher_ids", lambda value: [c.person(value)])


def _set_field(c: Compiler, node: Any, relation: str, ids: Callable[[s.Value], list[int]]) -> p.Plan:
    """labels, watcher: `= x` has x; `!= x` lacks x; IN any of; NOT IN none of; IS EMPTY none at all."""
    if isinstance(node, s.IsEmpty):
        anything: p.Plan = p.HasAny(relation, None)
        return anything if node.negated else p.Negation(anything)
    found: set[int] = set()
    for value in c.literals(node):
        found.update(ids(value))
    has = p.HasAny(relation, frozenset(found))
    negated = node.op == "!=" if isinstance(node, s.Compare) else node.negated
    return p.Negation(has) if negated else has


def _labels(c: Compiler, node: Any) -> p.Plan:
    labels = list(Label.objects.filter(project_id__in=c.scope.project_ids).values_list("pk", "name"))

    def ids(value: s.Value) -> list[int]:
        name = c.word(value, "label")
        found = [pk for pk, label in labels if label.lower() == name.lower()]
        if not found:
            raise PqlError(
                f"Unknown label '{name}' at {value.position}{_suggest(name, [n.lower() for _pk, n in labels])}",
                value.position,
            )
        return found

    return _set_field(c, node, "label_ids", ids)


def _sprint(c: Compiler, node: Any) -> p.Plan:
    sprints = list(Sprint.objects.filter(project_id__in=c.scope.project_ids).values_list("pk", "name", "status"))

    def ids(value: s.Value) -> list[int]:
        if isinstance(value, s.Call):
            name = c.call(value, ["openSprint", "closedSprints"])
            status = Sprint.Status.ACTIVE if name == "openSprint" else Sprint.Status.CLOSED
            return [pk for pk, _name, sprint_status in sprints if sprint_status == status]
        text = value.text
        found = [pk for pk, name, _status in sprints if name.lower() == text.lower()]
        if not found and text.isdigit():
            found = [pk for pk, _name, _status in sprints if pk == int(text)]
        if not found:
            raise PqlError(f"Unknown sprint '{text}' at {value.position}", value.position)
        return found

    return _values_or_empty(node, "sprint_id", ids, c)


def _parent(c: Compiler, node: Any) -> p.Plan:
    def ids(value: s.Value) -> list[int]:
        plan = _key(c, s.Compare("key", "=", value, value.position))
        found = list(Ticket.objects.filter(plan.q(), project_id__in=c.scope.project_ids).values_list("pk", flat=True))
        if not found:
            raise PqlError(f"Unknown ticket '{c.word(value, 'ticket')}' at {value.position}", value.position)
        return found

    return _values_or_empty(node, "parent_id", ids, c)


def _link_field(relation: str) -> Callable[[Compiler, Any], p.Plan]:
    """blocks, blocked_by, duplicates, duplicated_by, relates: the other ticket by key, in any
    project the caller can see (a link may cross projects); a plain number in a one-project scope."""

    def resolve(c: Compiler, node: Any) -> p.Plan:
        def ids(value: s.Value) -> list[int]:
            text = c.word(value, "ticket key")
            match = CARD_KEY_RE.match(text)
            single = c.scope.single
            if match:
                key, number = match.group(1), as_ticket_number(match.group(2))
            elif single is not None:
                key, number = single.key, as_ticket_number(text.removeprefix("#"))
            else:
                key, number = "", None
            if number is None:
                raise PqlError(
                    f"Expected a ticket key (DEMO-42) but found '{text}' at {value.position}", value.position
                )
            # Without a person (a hook's filter), only the scope's own projects.
            user = c.scope.user
            projects = visible_projects(user, include_archived=True) if user is not None else c.scope.projects
            tickets = Ticket.objects.filter(project__in=projects, project__key__iexact=key, number=number)
            found = list(tickets.values_list("pk", flat=True))
            if not found:
                raise PqlError(f"Unknown ticket '{text}' at {value.position}", value.position)
            return found

        return _set_field(c, node, relation, ids)

    return resolve


def _date_field(attr: str, is_date: bool) -> Callable[[Compiler, Any], p.Plan]:
    """due (a date), created / updated / closed (moments). A day compared with a moment covers the
    whole day: `created = 2026-12-01` is that day, `created > 2026-12-01` from the next."""

    def bounds(c: Compiler, value: s.Value) -> tuple[Any, Any]:
        found = c.date_value(value)
        if is_date:
            day = found if not isinstance(found, datetime) else timezone.localtime(found).date()
            return day, day + timedelta(days=1)
        if isinstance(found, datetime):
            return found, None  # a moment: no day to cover
        start = timezone.make_aware(datetime.combine(found, time.min))
        return start, start + timedelta(days=1)

    def resolve(c: Compiler, node: Any) -> p.Plan:
        if isinstance(node, s.IsEmpty):
            empty: p.Plan = p.Empty(attr)
            return p.Negation(empty) if node.negated else empty
        if isinstance(node, s.InList):
            plan = p.any_of(resolve(c, s.Compare(node.field, "=", value, node.position)) for value in node.values)
            return p.all_of([p.Negation(p.Empty(attr)), p.Negation(plan)]) if node.negated else plan
        start, end = bounds(c, node.value)
        if is_date:
            return p.Compare(attr, node.op, start)
        if end is None:  # a moment
            op = {"=": ">=", "!=": "<"}.get(node.op, node.op)
            return p.Compare(attr, op, start)
        within = p.all_of([p.Compare(attr, ">=", start), p.Compare(attr, "<", end)])
        return {
            "=": within,
            "!=": p.all_of([p.Negation(p.Empty(attr)), p.Negation(within)]),
            ">": p.Compare(attr, ">=", end),
            ">=": p.Compare(attr, ">=", start),
            "<": p.Compare(attr, "<", start),
            "<=": p.Compare(attr, "<", end),
        }[node.op]

    return resolve


def _state(c: Compiler, node: Any) -> p.Plan:
    if isinstance(node, s.IsEmpty):
        return p.Always(node.negated)
    states = {STATES[c.choice(value, "state", list(STATES))] for value in c.literals(node)}
    plan: p.Plan = p.OneOf("state", frozenset(states))
    negated = node.op == "!=" if isinstance(node, s.Compare) else node.negated
    return p.Negation(plan) if negated else plan


def _project(c: Compiler, node: Any) -> p.Plan:
    def ids(value: s.Value) -> list[int]:
        text = c.word(value, "project")
        found = [pr.pk for pr in c.scope.projects if text.lower() in (pr.key.lower(), pr.slug.lower())]
        if not found:
            raise PqlError(f"Unknown project '{text}' at {value.position}", value.position)
        return found

    return _values_or_empty(node, "project_id", ids, c)


_field(FieldSpec("key", (*EQUALITY, ">", ">=", "<", "<="), _key, ("project_id", "number"), values="ticket"))
_field(FieldSpec("number", ORDERED, _number_field("number", "number"), ("number",)))
_field(FieldSpec("title", TEXTUAL, _text_field(("title",)), ("title",), aliases=("summary",)))
_field(FieldSpec("body", TEXTUAL, _text_field(("body",)), aliases=("description",)))
_field(FieldSpec("text", ("~", "!~"), _text_field(("title", "body"))))
_field(FieldSpec("type", EQUALITY, _type, ("type",), values="type"))
_field(FieldSpec("status", ORDERED, _status, (_rank("column__category", CATEGORIES),), values="status"))
_field(FieldSpec("column", EQUALITY, _column, ("column__order",), values="column"))
_field(FieldSpec("priority", ORDERED, _priority, (_rank("priority", PRIORITIES),), values="priority"))
_field(FieldSpec("assignee", EQUALITY, _person_field("assignee_id"), ("assignee__username",), values="person"))
_field(FieldSpec("reporter", EQUALITY, _person_field("reporter_id"), ("reporter__username",), values="person"))
_field(FieldSpec("watcher", EQUALITY, _watcher, aliases=("watchers",), values="person"))
_field(FieldSpec("labels", EQUALITY, _labels, aliases=("label",), values="label"))
_field(FieldSpec("sprint", EQUALITY, _sprint, ("sprint__start_date",), values="sprint"))
_field(FieldSpec("parent", EQUALITY, _parent, ("parent__number",), aliases=("epic",), values="ticket"))
_field(FieldSpec("estimate", ORDERED, _number_field("estimate", "estimate"), ("estimate",), aliases=("points",)))
_field(FieldSpec("due", ORDERED, _date_field("due_date", True), ("due_date",), aliases=("duedate",), values="date"))
_field(FieldSpec("created", ORDERED, _date_field("created_at", False), ("created_at",), values="date"))
_field(FieldSpec("updated", ORDERED, _date_field("updated_at", False), ("updated_at",), values="date"))
_field(FieldSpec("closed", ORDERED, _date_field("closed_at", False), ("closed_at",), values="date"))
_field(FieldSpec("state", EQUALITY, _state, ("state",), values="state"))
_field(FieldSpec("project", EQUALITY, _project, ("project__key",), values="project"))
_field(FieldSpec("rank", (), _number_field("rank", "rank"), ("rank",)))
_field(FieldSpec("blocks", EQUALITY, _link_field("blocks_ids"), values="ticket"))
_field(FieldSpec("blocked_by", EQUALITY, _link_field("blocked_by_ids"), aliases=("is_blocked_by",), values="ticket"))
_field(FieldSpec("duplicates", EQUALITY, _link_field("duplicates_ids"), values="ticket"))
_field(
    FieldSpec(
        "duplicated_by", EQUALITY, _link_field("duplicated_by_ids"), aliases=("is_duplicated_by",), values="ticket"
    )
)
_field(FieldSpec("relates", EQUALITY, _link_field("relates_ids"), aliases=("relates_to",), values="ticket"))

# The two-word predicates (tickets.pql.syntax.PREDICATES) → the link set they ask about.
# `is blocked` counts only open blockers; `has blockers` any.
PREDICATES = {
    "is blocked": "open_blocker_ids",
    "is blocking": "blocks_ids",
    "has blockers": "blocked_by_ids",
    "has duplicates": "duplicated_by_ids",
}

# Function names, lower-cased → their canonical spelling.
FUNCTIONS = {
    "me": "me",
    "currentuser": "me",
    "opensprint": "openSprint",
    "closedsprints": "closedSprints",
    "startofweek": "startOfWeek",
    "endofweek": "endOfWeek",
    "today": "today",
}


# --------------------------------------------------------------------------- custom fields

CF = CustomField.Type
# The value column a type's conditions read (CustomFieldValue; Facts.custom_values holds it).
CUSTOM_COLUMNS: dict[str, str] = {
    CF.TEXT: "text",
    CF.LONG_TEXT: "text",
    CF.URL: "text",
    CF.NUMBER: "number",
    CF.DATE: "date",
    CF.SELECT: "option_id",
    CF.MULTI_SELECT: "option_id",
    CF.USER: "user_id",
    CF.CHECKBOX: "flag",
}
CUSTOM_OPS: dict[str, tuple[str, ...]] = {
    CF.TEXT: TEXTUAL,
    CF.LONG_TEXT: TEXTUAL,
    CF.URL: TEXTUAL,
    CF.NUMBER: ORDERED,
    CF.DATE: ORDERED,
    CF.SELECT: EQUALITY,
    CF.MULTI_SELECT: EQUALITY,
    CF.USER: EQUALITY,
    CF.CHECKBOX: EQUALITY,
}
_LOOKUP_OF = {"=": "exact", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def custom_column(field_type: str) -> str:
    return CUSTOM_COLUMNS[field_type]


def _custom_value(c: Compiler, field: CustomField, value: s.Value) -> Any:
    """A literal as the value its field stores (an option id, a user id, a number, a date, ...)."""
    kind = field.type
    if kind == CF.USER:
        return c.person(value)
    text = c.word(value, field.name)
    if kind in (CF.SELECT, CF.MULTI_SELECT):
        options = list(field.options.all())
        found = next((o.pk for o in options if o.name.lower() == text.lower()), None)
        if found is None:
            names = [o.name for o in options]
            raise PqlError(
                f"Unknown option '{text}' of {field.name} at {value.position}"
                f"{_suggest(text, [n.lower() for n in names])}; use one of {', '.join(names) or 'none'}",
                value.position,
                names,
            )
        return found
    if kind == CF.NUMBER:
        try:
            return float(text)
        except ValueError:
            raise PqlError(
                f"Expected a number for {field.name} but found '{text}' at {value.position}", value.position
            ) from None
    if kind == CF.DATE:
        found_date = c.date_value(value)
        return timezone.localtime(found_date).date() if isinstance(found_date, datetime) else found_date
    if kind == CF.CHECKBOX:
        flag = BOOLEANS.get(text.lower())
        if flag is None:
            raise PqlError(
                f"Expected true or false for {field.name} at {value.position}", value.position, ["true", "false"]
            )
        return flag
    return text


def _custom(c: Compiler, field: CustomField, node: s.Compare | s.InList | s.IsEmpty) -> p.Plan:
    """A condition on one custom field: `=`, `!=` (a value, and not that one), IN / NOT IN, IS [NOT]
    EMPTY, ordering comparisons for numbers and dates, `~` / `!~` (contains) for texts. A multi
    select `= x` holds x among its options, as labels do."""
    column = CUSTOM_COLUMNS[field.type]
    anything = p.HasCustom(field.pk, column, "any")
    if isinstance(node, s.IsEmpty):
        return anything if node.negated else p.Negation(anything)
    ops = CUSTOM_OPS[field.type]
    if isinstance(node, s.Compare) and node.op not in ops:
        raise PqlError(
            f"'{node.op}' does not apply to {field.name} at {node.position}; use {', '.join(ops)}",
            node.position,
            list(ops),
        )
    textual = column == "text"
    values = [_custom_value(c, field, value) for value in c.literals(node)]
    if isinstance(node, s.InList):
        if textual:
            plan = p.any_of(p.HasCustom(field.pk, column, "iexact", value) for value in values)
        else:
            plan = p.HasCustom(field.pk, column, "in", frozenset(values))
        return p.all_of([anything, p.Negation(plan)]) if node.negated else plan
    value = values[0]
    if node.op in ("~", "!~"):
        contains = p.HasCustom(field.pk, column, "icontains", value)
        return p.Negation(contains) if node.op == "!~" else contains
    if node.op in ("=", "!="):
        equal = p.HasCustom(field.pk, column, "iexact" if textual else "exact", value)
        return p.all_of([anything, p.Negation(equal)]) if node.op == "!=" else equal
    return p.HasCustom(field.pk, column, _LOOKUP_OF[node.op], value)
