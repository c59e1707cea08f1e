"""Filters shared by the card list and the board (django-filter), and the list's pagination.

The FilterSet is always bound to one project's queryset, so every lookup stays inside it.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import django_filters
from django.core.exceptions import EmptyResultSet
from django.db.models import Count, F, Q, QuerySet, Subquery
from django.db.models.functions import Lower
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from accounts.models import User
from projects.models import Column, Label, Project, Sprint
from punt import json_input
from punt.api.fields import query_id
from tickets import fastpath, pql
from tickets.models import PRIORITY_URGENCY, Ticket, priority_rank
from tickets.selectors import CARD_KEY_RE

# Priorities by urgency; anything else ranks as medium. The same expression as the index
# ticket_open_assignee_prio's, so that the index serves ?ordering=priority.
PRIORITY_ORDER = {value: rank for rank, value in enumerate(PRIORITY_URGENCY)}
PRIORITY_RANK = priority_rank()
# ordering parameter → model field (priority sorts by urgency, not alphabetically)
ORDERING_FIELDS = {
    "created_at": "created_at",
    "updated_at": "updated_at",
    "priority": "priority_rank",
    "number": "number",
    "due_date": "due_date",
    "rank": "rank",  # board order within a column (PQL's ORDER BY rank); id breaks ties
}
DEFAULT_ORDERING = "-number"
# Repeated ?label= values a request may name (each is one more condition to match).
MAX_LABEL_VALUES = 20
# Comma-separated ?assignee= / ?reporter= values (one OR each).
MAX_PERSON_VALUES = 50


def _values(raw: str) -> list[str]:
    """`a,b` and repeated parameters both mean "any of"."""
    return [part.strip() for part in raw.split(",") if part.strip()]


# Form classes of CardFilter by the filters a request names (CardFilter.get_form_class).
_FORM_CLASSES: dict[tuple[type, tuple[str, ...]], type] = {}


class CardFilter(django_filters.FilterSet):
    status = django_filters.CharFilter(method="filter_status", help_text="Column category; comma-separated.")
    type = django_filters.CharFilter(method="filter_type", help_text="Ticket type; comma-separated.")
    priority = django_filters.CharFilter(method="filter_priority", help_text="Priority; comma-separated.")
    assignee = django_filters.CharFilter(method="filter_assignee", help_text='User name, id, or "none".')
    reporter = django_filters.CharFilter(method="filter_reporter", help_text="User name or id.")
    label = django_filters.CharFilter(
        method="filter_label", help_text=f"Label name; repeat for all of several (at most {MAX_LABEL_VALUES})."
    )
    sprint = django_filters.CharFilter(method="filter_sprint", help_text='Sprint id, "none" or "active".')
    parent = django_filters.CharFilter(method="filter_parent", help_text="Parent id or key.")
    state = django_filters.ChoiceFilter(
        method="filter_state", choices=[("open", "open"), ("opened", "opened"), ("closed", "closed")]
    )
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    q = django_filters.CharFilter(
        method="filter_q", help_text="Words in the title or body (each a word or its start; all of them), or a key."
    )
    ordering = django_filters.CharFilter(
        method="filter_ordering",
        help_text="created_at, updated_at, priority, number, due_date or rank; prefix '-' for descending.",
    )

    # Set on the class by django-filter's metaclass; __init__ narrows it per instance.
    base_filters: dict[str, Any]

    class Meta:
        model = Ticket
        fields: list[str] = []

    def __init__(self, data: Any = None, *args: Any, project: Project | None = None, **kwargs: Any) -> None:
        """`project`: the project the queryset is scoped to, when known (lets filters use its ids)."""
        if data is not None:
            # Only the filters the request names: django-filter deep-copies each filter and builds
            # a form field for it on every request (~1 ms for all fifteen), and an absent one
            # filters nothing. The class keeps them all (the schema lists them).
            self.base_filters = {name: item for name, item in type(self).base_filters.items() if name in data}
        super().__init__(data, *args, **kwargs)
        self.project = project

    def get_form_class(self) -> builtins.type:  # `type` is a filter in this class's scope
        # django-filter builds a new form class, and a new field per filter, for every request;
        # the form for a set of filters is the same every time (a form copies its fields).
        names = tuple(self.filters)
        form_class = _FORM_CLASSES.get((type(self), names))
        if form_class is None:
            fields = {name: type(self).base_filters[name].field for name in names}
            form_class = type(f"{type(self).__name__}Form", (self._meta.form,), fields)
            _FORM_CLASSES[type(self), names] = form_class
        return form_class

    def _choices(self, name: str, value: str, allowed: list[str]) -> list[str]:
        values = _values(value)
        bad = [v for v in values if v not in allowed]
        if bad:
            raise ValidationError({name: [f"Unknown {name} '{bad[0]}'; use one of {', '.join(allowed)}."]})
        return values

    def _pql(self, field: str, values: list[str]) -> Q:
        projects = [self.project] if self.project is not None else []
        return pql.fixed_filter(field, values, pql.Scope(projects=projects)).q()

    def filter_status(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        # PQL reads a category as the project's column ids: with one column per category (the
        # usual board), the database seeks the (project, column, priority, updated_at) index and
        # reads a page in index order, at any offset. Given a subquery instead, SQLite walked
        # the project's updated_at index (7 ms at offset 450).
        return queryset.filter(self._pql("status", self._choices(name, value, Column.Category.values)))

    def filter_type(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        return queryset.filter(self._pql("type", self._choices(name, value, Ticket.Type.values)))

    def filter_priority(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        return queryset.filter(self._pql("priority", self._choices(name, value, Ticket.Priority.values)))

    @staticmethod
    def _person(field: str, value: str) -> Q:
        condition = Q(pk__in=[])
        values = _values(value)
        if len(values) > MAX_PERSON_VALUES:
            # One OR per value: SQLite refuses an expression ~1,000 deep (a 500 before this).
            raise ValidationError({field: [f"At most {MAX_PERSON_VALUES} people at once."]})
        for part in values:
            if part.lower() == "none":
                condition |= Q(**{f"{field}__isnull": True})
            elif part.isdigit():
                condition |= Q(**{f"{field}_id": query_id(part, field)})
            else:
                # The person's id as a scalar subquery (user names are unique case-insensitively,
                # by Lower(username)), not a join: the ticket index on (project, person, ...) then
                # serves the page in order, its first 50 entries (a join sorted all the matches).
                person = User.objects.annotate(lower=Lower("username")).filter(lower=part.lower()).order_by()
                condition |= Q(**{f"{field}_id": Subquery(person.values("pk")[:1])})
        return condition

    def filter_assignee(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        return queryset.filter(self._person("assignee", value))

    def filter_reporter(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        return queryset.filter(self._person("reporter", value))

    def filter_label(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        # Every repeated ?label= must match. One join per name made the planner's work grow
        # with every name (40 names took 4-12 s on PostgreSQL, 1,000 ran for minutes): one
        # subquery instead, the tickets having as many of the names as were asked for (names
        # are unique per project, case-insensitively, so each name matches one label at most).
        raw = self.data.getlist(name) if hasattr(self.data, "getlist") else [value]
        wanted = {label.strip().lower(): label.strip() for label in raw if label.strip()}
        if not wanted:
            return queryset
        if len(wanted) > MAX_LABEL_VALUES:
            raise ValidationError({name: [f"At most {MAX_LABEL_VALUES} labels at once; {len(wanted)} were given."]})
        if len(wanted) == 1 and self.project is not None:
            # One label (the common case): its id as a scalar subquery and the tickets linked to
            # it, no grouping. PostgreSQL then walks the list's order index (ticket_open_updated
            # for open tickets by updated) and stops at the page's 50th match.
            (lowered,) = wanted
            label_id = (
                Label.objects.annotate(lower=Lower("name"))
                .filter(project_id=self.project.pk, lower=lowered)
                .order_by()
                .values("pk")[:1]
            )
            linked = Ticket.labels.through.objects.filter(label_id=Subquery(label_id)).values("ticket_id")
            return queryset.filter(pk__in=linked)
        names = Q()
        for label in wanted.values():
            names |= Q(label__name__iexact=label)
        links = Ticket.labels.through.objects.filter(names)
        if self.project is not None:
            links = links.filter(label__project_id=self.project.pk)
        having_all = (
            links.values("ticket_id").annotate(found=Count("label_id")).filter(Q(found=len(wanted))).values("ticket_id")
        )
        return queryset.filter(pk__in=having_all)

    def filter_sprint(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        value = value.strip().lower()
        if value == "none":
            return queryset.filter(sprint__isnull=True)
        if value == "active":
            return queryset.filter(sprint__status=Sprint.Status.ACTIVE)
        if not value.isdigit():
            raise ValidationError({name: ['Use a sprint id, "none" or "active".']})
        return queryset.filter(sprint_id=query_id(value, name))

    def filter_parent(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        value = value.strip()
        if value.lower() == "none":
            return queryset.filter(parent__isnull=True)
        if value.isdigit():
            return queryset.filter(parent_id=query_id(value, name))
        match = CARD_KEY_RE.match(value)
        if not match:
            raise ValidationError({name: ["Use a ticket id or key."]})
        return queryset.filter(parent__number=int(match.group(2)), parent__project__key=match.group(1).upper())

    def filter_state(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        return queryset.filter(self._pql("state", [value]))

    def filter_q(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        value = value.strip()
        if not value:
            return queryset
        # PQL's free text: every word in the title or body (tickets.search), or the ticket with that key.
        scope = pql.project_scope(self.project, None) if self.project is not None else pql.Scope(projects=[])
        return queryset.filter(pql.text_search(value, scope).q())

    def filter_ordering(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        # The view applies the ordering (the board has its own); this only validates it.
        ordering_fields(value)
        return queryset


class PqlCardFilter(CardFilter):
    """The /api/v1/ card filters: `q` is a PQL query, which the view compiles and applies
    (it may also order the list); the other parameters filter as in CardFilter."""

    q = django_filters.CharFilter(
        method="filter_pql",
        help_text=(
            "A PQL query: `assignee = me() AND priority >= high ORDER BY updated DESC`; plain words search "
            "the title and body. Its ORDER BY replaces `ordering`."
        ),
    )

    def filter_pql(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        return queryset  # the view applies it (FilteredCardsMixin.pql_query)


def ordering_fields(value: str | None) -> tuple[str, bool]:
    """(model field, descending) for an ordering parameter; 400 for anything else."""
    value = (value or DEFAULT_ORDERING).strip()
    descending = value.startswith("-")
    field = ORDERING_FIELDS.get(value.lstrip("-"))
    if field is None:
        raise ValidationError(
            {"ordering": [f"Unknown ordering '{value}'; use one of {', '.join(ORDERING_FIELDS)} (prefix '-')."]}
        )
    return field, descending


def apply_ordering(queryset: QuerySet[Ticket], value: str | None) -> QuerySet[Ticket]:
    """Order by the parameter with id as the tie-breaker, so pages never overlap."""
    field, descending = ordering_fields(value)
    if field == "priority_rank":
        queryset = queryset.annotate(priority_rank=PRIORITY_RANK)
    if field == "due_date":
        # Tickets without a due date come last either way (databases disagree on NULL order).
        primary = F("due_date").desc(nulls_last=True) if descending else F("due_date").asc(nulls_last=True)
        return queryset.order_by(primary, "-id" if descending else "id")
    return queryset.order_by(f"-{field}" if descending else field, "-id" if descending else "id")


class ProjectFilterBackend(DjangoFilterBackend):
    """DjangoFilterBackend that hands the view's project to the FilterSet."""

    def get_filterset_kwargs(self, request: Request, queryset: QuerySet[Any], view: Any) -> dict[str, Any]:
        return {**super().get_filterset_kwargs(request, queryset, view), "project": view.project()}


