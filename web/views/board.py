"""The project board: columns, cards, filters kept in the URL, drag-and-drop moves, quick add.

Reads use the selectors; every write calls a tickets service, exactly like the API does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from insights.cycle import card_ages
from projects import selectors as project_selectors
from projects.models import Column, Label, Project, Sprint
from projects.permissions import READ, WRITE
from punt import errors
from punt.ranges import as_id, as_int, column_range
from tickets import pql
from tickets import selectors as ticket_selectors
from tickets import services as ticket_services
from tickets.models import Ticket
from tickets.pql.syntax import tokenize
from web import cards as page_cards
from web.forms import QuickAddForm
from web.pages import can, project_for, tab_id
from web.views.board_as_of import board_as_of_page
from web.views.saved_views import narrowed, narrowed_by_request, switcher
from web.views.ticket import after_change

FILTER_KEYS = ("assignee", "label", "type", "priority", "sprint", "q", "view")


@dataclass
class BoardFilters:
    """The filter bar's state, read from (and written back to) the query string."""

    assignee: str = ""
    label: str = ""
    type: str = ""
    priority: str = ""
    sprint: str = ""
    q: str = ""  # a PQL query; plain words search the title and body
    view: str = ""  # a saved view's id: web.views.saved_views narrows the cards by its query
    active: bool = field(default=False)
    error: pql.PqlError | None = field(default=None, init=False)  # set by apply() when `q` is not valid PQL

    @classmethod
    def from_query(cls, query: QueryDict) -> BoardFilters:
        # A query may be as long as PQL allows; the other filters are ids and names.
        values = {key: (query.get(key) or "").strip()[: 2000 if key == "q" else 200] for key in FILTER_KEYS}
        return cls(**values, active=any(values.values()))

    def apply(self, tickets: QuerySet[Ticket], *, user: Any, project: Project) -> QuerySet[Ticket]:
        """`tickets` under the filters. A query PQL refuses shows no card (rather than cards the
        query did not ask for): `error` holds why, for the page to mark the bad spot."""
        if self.q:
            try:
                tickets = pql.apply(tickets, pql.compile_query(self.q, pql.project_scope(project, user)))
            except pql.PqlError as exc:
                self.error = exc
                return tickets.none()
        if self.assignee == "none":
            tickets = tickets.filter(assignee__isnull=True)
        elif self.assignee == "me":
            tickets = tickets.filter(assignee=user)
        elif self.assignee:
            tickets = tickets.filter(assignee__username__iexact=self.assignee)
        if self.label:
            # A label no row can be (text, "²", 2^63) matches nothing, like an unknown id.
            label_id = as_id(self.label)
            tickets = tickets.filter(labels__pk=label_id) if label_id is not None else tickets.none()
        if self.type in Ticket.Type.values:
            tickets = tickets.filter(type=self.type)
        if self.priority in Ticket.Priority.values:
            tickets = tickets.filter(priority=self.priority)
        if self.sprint == "none":
            tickets = tickets.filter(sprint__isnull=True)
        elif self.sprint == "active":
            tickets = tickets.filter(sprint__status=Sprint.Status.ACTIVE)
        elif self.sprint:
            sprint_id = as_id(self.sprint)
            tickets = tickets.filter(sprint__pk=sprint_id) if sprint_id is not None else tickets.none()
        return tickets.distinct() if self.label else tickets

    def error_marks(self) -> dict[str, Any] | None:
        """The error for the page: its message and the query cut around the bad spot (for <mark>)."""
        if self.error is None:
            return None
        start = min(self.error.position, len(self.q))
        end = start
        while end < len(self.q) and not self.q[end].isspace() and (end == start or self.q[end] not in "()=!<>~,"):
            end += 1
        return {
            "message": self.error.message,
            "position": self.error.position,
            "before": self.q[:start],
            "bad": self.q[start:end],
            "after": self.q[end:],
        }

    def as_pql(self, *, project: Project, labels: Iterable[Label]) -> str:
        """The same filters in PQL, for the board's live view (its socket subscribes with it):
        "" when nothing filters or when a filter names nothing PQL can name (no live view then;
        the board asks the server about each changed card instead)."""
        terms = []
        if self.assignee == "none":
            terms.append("assignee IS EMPTY")
        elif self.assignee == "me":
            terms.append("assignee = me()")
        elif self.assignee:
            terms.append(f"assignee = {_pql_string(self.assignee)}")
        if self.label:
            label_id = as_id(self.label)
            name = next((label.name for label in labels if label.pk == label_id), None)
            if name is None:
                return ""
            terms.append(f"labels = {_pql_string(name)}")
        if self.type in Ticket.Type.values:
            terms.append(f"type = {self.type}")
        if self.priority in Ticket.Priority.values:
            terms.append(f"priority = {self.priority}")
        if self.sprint == "none":
            terms.append("sprint IS EMPTY")
        elif self.sprint == "active":
            terms.append("sprint = openSprint()")
        elif self.sprint:
            sprint = _pql_sprint(project, as_id(self.sprint))
            if not sprint:
                return ""
            terms.append(f"sprint = {sprint}")
        if self.q:
            if self.error is not None:
                return ""
            where = _pql_where(self.q)
            if where:
                terms.append(f"({where})")
        return " AND ".join(terms)


