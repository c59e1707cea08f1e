"""The board's filters as PQL (#board's data-pql, what board.js subscribes with): the query picks
exactly the cards the filters show."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.http import QueryDict

from projects.models import Sprint
from tests.conftest import Personas
from tests.factories import LabelFactory, SprintFactory, TicketFactory
from tests.web.conftest import page_client
from tickets import pql
from tickets.selectors import cards_for_project
from web.views.board import BoardFilters

BOARD = "/projects/olivia/blog/"


@pytest.fixture
def board(personas: Personas) -> dict[str, Any]:
    project = personas.project
    bug = LabelFactory(project=project, name='say "hi"')
    LabelFactory(project=project, name="docs")
    active = SprintFactory(project=project, name="Sprint 1", status=Sprint.Status.ACTIVE)
    planned = SprintFactory(project=project, name="Sprint 2", status=Sprint.Status.PLANNED)
    twin = SprintFactory(project=project, name="Sprint 2", status=Sprint.Status.PLANNED)
    tickets = [
        TicketFactory(project=project, title="Fix the login", assignee=personas.member, priority="high", type="bug"),
        TicketFactory(project=project, title="Write docs", body="login page", sprint=active),
        TicketFactory(project=project, title="Other", assignee=personas.admin, sprint=planned, priority="low"),
        TicketFactory(project=project, title='A "quoted" \\ title', sprint=twin, type="story"),
    ]
    tickets[0].labels.add(bug)
    tickets[2].labels.add(bug)
    return {"bug": bug, "active": active, "planned": planned, "twin": twin, "tickets": tickets}


def filter_cases(personas: Personas, board: dict[str, Any]) -> list[str]:
    bug, planned, twin, tickets = board["bug"], board["planned"], board["twin"], board["tickets"]
    return [
        "assignee=me",
        "assignee=none",
        "assignee=ADAM",
        f"label={bug.pk}",
        "type=bug",
        "priority=high&assignee=me",
        "sprint=none",
        "sprint=active",
        f"sprint={planned.pk}",
        f"sprint={twin.pk}",
        "q=login",
        'q="quoted" \\',
        f"q=BLOG-{tickets[2].number}",
        f"q=%23{tickets[1].number}",
        f"q=login&label={bug.pk}&type=bug",
    ]


def test_the_filters_pql_matches_the_cards_the_filters_show(personas: Personas, board):
    project = personas.project
    for case in filter_cases(personas, board):
        filters = BoardFilters.from_query(QueryDict(case))
        text = filters.as_pql(project=project, labels=project.labels.all())
        assert text, case
        shown = set(filters.apply(cards_for_project(project=project), user=personas.member, project=project))
        compiled = pql.compile_query(text, pql.project_scope(project, personas.member))
        matched = set(pql.apply(cards_for_project(project=project), compiled))
        assert matched == shown, (case, text)
        facts = pql.load_facts(ticket.pk for ticket in board["tickets"])
        assert {t for t in board["tickets"] if compiled.test(facts[t.pk])} == shown, (case, text)


@pytest.mark.parametrize("case", ["", "label=999999", "label=x", "sprint=999999"])
def test_no_live_view_without_a_filter_or_for_one_that_names_nothing(personas: Personas, board, case):
    filters = BoardFilters.from_query(QueryDict(case))
    assert filters.as_pql(project=personas.project, labels=personas.project.labels.all()) == ""


def test_the_board_carries_its_filters_pql(personas: Personas, board):
    client = page_client(personas, "member")

    page = client.get(BOARD, {"assignee": "me", "priority": "high"}).content.decode()
    swapped = client.get(BOARD, {"q": 'say "hi"'}, headers={"HX-Request": "true"}).content.decode()
    plain = client.get(BOARD).content.decode()

    assert f'data-pql="{html.escape("assignee = me() AND priority = high")}"' in page
    said = html.escape('(say "hi")')  # the search box is PQL itself
    assert f'data-pql="{said}"' in swapped
    assert 'data-pql=""' in plain