class CountedIds:
    """What LimitOffsetPagination pages: the ids of `queryset`'s tickets in `ordering`, and their count.

    The ORM builds the filtered statement once; counting and paging it run as plain SQL
    (building the count and the page as two ORM queries cost more than running them).
    """

    def __init__(self, queryset: QuerySet[Ticket], ordering: str | None) -> None:
        try:
            sql, params = queryset.order_by().values_list("pk").query.sql_with_params()
        except EmptyResultSet:  # a filter that matches nothing (e.g. ?status=,)
            self.sql = None
        else:
            self.sql, self.params = sql, list(params)
            self.order_by, order_params = _order_by_sql(queryset, ordering)
            self.order_params = order_params

    def count(self) -> int:
        if self.sql is None:
            return 0
        return fastpath.count_of(self.sql, self.params)

    def __getitem__(self, index: slice) -> list[int]:
        if self.sql is None or index.stop <= index.start:
            return []
        return fastpath.page_of(
            self.sql,
            self.params,
            order_by=self.order_by,
            order_params=self.order_params,
            limit=index.stop - index.start,
            offset=index.start,
        )


def _order_by_sql(queryset: QuerySet[Ticket], ordering: str | None) -> tuple[str, list[Any]]:
    """apply_ordering()'s ORDER BY clause as the ORM compiles it (for the same FROM as `queryset`)."""
    ordered = apply_ordering(queryset, ordering).values_list("pk")
    compiler = ordered.query.get_compiler(using=ordered.db)
    _extra_select, order_by, _group_by = compiler.pre_sql_setup()
    clauses, params = [], []
    for _expression, (sql, order_params, _is_ref) in order_by:
        clauses.append(sql)
        params.extend(order_params)
    return ", ".join(clauses), params


