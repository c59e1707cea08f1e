"""Long board columns: the first PAGE_SIZE cards up front, the rest a page at a time (board_more)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import Personas
from tests.factories import LabelFactory, ProjectFactory, TicketFactory
from tests.web.conftest import page_client, page_matrix
from tickets.models import Ticket
from web.views import board as board_views

pytestmark = pytest.mark.django_db

BOARD = "/projects/olivia/blog/"
MORE = BOARD + "board/more"
SENTINEL = re.compile(r'<li class="load-more" data-load-more hx-get="([^"]+)"')


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(board_views, "PAGE_SIZE", 3)


def _titles(html: str) -> list[str]:
    return re.findall(r'hx-push-url="true">([^<]+)</a>', html)


def _next(html: str) -> str | None:
    found = SENTINEL.findall(html)
    assert len(found) <= 1
    return unescape(found[0]) if found else None


def _column_of(html: str, column_id: int) -> str:
    start = html.index(f'<ul class="cards" data-column="{column_id}"')
    return html[start : html.index("</ul>", start)]


def _todo_tickets(personas: Personas, count: int, **fields) -> list[Ticket]:
    return [TicketFactory(project=personas.project, title=f"Card {n:02}", **fields) for n in range(count)]


def test_a_long_column_draws_its_first_cards_then_a_sentinel_and_counts_them_all(personas: Personas):
    _todo_tickets(personas, 7)
    todo = personas.project.columns.get(name="To Do")
    html = page_client(personas, "viewer").get(BOARD).content.decode()
    column = _column_of(html, todo.pk)
    assert _titles(column) == ["Card 00", "Card 01", "Card 02"]
    more = _next(column)
    assert more is not None and more.startswith(f"{MORE}?column={todo.pk}&after=")
    assert 'hx-trigger="intersect once, click" hx-target="this" hx-swap="outerHTML"' in column
    # The header counts every card of the column, not the ones drawn.
    assert re.search(r"data-count[^>]*>7<", html)
    # A short column has no sentinel.
    doing = personas.project.columns.get(name="In Progress")
    assert _next(_column_of(html, doing.pk)) is None


def test_pages_follow_each_other_to_the_end_without_repeats(personas: Personas):
    _todo_tickets(personas, 8)
    client = page_client(personas, "viewer")
    todo = personas.project.columns.get(name="To Do")
    html = _column_of(client.get(BOARD).content.decode(), todo.pk)
    seen, pages = _titles(html), 0
    url = _next(html)
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        assert "<html" not in page
        seen += _titles(page)
        url = _next(page)
        pages += 1
    assert pages == 2
    assert seen == [f"Card {n:02}" for n in range(8)]


def test_a_card_moved_above_the_cursor_does_not_shift_the_next_page(personas: Personas):
    tickets = _todo_tickets(personas, 7)
    client = page_client(personas, "member")
    todo = personas.project.columns.get(name="To Do")
    doing = personas.project.columns.get(name="In Progress")
    url = _next(_column_of(client.get(BOARD).content.decode(), todo.pk))
    # Someone moves a card that was drawn out of the column: the next page still starts after card 2.
    Ticket.objects.filter(pk=tickets[0].pk).update(column=doing)
    assert _titles(client.get(url).content.decode()) == ["Card 03", "Card 04", "Card 05"]


def test_the_next_pages_keep_the_filters(personas: Personas):
    project = personas.project
    bug = LabelFactory(project=project, name="bug")
    for n in range(9):
        ticket = TicketFactory(project=project, title=f"{'Crash' if n % 2 else 'Feature'} {n}")
        if n % 2:
            ticket.labels.add(bug)
    client = page_client(personas, "viewer")
    todo = project.columns.get(name="To Do")
    html = client.get(f"{BOARD}?q=crash&label={bug.pk}").content.decode()
    assert "(4 shown)" in html
    column = _column_of(html, todo.pk)
    assert _titles(column) == ["Crash 1", "Crash 3", "Crash 5"]
    url = _next(column)
    assert "q=crash" in url and f"label={bug.pk}" in url
    page = client.get(url).content.decode()
    assert _titles(page) == ["Crash 7"]
    assert _next(page) is None
    # The board search (the filter bar's htmx request) answers with the columns only, lazily too.
    search = client.get(f"{BOARD}?q=feature", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="board").content.decode()
    assert _titles(search) == ["Feature 0", "Feature 2", "Feature 4"]
    assert "q=feature" in _next(search)


def test_board_more_role_matrix(personas: Personas):
    tickets = _todo_tickets(personas, 5)
    todo = personas.project.columns.get(name="To Do")
    url = f"{MORE}?column={todo.pk}&after={tickets[2].pk}&rank={tickets[2].rank}"
    assert page_matrix(personas, "get", url) == {
        "anonymous": 302,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }
    html = page_client(personas, "viewer").get(url).content.decode()
    assert _titles(html) == ["Card 03", "Card 04"]
    # Viewers get the same cards (no drag handles exist on cards; the board's script decides).
    assert 'class="ticket-card"' in html


@pytest.mark.parametrize(
    "query",
    [
        "",
        "column=abc&after=1&rank=0",
        "column={todo}&after=x&rank=0",
        "column={todo}&after=1&rank=1e3",
        "column={todo}&after=1&rank=99999999999999999999",
        "column={other}&after=1&rank=0",
    ],
)
def test_board_more_refuses_what_names_no_page(personas: Personas, query: str):
    other = ProjectFactory(owner_user=personas.member, key="OTHER").columns.first()
    todo = personas.project.columns.get(name="To Do")
    url = f"{MORE}?{query.format(todo=todo.pk, other=other.pk)}"
    assert page_client(personas, "member").get(url).status_code == 404


def test_a_negative_rank_is_a_cursor_too(personas: Personas):
    tickets = _todo_tickets(personas, 2)
    Ticket.objects.filter(pk=tickets[0].pk).update(rank=-5000)
    todo = personas.project.columns.get(name="To Do")
    url = f"{MORE}?column={todo.pk}&after=0&rank=-6000"
    assert _titles(page_client(personas, "viewer").get(url).content.decode()) == ["Card 00", "Card 01"]


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_query_counts_do_not_grow_with_cards(personas: Personas, django_assert_max_num_queries):
    project = personas.project
    label = LabelFactory(project=project, name="bug")
    client = page_client(personas, "member")
    todo = project.columns.get(name="To Do")
    first = TicketFactory(project=project, assignee=personas.member)
    first.labels.add(label)
    few_more = _queries(client, f"{MORE}?column={todo.pk}&after=0&rank=0")
    few_board = _queries(client, BOARD)
    for column in project.columns.all():
        for _ in range(8):
            ticket = TicketFactory(project=project, column=column, assignee=personas.admin)
            ticket.labels.add(label)
    with django_assert_max_num_queries(few_more):
        client.get(f"{MORE}?column={todo.pk}&after=0&rank=0")
    with django_assert_max_num_queries(few_board):
        client.get(BOARD)
    with django_assert_max_num_queries(few_board):
        client.get(f"{BOARD}?label={label.pk}&q=ticket")
    assert few_more <= 9  # 9: + the shown-on-card custom fields (web.cards.fields_on_cards)