def _live_pql(filters: BoardFilters, views: Any, *, project: Project, labels: Iterable[Label]) -> str:
    """The board's live-view query: the filters' PQL and the saved view's, ANDed; "" when either
    cannot be said in PQL (the board then asks about each changed card instead)."""
    live = filters.as_pql(project=project, labels=labels)
    if views.current is None:
        return live
    filtering = any(getattr(filters, key) for key in FILTER_KEYS if key != "view")
    if views.error or (filtering and not live):
        return ""
    view_where = _pql_where(views.current.query)
    return " AND ".join(term for term in (f"({view_where})" if view_where else "", live) if term)


def _pql_where(query: str) -> str:
    """The query without its ORDER BY (a board keeps its own order; a subscription needs none)."""
    tokens = tokenize(query)
    for token, following in pairwise(tokens):
        if token.keyword() == "order" and following.keyword() == "by":
            return query[: token.position].strip()
    return query


def _pql_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _pql_sprint(project: Project, sprint_id: int | None) -> str:
    """How PQL names this sprint of the project: its name when no other sprint has it, else its
    id (PQL reads a number as an id when no sprint has it as a name); "" if neither is sure."""
    names = {pk: name.lower() for pk, name in project.sprints.values_list("pk", "name")}
    if sprint_id not in names:
        return ""
    name = names[sprint_id]
    if list(names.values()).count(name) == 1:
        return _pql_string(name)
    return str(sprint_id) if str(sprint_id) not in names.values() else ""


def _ticket_count(column: Column) -> int:
    # projects.selectors.project_columns() annotates it: not a field the model declares.
    loaded: Any = column
    count: int = loaded.ticket_count
    return count


# Cards a column shows up front; the rest come a page at a time as the column is scrolled
# (board_more). A 1,000-card board drew 9,200 elements and took seconds to render and to use.
PAGE_SIZE = 40
RANK_MIN, RANK_MAX = column_range(Ticket, "rank")


def _ranked(tickets: QuerySet[Ticket], *, label_filter: bool) -> QuerySet[Ticket]:
    # A label filter joins (and distinct()s) the rows; window functions count rows before
    # DISTINCT, so they run over the plain tickets those rows name.
    if label_filter:
        tickets = Ticket.objects.filter(pk__in=tickets.values("pk"))
    return tickets


def _first_pages(
    tickets: QuerySet[Ticket], *, label_filter: bool
) -> tuple[list[int], dict[int, int], dict[int, tuple[int, int]]]:
    """One statement: the ids of the first PAGE_SIZE cards of every column (board order), how many
    cards each column holds under the filters, and the (id, rank) of each column's last card shown."""
    place = Window(RowNumber(), partition_by=[F("column_id")], order_by=[F("rank").asc(), F("id").asc()])
    total = Window(Count("id"), partition_by=[F("column_id")])
    rows = (
        _ranked(tickets, label_filter=label_filter)
        .annotate(place=place, total=total)
        .filter(place__lte=PAGE_SIZE)
        .order_by("column_id", "rank", "id")
        .values_list("id", "column_id", "rank", "total")
    )
    ids: list[int] = []
    counts: dict[int, int] = {}
    last: dict[int, tuple[int, int]] = {}
    for ticket_id, column_id, rank, count in rows:
        ids.append(ticket_id)
        counts[column_id] = count
        last[column_id] = (ticket_id, rank)
    return ids, counts, last