WHOLE_NUMBER = re.compile(r"-?[0-9]+")


def _check_whole_number(request: Request, name: str) -> None:
    """A page parameter that is not a whole number is a 400 (DRF would quietly use its default);
    zero and negative ones keep DRF's meaning (the default limit, the first row)."""
    value = request.query_params.get(name)
    if value is not None and not WHOLE_NUMBER.fullmatch(value.strip()):
        raise ValidationError({name: ["Must be a whole number."]})


class CardPagination(LimitOffsetPagination):
    """?limit=&offset= with a total count (default 50, at most 200)."""

    default_limit = 50
    max_limit = 200
    # paginate_queryset() sets these before a link is built, and with a default limit the
    # limit is never None: the stubs' Optionals describe the base class, not this one.
    count: int
    limit: int
    offset: int
    request: Request

    def get_limit(self, request: Request) -> int | None:
        _check_whole_number(request, self.limit_query_param)
        return super().get_limit(request)

    def get_offset(self, request: Request) -> int:
        _check_whole_number(request, self.offset_query_param)
        return super().get_offset(request)

    def get_next_link(self) -> str | None:
        if self.offset + self.limit >= self.count:
            return None
        return self._link(self.offset + self.limit)

    def get_previous_link(self) -> str | None:
        if self.offset <= 0:
            return None
        return self._link(self.offset - self.limit if self.offset - self.limit > 0 else None)

    def _link(self, offset: int | None) -> str:
        """DRF's link (limit set, offset set or dropped, parameters sorted), parsing the URL once
        instead of twice per link."""
        scheme, netloc, path, query, fragment = urlsplit(self.request.build_absolute_uri())
        params = parse_qs(query, keep_blank_values=True)
        params[self.limit_query_param] = [str(self.limit)]
        if offset is None:
            params.pop(self.offset_query_param, None)
        else:
            params[self.offset_query_param] = [str(offset)]
        return urlunsplit((scheme, netloc, path, urlencode(sorted(params.items()), doseq=True), fragment))


