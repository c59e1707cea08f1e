"""The one-card fragment the live board asks for (board.js swaps just that card)."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import Personas
from tests.factories import LabelFactory, TicketFactory
from tests.web.conftest import page_client, page_matrix

pytestmark = pytest.mark.django_db

BOARD = "/projects/olivia/blog/"


def test_card_fragment_role_matrix(personas: Personas):
    card = TicketFactory(project=personas.project, title="Live card")
    assert page_matrix(personas, "get", f"{BOARD}cards/{card.number}") == {
        "anonymous": 302,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_card_fragment_is_the_cards_li_with_its_place_and_the_counts(personas: Personas):
    project = personas.project
    doing = project.columns.get(name="In Progress")
    todo = project.columns.get(name="To Do")
    first = TicketFactory(project=project, column=doing)
    card = TicketFactory(project=project, column=doing, title="Second in line")
    TicketFactory(project=project, column=doing)
    response = page_client(personas, "member").get(f"{BOARD}cards/{card.number}")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<li class="ticket-card')
    assert f'data-id="{card.pk}"' in html and "Second in line" in html and "<html" not in html
    # Members may drag: the card says so to screen readers.
    assert 'aria-roledescription="draggable card"' in html
    assert response["X-Card-Column"] == str(doing.pk)
    assert response["X-Card-After"] == str(first.pk)
    assert json.loads(response["X-Column-Counts"])[str(doing.pk)] == 3
    assert json.loads(response["X-Column-Counts"])[str(todo.pk)] == 0
    # The top card of a column has nothing above it.
    assert page_client(personas, "member").get(f"{BOARD}cards/{first.number}")["X-Card-After"] == ""


def test_viewer_gets_the_card_without_drag_hints(personas: Personas):
    card = TicketFactory(project=personas.project)
    html = page_client(personas, "viewer").get(f"{BOARD}cards/{card.number}").content.decode()
    assert f'data-id="{card.pk}"' in html
    assert "aria-roledescription" not in html


def test_a_card_the_viewers_filters_hide_is_an_empty_answer(personas: Personas):
    project = personas.project
    mine = TicketFactory(project=project, assignee=personas.member)
    theirs = TicketFactory(project=project, assignee=personas.admin)
    client = page_client(personas, "member")
    hidden = client.get(f"{BOARD}cards/{theirs.number}?assignee=mary")
    assert hidden.status_code == 204
    assert hidden.content == b""
    assert "X-Card-Column" not in hidden
    # The counts still come: the column badge counts every card, filtered or not.
    assert json.loads(hidden["X-Column-Counts"])[str(theirs.column_id)] == 2
    shown = client.get(f"{BOARD}cards/{mine.number}?assignee=mary")
    assert shown.status_code == 200 and f'data-id="{mine.pk}"' in shown.content.decode()


def test_the_anchor_is_the_card_above_among_the_filtered_ones(personas: Personas):
    project = personas.project
    bug = LabelFactory(project=project, name="bug")
    top = TicketFactory(project=project)
    top.labels.add(bug)
    TicketFactory(project=project)  # between them, but not a bug
    card = TicketFactory(project=project)
    card.labels.add(bug)
    response = page_client(personas, "member").get(f"{BOARD}cards/{card.number}?label={bug.pk}")
    assert response["X-Card-After"] == str(top.pk)


def test_a_deleted_or_unknown_card_is_an_empty_answer(personas: Personas):
    card = TicketFactory(project=personas.project)
    card.deleted_at = card.created_at
    card.save(update_fields=["deleted_at"])
    client = page_client(personas, "member")
    assert client.get(f"{BOARD}cards/{card.number}").status_code == 204
    assert client.get(f"{BOARD}cards/99999999999999999999").status_code == 204


def test_card_fragment_query_count_does_not_grow_with_cards(personas: Personas, django_assert_max_num_queries):
    project = personas.project
    label = LabelFactory(project=project, name="bug")
    client = page_client(personas, "member")
    card = TicketFactory(project=project, assignee=personas.member)
    card.labels.add(label)

    def count(query: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"{BOARD}cards/{card.number}{query}").status_code == 200
        return len(ctx.captured_queries)

    few = count(f"?label={label.pk}")
    for column in project.columns.all():
        for _ in range(5):
            other = TicketFactory(project=project, column=column, assignee=personas.member)
            other.labels.add(label)
    card.column = project.columns.get(name="Done")
    card.rank = 10**9
    card.save(update_fields=["column", "rank"])
    assert count(f"?label={label.pk}") == few
    assert few <= 9  # 9: + the shown-on-card custom fields (web.cards.fields_on_cards)
    with django_assert_max_num_queries(10):
        client.get(f"{BOARD}cards/{card.number}?assignee=mary")
