"""The Insights tab, the forecasts on the sprint and epic pages, the aging cards on the board and
the board as of a past date, through the Django test client, over a history built through the
services under a controlled clock.

The history (project Blog, columns To Do / In Progress / Done, every instant 09:00 UTC):
  Nov 2 (Mon)  A (bug), B (feature), C (task) created in To Do
  Nov 3        A -> In Progress
  Nov 4        B -> In Progress
  Nov 5        A -> Done        A: cycle 2 days, lead 3
  Nov 10       B -> Done        B: cycle 6 days, lead 8
  Nov 12       C -> In Progress (still there)
The pages are read on Nov 20 at 12:00: C has been in progress 8.1 days, over the 6-day p85.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html import unescape
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects import services as project_services
from tests.conftest import Personas
from tests.insights.conftest import Clock
from tests.web.conftest import page_client, page_matrix
from tickets import services as ticket_services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

BASE = "/projects/olivia/blog"
INSIGHTS = f"{BASE}/insights"
BOARD = f"{BASE}/"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BY_DATE = r"by [A-Z][a-z]{2} \d+(, \d{4})? with 85% confidence\."


@pytest.fixture
def clock() -> Iterator[Clock]:
    fake = Clock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    with mock.patch("django.utils.timezone.now", fake):
        yield fake


def at(day: int) -> datetime:
    return datetime(2026, 11, day, 9, 0, tzinfo=UTC)


class History:
    def __init__(self, personas: Personas, clock: Clock) -> None:
        project = personas.project
        self.project = project
        self.owner = personas.owner
        self.columns = {c.name: c for c in project.columns.all()}
        clock.set(at(2))
        self.a = self.create("Fix the crash", Ticket.Type.BUG)
        self.b = self.create("Dark theme", Ticket.Type.FEATURE)
        self.c = self.create("Write the docs", Ticket.Type.TASK)
        for day, ticket, column in (
            (3, self.a, "In Progress"),
            (4, self.b, "In Progress"),
            (5, self.a, "Done"),
            (10, self.b, "Done"),
            (12, self.c, "In Progress"),
        ):
            clock.set(at(day))
            self.move(ticket, column)
        clock.set(NOW)

    def create(self, title: str, kind: str, **fields) -> Ticket:
        return ticket_services.ticket_create(project=self.project, by=self.owner, title=title, type=kind, **fields)

    def move(self, ticket: Ticket, column: str) -> Ticket:
        ticket.refresh_from_db()
        return ticket_services.ticket_move(ticket=ticket, column=self.columns[column], by=self.owner)


@pytest.fixture
def history(personas: Personas, clock: Clock) -> History:
    return History(personas, clock)


def text(html: str) -> str:
    """The page's words, tags out and spaces squeezed, for assertions on what people read."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def section(html: str, element_id: str) -> str:
    match = re.search(rf'<section[^>]*id="{element_id}".*?</section>', html, re.DOTALL)
    assert match, f"no section #{element_id}"
    return match.group(0)