def _more_url(base: str, filters: BoardFilters, *, column_id: int, after: tuple[int, int]) -> str:
    """The next page of a column: the cards after `after` ((id, rank): keyset, so cards moved or
    added above it meanwhile neither shift nor repeat the pages), under the same filters."""
    query = QueryDict(mutable=True)
    query.update({"column": str(column_id), "after": str(after[0]), "rank": str(after[1])})
    for key in FILTER_KEYS:
        value = getattr(filters, key)
        if value:
            query[key] = value
    return f"{base}?{query.urlencode()}"


STARTED = (Column.Category.IN_PROGRESS, Column.Category.IN_REVIEW)


def _days(value: float) -> str:
    whole = int(value)
    return f"{whole} day{'' if whole == 1 else 's'}"


def mark_aging(cards: Iterable[dict[str, Any]], *, project: Project, started_columns: set[int]) -> None:
    """Flags the cards in a started column that have been in progress longer than the team's
    85th percentile cycle time: `card["aging"]` is the sentence the card's tooltip says,
    `card["aging_days"]` the whole days it shows.
    Queries: card_ages' fixed few, whatever the number of cards."""
    cards = list(cards)
    ages = card_ages(project=project, ticket_ids=[card["id"] for card in cards])
    p85 = ages["p85_days"]
    if p85 is None:
        return
    for card in cards:
        age = ages["ages"].get(card["id"])
        if age is not None and age > p85 and card["column_id"] in started_columns:
            card["aging"] = f"In progress for {_days(age)} (85% of tickets finish within {round(p85, 1):g})"
            card["aging_days"] = int(age)


def board_context(request: HttpRequest, project: Project, role: str) -> dict[str, Any]:
    """Everything the board template reads, in a fixed number of queries whatever the card count.

    The cards are tickets.cards' (the API board's), grouped by column in rank order; each column
    holds its first PAGE_SIZE cards and, when it has more, the address of the next page.
    """
    filters = BoardFilters.from_query(request.GET)
    columns = list(project_selectors.project_columns(project=project))
    tickets = filters.apply(ticket_selectors.cards_for_project(project=project), user=request.user, project=project)
    views = switcher(request, project)
    tickets, views.error = narrowed(tickets, views.current, user=request.user)
    ids, shown, last = _first_pages(tickets, label_filter=bool(filters.label))
    by_column: dict[int, list[dict[str, Any]]] = {column.pk: [] for column in columns}
    shown_cards = page_cards.read(ids, project=project)
    mark_aging(shown_cards, project=project, started_columns={c.pk for c in columns if c.category in STARTED})
    for card in shown_cards:
        by_column.setdefault(card["column_id"], []).append(card)
    more_base = reverse("web:board_more", args=[project.namespace, project.path])
    for column in columns:
        ticket_count = _ticket_count(column)
        cards = by_column.get(column.pk, [])
        more = shown.get(column.pk, 0) > len(cards)
        # For the template only: not fields the model declares.
        column.__dict__.update(
            cards=cards,
            shown_count=shown.get(column.pk, 0),
            more_url=_more_url(more_base, filters, column_id=column.pk, after=last[column.pk]) if more else "",
            over_limit=bool(column.wip_limit and ticket_count > column.wip_limit),
            at_limit=bool(column.wip_limit and ticket_count >= column.wip_limit),
        )
    members = [m.user for m in project_selectors.project_members(project=project)]
    labels = list(project_selectors.project_labels(project=project))
    return {
        "project": project,
        "role": role,
        "can_write": can(role, WRITE),
        "can_manage": can(role, "admin"),
        "columns": columns,
        "filters": filters,
        "pql_error": filters.error_marks(),
        "live_pql": _live_pql(filters, views, project=project, labels=labels),
        "views": views,
        "members": members,
        "labels": labels,
        "sprints": [s for s in project.sprints.order_by("-created_at", "-id") if s.status != Sprint.Status.CLOSED],
        "types": Ticket.Type.choices,
        "priorities": Ticket.Priority.choices,
        "quick_add": QuickAddForm(),
        "tab": "board",
    }


@login_required
@require_GET
def board(request: HttpRequest, namespace: str, path: str) -> HttpResponse:
    project, role = project_for(request, namespace, path, READ)
    if "as_of" in request.GET:
        return board_as_of_page(request, project, role)
    context = board_context(request, project, role)
    # The live feed and the filter bar ask for the columns only (htmx swaps #board).
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "board":
        return render(request, "web/_board_swap.html", context)
    return render(request, "web/board.html", context)