class KeysetCursorPagination:
    """?cursor= mode: opaque keyset cursors, stable under inserts (no OFFSET scans on deep pages).

    The cursor holds the last row's ordering value and id; the next page is everything
    strictly after it in (value, id) order. Orderings: number, created_at, updated_at, priority.
    """

    page_size_default = 50
    max_page_size = 200
    CURSOR_FIELDS = ("number", "created_at", "updated_at", "priority_rank")

    def __init__(self, request: Request, ordering: str | None) -> None:
        self.request = request
        self.field, self.descending = ordering_fields(ordering)
        if self.field not in self.CURSOR_FIELDS:
            raise ValidationError({"ordering": ["Cursor mode orders by number, created_at, updated_at or priority."]})
        try:
            self.limit = min(int(request.query_params.get("limit", self.page_size_default)), self.max_page_size)
        except ValueError:
            raise ValidationError({"limit": ["Must be a number."]}) from None
        if self.limit < 1:
            raise ValidationError({"limit": ["Must be at least 1."]})
        self.position = self._decode(request.query_params.get("cursor", ""))

    @staticmethod
    def _encode(payload: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")

    def _decode(self, raw: str) -> dict[str, Any] | None:
        if not raw:
            return None
        try:
            payload = json_input.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode())
            if not isinstance(payload, dict) or payload.get("f") != self.field or not isinstance(payload.get("i"), int):
                raise ValueError("cursor for another ordering")
            if self.field in ("created_at", "updated_at"):
                payload["v"] = datetime.fromisoformat(payload["v"])
            elif not isinstance(payload.get("v"), int):
                raise ValueError("bad value")
            return payload
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            raise ValidationError({"cursor": ["Invalid cursor."]}) from None

    def _value(self, row: Any) -> Any:
        value = row[self.field] if isinstance(row, dict) else getattr(row, self.field)
        return value.isoformat() if isinstance(value, datetime) else value

    def paginate(
        self,
        queryset: QuerySet[Ticket],
        values: Callable[..., QuerySet[Any]] | None = None,
    ) -> list[Any]:
        """The page's tickets; with `values`, the dict rows `values(queryset, extra=(field,))` makes.

        `extra` names the ordering value, which the rows must carry for the cursor.
        """
        if self.field == "priority_rank":
            queryset = queryset.annotate(priority_rank=PRIORITY_RANK)
        # Walking backwards ("previous") flips the order, then the page is flipped back.
        backwards = bool(self.position and self.position.get("r"))
        descending = self.descending != backwards
        if self.position is not None:
            value, last_id = self.position["v"], self.position["i"]
            op = "lt" if descending else "gt"
            queryset = queryset.filter(
                Q(**{f"{self.field}__{op}": value}) | Q(**{self.field: value, f"id__{op}": last_id})
            )
        order = [f"-{self.field}", "-id"] if descending else [self.field, "id"]
        queryset = queryset.order_by(*order)
        if values is not None:
            # The cursor is made of the ordering value and the id, so the rows must carry both.
            queryset = values(queryset, extra=(self.field,))
        rows = list(queryset[: self.limit + 1])
        self.has_more = len(rows) > self.limit
        rows = rows[: self.limit]
        if backwards:
            rows.reverse()
        self.backwards = backwards
        self.rows = rows
        return rows

    def _link(self, row: Any, reverse: bool) -> str:
        row_id = row["id"] if isinstance(row, dict) else row.pk
        cursor = self._encode({"f": self.field, "v": self._value(row), "i": row_id, "r": reverse})
        return replace_query_param(self.request.build_absolute_uri(), "cursor", cursor)

    def get_paginated_response(self, data: list[Any]) -> Response:
        rows = self.rows
        next_link = previous_link = None
        if rows:
            if self.backwards:
                next_link = self._link(rows[-1], False)
                previous_link = self._link(rows[0], True) if self.has_more else None
            else:
                next_link = self._link(rows[-1], False) if self.has_more else None
                previous_link = self._link(rows[0], True) if self.position is not None else None
        return Response({"next": next_link, "previous": previous_link, "results": data})