def test_role_matrix(personas: Personas, history: History):
    assert page_matrix(personas, "get", INSIGHTS) == {
        "anonymous": 302,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_the_project_navigation_has_an_insights_tab(personas: Personas, history: History):
    html = page_client(personas, "viewer").get(BOARD).content.decode()
    assert f'<a href="{INSIGHTS}" >Insights</a>' in html
    page = page_client(personas, "viewer").get(INSIGHTS).content.decode()
    assert f'<a href="{INSIGHTS}" class="active" aria-current="page">Insights</a>' in page


def test_page_draws_every_chart_with_its_numbers(personas: Personas, history: History):
    response = page_client(personas, "viewer").get(INSIGHTS)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Aug 23, 2026 – Nov 20, 2026" in text(html)  # the default: 90 days up to today

    cfd = section(html, "cfd")
    assert 'class="chart cfd" viewBox="0 0 480 240" role="img"' in cfd
    assert (
        'aria-label="Cumulative flow from Aug 23 to Nov 20: on the last day '
        'Backlog 0, To do 0, In progress 1, In review 0, Done 2"' in cfd
    )
    rows = text(cfd)
    assert "Day Backlog To do In progress In review Done" in rows
    assert "Nov 2 0 3 0 0 0" in rows and "Nov 3 0 2 1 0 0" in rows and "Nov 5 0 1 1 0 1" in rows
    assert "Nov 20 0 0 1 0 2" in rows

    cycle = section(html, "cycle-time")
    assert "BLOG-1 Fix the crash: 2 days (done Nov 5)" in unescape(cycle)
    assert "BLOG-2 Dark theme: 6 days (done Nov 10)" in unescape(cycle)
    words = text(cycle)
    assert "All types 2 2.0 6.0 6.0 3.0 8.0 8.0" in words
    assert "Bug 1 2.0 2.0 2.0 3.0 3.0 3.0" in words and "Feature 1 6.0 6.0 6.0 8.0 8.0 8.0" in words

    weekly = text(section(html, "throughput"))
    assert "Nov 2 – Nov 8 1 0" in weekly and "Nov 9 – Nov 15 1 0" in weekly and "Nov 16 – Nov 20 0 0" in weekly

    assert "No started or completed sprint yet." in section(html, "velocity")

    aging = text(section(html, "aging"))
    assert "85% of the tickets done in the last 90 days took at most 6.0 days" in aging
    assert "BLOG-3 Write the docs In Progress Nov 12 8.1 over p85" in aging

    forecast = text(section(html, "forecast"))
    assert re.search("The remaining ticket finishes " + BY_DATE, forecast), forecast


def test_filters_narrow_the_range_the_type_and_the_sprint(personas: Personas, history: History, clock: Clock):
    client = page_client(personas, "member")
    html = client.get(INSIGHTS, {"from": "2026-11-01", "to": "2026-11-07", "type": "bug"}).content.decode()
    assert "Nov 1, 2026 – Nov 7, 2026 · bug tickets" in text(html)
    assert "BLOG-1 Fix the crash" in html and "BLOG-2 Dark theme" not in section(html, "cycle-time")
    assert "Nov 7 0 0 0 0 1" in text(section(html, "cfd"))  # only the bug: done on Nov 5

    assert "May 25, 2026 – Nov 20, 2026" in text(client.get(INSIGHTS, {"days": "180"}).content.decode())
    assert "Oct 22, 2026 – Nov 20, 2026" in text(client.get(INSIGHTS, {"days": "30"}).content.decode())

    sprint = project_services.sprint_create(project=history.project, name="Sprint 1", by=history.owner)
    ticket_services.ticket_update(ticket=history.c, by=history.owner, sprint=sprint.pk)
    page = client.get(INSIGHTS, {"sprint": str(sprint.pk), "from": "2026-11-01", "to": "2026-11-20"}).content.decode()
    assert "· Sprint 1" in text(page)
    assert "Nov 20 0 0 1 0 0" in text(section(page, "cfd"))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"from": "2026-13-01"}, "Enter a valid date."),
        ({"from": "2026-11-10", "to": "2026-11-01"}, "The end of the range cannot be before its start."),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "A range covers at most 366 days."),
        ({"type": "nope"}, "Select a valid choice."),
        ({"sprint": "99999999999999999999"}, "Select a valid choice."),
        ({"sprint": "abc"}, "Select a valid choice."),
        ({"days": "7"}, "Select a valid choice."),
    ],
)
def test_bad_filters_show_on_the_form(personas: Personas, history: History, query: dict, message: str):
    response = page_client(personas, "viewer").get(INSIGHTS, query)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in text(html)
    assert 'role="alert"' in html
    assert 'id="cfd"' not in html


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_query_count_is_pinned_and_does_not_grow_with_tickets(
    personas: Personas, history: History, clock: Clock, django_assert_max_num_queries
):
    sprint = project_services.sprint_create(project=history.project, name="S1", by=history.owner)
    ticket_services.ticket_update(ticket=history.c, by=history.owner, sprint=sprint.pk)
    project_services.sprint_start(sprint=sprint, by=history.owner)
    clock.set(at(12))
    history.move(history.create("Started bug", Ticket.Type.BUG), "In Progress")
    clock.set(NOW)
    client = page_client(personas, "viewer")
    url = f"{INSIGHTS}?type=bug"  # one bug done (A), one in progress: every part has rows to read
    few = _queries(client, url)
    for day in (13, 14, 15):
        clock.set(at(day))
        for n in range(4):
            ticket = history.create(f"More {day}-{n}", Ticket.Type.BUG, sprint=sprint)
            history.move(ticket, "In Progress")
            if n % 2:
                history.move(ticket, "Done")
    clock.set(NOW)
    with django_assert_max_num_queries(few):
        page = client.get(url)
    html = page.content.decode()
    assert text(section(html, "cycle-time")).count("More 1") == 6 * 2  # each done one: its dot's tooltip, its row
    assert text(section(html, "aging")).count("More 1") == 6
    assert few <= 21