def _as_rank(text: str) -> int | None:
    digits = text.removeprefix("-")
    value = as_int(digits, 0, max(-RANK_MIN, RANK_MAX))
    if value is None:
        return None
    value = -value if text.startswith("-") else value
    return value if RANK_MIN <= value <= RANK_MAX else None


@login_required
@require_GET
def board_more(request: HttpRequest, namespace: str, path: str) -> HttpResponse:
    """The next page of a board column: the cards after `after` (a card id) at `rank` (its rank
    when the page before was drawn), under the board's filters, then the sentinel of the page
    after that if there is one. The board's `<li data-load-more>` asks for it when scrolled to."""
    project, role = project_for(request, namespace, path, READ)
    column_id = as_id(request.GET.get("column", ""))
    after_id = as_id(request.GET.get("after", ""))
    rank = _as_rank(request.GET.get("rank", ""))
    if column_id is None or after_id is None or rank is None:
        raise Http404("No such page of cards.")
    column = project.columns.filter(pk=column_id).first()
    if column is None:
        raise Http404("No such column.")
    filters = BoardFilters.from_query(request.GET)
    tickets = filters.apply(ticket_selectors.cards_for_project(project=project), user=request.user, project=project)
    tickets = narrowed_by_request(tickets, request, project)
    rows = list(
        _ranked(tickets, label_filter=bool(filters.label))
        .filter(column=column)
        .filter(Q(rank__gt=rank) | Q(rank=rank, id__gt=after_id))
        .order_by("rank", "id")
        .values_list("id", "rank")[: PAGE_SIZE + 1]
    )
    page = rows[:PAGE_SIZE]
    more = len(rows) > PAGE_SIZE
    more_base = reverse("web:board_more", args=[project.namespace, project.path])
    cards = page_cards.read([ticket_id for ticket_id, _ in page], project=project)
    if column.category in STARTED:  # only a started column's cards can be aging
        mark_aging(cards, project=project, started_columns={column.pk})
    context = {
        "project": project,
        "can_write": can(role, WRITE),
        "cards": cards,
        "more_url": _more_url(more_base, filters, column_id=column.pk, after=page[-1]) if more else "",
    }
    return render(request, "web/_board_cards.html", context)


@login_required
@require_GET
def board_card(request: HttpRequest, namespace: str, path: str, number: str) -> HttpResponse:
    """One card as the viewer's board shows it, for the live feed (board.js swaps just that card).

    Takes the board's filter query string. 200: the card's `<li>`, with its column
    (`X-Card-Column`) and the id of the card above it among the cards the viewer's filters
    show (`X-Card-After`, empty at the top). 204: the card is not on this viewer's board
    (the filters hide it, or it was deleted). Both carry every column's card count
    (`X-Column-Counts`, JSON). A card in a started column carries its aging mark (mark_aging).
    Queries: fixed, whatever the board holds.
    """
    project, role = project_for(request, namespace, path, READ)
    filters = BoardFilters.from_query(request.GET)
    shown = filters.apply(ticket_selectors.cards_for_project(project=project), user=request.user, project=project)
    shown = narrowed_by_request(shown, request, project)
    ticket_number = ticket_selectors.as_ticket_number(number)
    found = page_cards.read(shown.filter(number=ticket_number), project=project) if ticket_number is not None else []
    columns = list(project_selectors.project_columns(project=project))
    response: HttpResponse
    if not found:
        response = HttpResponse(status=204)
    else:
        card = found[0]
        started = {column.pk for column in columns if column.category in STARTED}
        if card["column_id"] in started:  # only a started card can be aging (no query for the others)
            mark_aging([card], project=project, started_columns=started)
        rank, card_id = card["position"], card["id"]
        above = shown.filter(Q(rank__lt=rank) | Q(rank=rank, pk__lt=card_id), column_id=card["column_id"])
        after = above.order_by("-rank", "-pk").values_list("pk", flat=True).first()
        context = {"card": card, "project": project, "can_write": can(role, WRITE)}
        response = render(request, "web/_card.html", context)
        response["X-Card-Column"] = str(card["column_id"])
        response["X-Card-After"] = str(after or "")
    counts = {column.pk: _ticket_count(column) for column in columns}
    response["X-Column-Counts"] = json.dumps(counts)
    response["Cache-Control"] = "no-store"
    return response


