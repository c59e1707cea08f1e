"""The board's search box takes PQL: queries filter the board, the lazy column pages and the
live card fragment alike; a refused query shows its error with the bad spot marked."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import Personas
from tests.factories import LabelFactory, TicketFactory
from tests.web.conftest import page_client
from tickets.models import Ticket
from web.views import board as board_views

pytestmark = pytest.mark.django_db

BOARD = "/projects/olivia/blog/"
TITLES = ("Crash on save", "Nice feature", "Urgent fix", "Backend tidy")


@pytest.fixture
def tickets(personas: Personas) -> dict[str, Ticket]:
    project = personas.project
    backend = LabelFactory(project=project, name="backend")
    doing = project.columns.get(name="In Progress")
    found = {
        "crash": TicketFactory(
            project=project, title="Crash on save", type=Ticket.Type.BUG, priority="high", assignee=personas.member
        ),
        "feature": TicketFactory(project=project, title="Nice feature", type=Ticket.Type.FEATURE, priority="low"),
        "urgent": TicketFactory(project=project, title="Urgent fix", priority="urgent", column=doing),
        "tidy": TicketFactory(project=project, title="Backend tidy", priority="medium", assignee=personas.admin),
    }
    found["tidy"].labels.add(backend)
    return found


def _get(personas: Personas, q: str, path: str = BOARD, **params: str):
    return page_client(personas, "member").get(f"{path}?{urlencode({'q': q, **params})}")


def _titles(html: str) -> set[str]:
    return {title for title in TITLES if f">{title}</a>" in html}


def test_a_query_filters_the_board(personas: Personas, tickets):
    assert _titles(_get(personas, "priority >= high").content.decode()) == {"Crash on save", "Urgent fix"}
    assert _titles(_get(personas, "assignee = me()").content.decode()) == {"Crash on save"}
    assert _titles(_get(personas, "label = backend OR type = feature").content.decode()) == {
        "Backend tidy",
        "Nice feature",
    }
    assert _titles(_get(personas, "status = in_progress").content.decode()) == {"Urgent fix"}
    # The fixed filters still work beside it.
    response = page_client(personas, "member").get(BOARD + "?" + urlencode({"q": "priority >= high", "type": "bug"}))
    assert _titles(response.content.decode()) == {"Crash on save"}
    html = _get(personas, "priority >= high").content.decode()
    assert 'value="priority &gt;= high"' in html
    assert '<div id="pql-error" class="pql-error" role="alert" hidden></div>' in html


def test_plain_words_still_just_search(personas: Personas, tickets):
    assert _titles(_get(personas, "crash").content.decode()) == {"Crash on save"}
    assert _titles(_get(personas, "fix urgent").content.decode()) == {"Urgent fix"}
    assert _titles(_get(personas, f"BLOG-{tickets['feature'].number}").content.decode()) == {"Nice feature"}
    assert _titles(_get(personas, "nothing like this").content.decode()) == set()


def test_a_bad_query_shows_the_error_with_its_position_and_no_cards(personas: Personas, tickets):
    response = _get(personas, "priorty = high")
    assert response.status_code == 200
    html = response.content.decode()
    assert _titles(html) == set()  # nothing filtered wrongly: no card at all
    assert "Unknown field &#x27;priorty&#x27; at 0: did you mean &#x27;priority&#x27;?" in html
    assert 'data-position="0"><mark>priorty</mark> = high</code>' in html
    assert 'aria-invalid="true"' in html
    # A value the field does not know, in the middle of the query.
    html = _get(personas, "type = bug AND priority = hihg").content.decode()
    assert re.search(r'data-position="26">type = bug AND priority = <mark>hihg</mark></code>', html)
    # A query that stops short: the mark sits at its end.
    html = _get(personas, "priority >=").content.decode()
    assert "Expected a value but found the end of the query at 11" in html
    assert 'data-position="11">priority &gt;=<mark> </mark></code>' in html


def test_the_htmx_redraw_swaps_the_error_beside_the_board(personas: Personas, tickets):
    client = page_client(personas, "member")
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "board"}
    html = client.get(BOARD + "?" + urlencode({"q": "priorty = high"}), **headers).content.decode()
    assert html.lstrip().startswith('<div class="board" id="board"')
    assert '<div id="pql-error" class="pql-error" role="alert" hx-swap-oob="true">' in html
    assert "<mark>priorty</mark>" in html
    # A good query clears it.
    html = client.get(BOARD + "?" + urlencode({"q": "priority = high"}), **headers).content.decode()
    assert '<div id="pql-error" class="pql-error" role="alert" hx-swap-oob="true" hidden></div>' in html
    assert _titles(html) == {"Crash on save"}


def test_board_more_honours_the_query(personas: Personas, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(board_views, "PAGE_SIZE", 2)
    todo = personas.project.columns.get(name="To Do")
    for n in range(6):
        TicketFactory(project=personas.project, title=f"Card {n}", priority="high" if n % 2 else "low", column=todo)
    html = _get(personas, "priority = high").content.decode()
    more = re.search(r'data-load-more hx-get="([^"]+)"', html)
    assert more is not None
    url = more.group(1).replace("&amp;", "&")
    assert "q=priority+%3D+high" in url
    page = page_client(personas, "member").get(url).content.decode()
    assert re.findall(r">(Card \d)</a>", page) == ["Card 5"]
    # A bad query pages nothing.
    bad = url.replace("q=priority+%3D+high", "q=priorty+%3D+high")
    assert "Card" not in page_client(personas, "member").get(bad).content.decode()


def test_board_card_honours_the_query(personas: Personas, tickets):
    crash, feature = tickets["crash"], tickets["feature"]
    assert _get(personas, "priority >= high", f"{BOARD}cards/{crash.number}").status_code == 200
    assert _get(personas, "priority >= high", f"{BOARD}cards/{feature.number}").status_code == 204
    assert _get(personas, "nice", f"{BOARD}cards/{feature.number}").status_code == 200
    # A refused query shows no card, live updates included.
    assert _get(personas, "priorty = high", f"{BOARD}cards/{crash.number}").status_code == 204


@pytest.mark.parametrize("q", ["", "crash", "priority >= high AND assignee = me()", "label = backend"])
def test_board_query_count_does_not_grow_with_cards(personas: Personas, tickets, q: str):
    client = page_client(personas, "member")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(BOARD + "?" + urlencode({"q": q})).status_code == 200
        return len(ctx.captured_queries)

    # The first board after a cache clear also works out the team's p85 cycle time for the aging
    # marks (insights.cycle.card_ages caches it for 10 minutes): count from the second one.
    count()
    few = count()
    label = personas.project.labels.get(name="backend")
    for column in personas.project.columns.all():
        for n in range(5):
            ticket = TicketFactory(project=personas.project, column=column, title=f"crash {n}", priority="high")
            ticket.labels.add(label)
    assert count() == few
    # A plain search costs what the old one did (test_board's budget); a query adds its lookups.
    # + 1: the shown-on-card custom fields (web.cards.fields_on_cards); + 1: the aging marks' ages.
    assert few <= (16 if q in ("", "crash") else 18)