def test_sprint_forecast_on_the_backlog_page(personas: Personas, history: History, clock: Clock):
    sprint = project_services.sprint_create(project=history.project, name="Sprint 1", by=history.owner)
    for ticket in (history.b, history.c):
        ticket.refresh_from_db()
        ticket_services.ticket_update(ticket=ticket, by=history.owner, sprint=sprint.pk)
    project_services.sprint_start(sprint=sprint, by=history.owner)
    html = page_client(personas, "viewer").get(f"{BASE}/backlog").content.decode()
    forecast = re.search(r'<p class="forecast" id="sprint-forecast">(.*?)</p>', html)
    assert forecast, "no sprint forecast"
    # B is done: one ticket (C) remains.
    assert re.fullmatch("The remaining ticket finishes " + BY_DATE, forecast[1])


def test_epic_forecast_on_the_epic_page_only(personas: Personas, history: History):
    epic = history.create("Launch", Ticket.Type.EPIC)
    for title in ("One", "Two"):
        history.create(title, Ticket.Type.STORY, parent=epic)
    client = page_client(personas, "viewer")
    html = client.get(f"{BASE}/tickets/{epic.number}").content.decode()
    forecast = re.search(r'<p class="forecast" id="epic-forecast">(.*?)</p>', html)
    assert forecast, "no epic forecast"
    assert re.fullmatch("The remaining 2 tickets finish " + BY_DATE, forecast[1])
    assert "epic-forecast" not in client.get(f"{BASE}/tickets/{history.a.number}").content.decode()


def test_board_marks_cards_in_progress_longer_than_the_85th_percentile(personas: Personas, history: History):
    html = page_client(personas, "viewer").get(BOARD).content.decode()
    cards = {m[1]: m[0] for m in re.finditer(r'<li class="ticket-card[^"]*"[^>]*data-number="(\d+)"', html)}
    assert cards
    aging = re.findall(r'<li class="ticket-card card--aging" title="([^"]*)" data-id="\d+" data-number="(\d+)"', html)
    assert aging == [("In progress for 8 days (85% of tickets finish within 6)", str(history.c.number))]


def test_board_as_of_a_past_moment_is_read_only(personas: Personas, history: History):
    response = page_client(personas, "member").get(BOARD, {"as_of": "2026-11-04T10:00"})
    assert response.status_code == 200
    html = response.content.decode()
    words = text(html)
    assert "Board as of Nov 4, 2026 10:00 UTC — read-only. Back to the live board" in words
    columns = dict(
        re.findall(
            r'<section class="column[^"]*" data-column="\d+" aria-label="([^"]+)">(.*?)</section>', html, re.DOTALL
        )
    )
    assert "BLOG-3" in columns["To Do"]
    assert "BLOG-1" in columns["In Progress"] and "BLOG-2" in columns["In Progress"]
    assert "BLOG-" not in columns["Done"]
    # No drag, no quick add, no live board script, no editing from the cards.
    assert "quick-add" not in html and "js/board.js" not in html and "hx-get" not in columns["To Do"]
    assert 'class="board read-only"' in html