def _json_error(exc: errors.PuntError, status: int | None = None) -> JsonResponse:
    code = status or exc.status
    return JsonResponse({"error": errors.message(exc)}, status=code)


def _ticket(project: Project, number: int) -> Ticket:
    ticket = ticket_selectors.tickets_for_project(project=project).filter(number=number).first()
    if ticket is None:
        raise Http404("Ticket not found.")
    return ticket


def _id_or_none(value: str | None) -> int | None:
    return as_id(value) if value else None


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_POST
def ticket_move(request: HttpRequest, namespace: str, path: str, number: int) -> HttpResponse:
    """Move a card: `column` (id) and the ids of the cards now above (`after`) and below (`before`) it.

    board.js (SortableJS drop) asks for JSON: a refusal (WIP limit, rights) is 4xx with
    {"error"} and the card snaps back. The ticket page's "move to" form gets the page again.
    """
    project, _ = project_for(request, namespace, path, WRITE)
    ticket = _ticket(project, number)
    column_id = as_id(request.POST.get("column", ""))
    column: Column | None = project.columns.filter(pk=column_id).first() if column_id is not None else None
    error: tuple[str, int] | None = None
    if column is None:
        error = ("That column does not exist any more; reload the board.", 400)
    else:
        # The service takes one anchor: the card above if there is one, else the card below.
        after_id = _id_or_none(request.POST.get("after"))
        before_id = None if after_id is not None else _id_or_none(request.POST.get("before"))
        try:
            ticket = ticket_services.ticket_move(
                ticket=ticket,
                column=column,
                after_id=after_id,
                before_id=before_id,
                force=request.POST.get("force") == "1",
                by=request.user,
                tab_id=tab_id(request),
            )
        except ticket_services.Blocked as exc:
            # board.js asks whether to close it anyway and sends force=1 (the "code" tells it so).
            blocked = exc.message.split(";")[0] + "."
            if _wants_json(request) or request.headers.get("HX-Request"):
                return JsonResponse({"error": blocked, "code": exc.code}, status=exc.status)
            error = (blocked, exc.status)
        except ticket_services.WipLimitExceeded as exc:
            # The API's wording tells clients to send "force"; a person moving a card needs only the reason.
            error = (exc.message.split(";")[0] + ".", exc.status)
        except errors.PuntError as exc:
            error = (errors.message(exc), exc.status)
    if error is not None:
        if _wants_json(request) or request.headers.get("HX-Request"):
            return JsonResponse({"error": error[0]}, status=error[1])
        messages.error(request, error[0])
        return after_change(request, project, ticket.number)
    assert column is not None  # no error, so the column was found
    if _wants_json(request):
        counts = {c.pk: _ticket_count(c) for c in project_selectors.project_columns(project=project)}
        return JsonResponse({"ok": True, "ticket": ticket.number, "column": column.pk, "counts": counts})
    messages.success(request, f"{ticket.key} moved to {column.name}.")
    return after_change(request, project, ticket.number)


@login_required
@require_POST
def quick_add(request: HttpRequest, namespace: str, path: str) -> HttpResponse:
    """Create a ticket from a title typed at the bottom of a column (or the "c" shortcut)."""
    project, _ = project_for(request, namespace, path, WRITE)
    form = QuickAddForm(request.POST)
    htmx = bool(request.headers.get("HX-Request"))
    if not form.is_valid():
        if htmx:
            return JsonResponse({"error": "Give the ticket a title."}, status=400)
        return redirect("web:board", project.namespace, project.path)
    data = form.cleaned_data
    column = project.columns.filter(pk=data["column"]).first() if data.get("column") else None
    fields: dict[str, Any] = {"title": data["title"]}
    if column is not None:
        fields["column"] = column
    if data.get("type"):
        fields["type"] = data["type"]
    try:
        ticket = ticket_services.ticket_create(project=project, by=request.user, tab_id=tab_id(request), **fields)
    except errors.PuntError as exc:
        if htmx:
            return _json_error(exc)
        messages.error(request, errors.message(exc))
        return redirect("web:board", project.namespace, project.path)
    if htmx:
        (card,) = page_cards.read([ticket.pk], project=project)
        return render(request, "web/_card.html", {"card": card, "project": project, "can_write": True, "fresh": True})
    return redirect("web:ticket", project.namespace, project.path, ticket.number)