def test_board_as_of_a_day_shows_its_end(personas: Personas, history: History):
    html = page_client(personas, "viewer").get(BOARD, {"as_of": "2026-11-05"}).content.decode()
    assert "Board as of the end of Nov 5, 2026 — read-only." in text(html)
    done = re.search(r'aria-label="Done">(.*?)</section>', html, re.DOTALL)
    assert done and "BLOG-1" in done[1]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("yesterday", "Give a date (2026-11-20)"),
        ("2026-02-30", "Give a date (2026-11-20)"),
        ("", "Give a date (2026-11-20)"),
        ("2026-12-01T09:00", "That moment has not come yet"),
    ],
)
def test_board_as_of_a_bad_moment_shows_the_error(personas: Personas, history: History, value: str, message: str):
    response = page_client(personas, "viewer").get(BOARD, {"as_of": value})
    assert response.status_code == 400
    assert message in text(response.content.decode())
    assert 'aria-invalid="true"' in response.content.decode()


def test_board_as_of_is_for_members_only(personas: Personas, history: History):
    assert page_matrix(personas, "get", f"{BOARD}?as_of=2026-11-04") == {
        "anonymous": 302,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_board_aging_marks_cost_a_fixed_number_of_queries(personas: Personas, history: History, clock: Clock):
    client = page_client(personas, "viewer")
    cold = _queries(client, BOARD)  # works out the p85 (two queries), then caches it
    warm = _queries(client, BOARD)
    assert cold == warm + 2
    clock.set(at(13))
    for n in range(6):
        history.move(history.create(f"Started {n}", Ticket.Type.TASK), "In Progress")
    clock.set(NOW)
    assert _queries(client, BOARD) == warm
    html = client.get(BOARD).content.decode()
    assert html.count("card--aging") == 7  # C, and the six started on Nov 13 (7.1 days > 6)


def test_live_card_fragment_keeps_the_aging_mark(personas: Personas, history: History):
    client = page_client(personas, "viewer")
    aging = client.get(f"{BASE}/cards/{history.c.number}").content.decode()
    assert 'class="ticket-card card--aging" title="In progress for 8 days (85% of tickets finish within 6)"' in aging
    assert "card--aging" not in client.get(f"{BASE}/cards/{history.a.number}").content.decode()


def test_board_as_of_shows_the_moment_in_the_picker(personas: Personas, history: History):
    html = page_client(personas, "viewer").get(BOARD, {"as_of": "2026-11-04T10:00:00Z"}).content.decode()
    assert 'name="as_of" value="2026-11-04T10:00"' in html


def test_pages_with_a_forecast_or_a_past_board_cost_a_fixed_number_of_queries(
    personas: Personas, history: History, clock: Clock
):
    epic = history.create("Launch", Ticket.Type.EPIC)
    sprint = project_services.sprint_create(project=history.project, name="Sprint 1", by=history.owner)
    project_services.sprint_start(sprint=sprint, by=history.owner)

    def grow(n: int) -> None:
        clock.set(at(3))
        for i in range(n):
            child = history.create(f"Part {i}", Ticket.Type.STORY, parent=epic, sprint=sprint)
            history.move(child, "In Progress" if i % 2 else "Done")
        clock.set(NOW)

    client = page_client(personas, "viewer")
    urls = [f"{BASE}/backlog", f"{BASE}/tickets/{epic.number}", f"{BOARD}?as_of=2026-11-04"]
    grow(2)
    few = {url: _queries(client, url) for url in urls}
    grow(10)
    assert {url: _queries(client, url) for url in urls} == few
    # The backlog and the epic: their page's queries + forecast_remaining's two; the past board:
    # the page's own (session, user, project, nav) + board_as_of's.
    backlog, epic_page, past_board = few.values()
    assert backlog <= 15 and epic_page <= 25 and past_board <= 13
