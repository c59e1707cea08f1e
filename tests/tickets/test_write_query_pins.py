"""Exact query budgets for the hot write paths (create, move), so a regression shows up.

Raise a pin only with a reason: each query here costs every create or move on a busy board.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import LabelFactory
from tests.tickets.helpers import url
from tickets import services

pytestmark = pytest.mark.django_db

# Plain create: auth (key, project with the caller's role, column), counter UPDATE ... RETURNING,
# column lock, rank, INSERT ticket, watcher, event, the webhook lookup and the project's custom
# fields (their defaults and required ones, issue 21), and the board history's row (issue 22: a
# Placement INSERT, what insights count). The card that both the card_created event and the 201
# body carry is built from memory (a labels query only with labels). A move writes its Placement too.
CREATE_QUERIES = 13
MOVE_QUERIES = 16


def _count(call):
    with CaptureQueriesContext(connection) as ctx:
        response = call()
    return response, len(ctx.captured_queries)


def test_create_query_pin_and_response_matches_detail(personas, columns):
    todo = columns[0]
    client = personas.client("member")
    client.post(url(f"/columns/{todo.pk}/cards"), {"title": "warm"}, format="json")
    response, queries = _count(lambda: client.post(url(f"/columns/{todo.pk}/cards"), {"title": "plain"}, format="json"))
    assert response.status_code == 201
    assert queries <= CREATE_QUERIES
    # The 201 body is exactly what reading the card back returns, byte for byte.
    body = response.json()
    assert response.content == client.get(url(f"/cards/{body['id']}")).content


def test_create_with_labels_response_matches_detail(personas, columns):
    todo = columns[0]
    client = personas.client("member")
    label = LabelFactory(project=personas.project)
    response = client.post(url(f"/columns/{todo.pk}/cards"), {"title": "lab", "labels": [label.pk]}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert [item["id"] for item in body["labels"]] == [label.pk]
    assert response.content == client.get(url(f"/cards/{body['id']}")).content


def test_create_with_every_field_response_matches_detail(personas, columns, make_card, published):
    todo = columns[0]
    client = personas.client("admin")
    parent = make_card("parent")
    sprint = client.post(url("/sprints"), {"name": "S1"}, format="json")
    assert sprint.status_code == 201, sprint.content
    labels = [LabelFactory(project=personas.project, name=name).pk for name in ("zeta", "alpha")]
    response = client.post(
        url(f"/columns/{todo.pk}/cards"),
        {
            "title": "everything",
            "body": "Some *Markdown* for @mary",
            "type": "bug",
            "priority": "high",
            "assignee": "mary",
            "labels": labels,
            "sprint_id": sprint.json()["id"],
            "parent": parent.pk,
            "due_date": "2026-12-24",
            "estimate": 5,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["assignee"]["username"] == "mary"
    assert [watcher["username"] for watcher in body["watchers"]] == ["adam", "mary"]
    assert body["watching"] is True
    assert body["parent"]["id"] == parent.pk
    assert body["sprint"]["name"] == "S1"
    assert [label["name"] for label in body["labels"]] == ["alpha", "zeta"]
    assert response.content == client.get(url(f"/cards/{body['id']}")).content
    # The card_created event carries the card exactly as the board shows it.
    board = client.get(url("/board")).json()
    on_board = [card for column in board["columns"] for card in column["cards"] if card["id"] == body["id"]]
    created = [call["payload"] for call in published if call["event"] == "board.card_created"]
    assert json.dumps(created[-1]) == json.dumps(on_board[0])
    # Someone who is not a watcher reads the same card with watching false.
    assert personas.client("viewer").get(url(f"/cards/{body['id']}")).json()["watching"] is False


def test_move_query_pin(personas, columns, make_card):
    todo, doing, _done = columns
    client = personas.client("member")
    card = make_card("mover", labels=[LabelFactory(project=personas.project).pk], assignee="mary")
    client.patch(url(f"/cards/{card.pk}/move"), {"column_id": doing.pk}, format="json")
    response, queries = _count(
        lambda: client.patch(url(f"/cards/{card.pk}/move"), {"column_id": todo.pk, "index": 0}, format="json")
    )
    assert response.status_code == 200
    assert queries <= MOVE_QUERIES


@pytest.mark.parametrize("body", [{"index": 0}, {}], ids=["to a position", "to the same column, nowhere"])
def test_move_answer_and_event_are_the_cards_the_list_and_board_show(personas, columns, make_card, published, body):
    todo, _doing, done = columns
    client = personas.client("member")
    labels = [LabelFactory(project=personas.project, name=name).pk for name in ("beta", "alpha")]
    card = make_card("mover", labels=labels, assignee="adam", due_date=date(2026, 12, 24), estimate=3)
    services.checklist_item_add(ticket=card, by=personas.member, text="one", done=True)
    target = done if body else todo  # into Done closes the card; the other case stays put
    response = client.patch(url(f"/cards/{card.pk}/move"), {"column_id": target.pk, **body}, format="json")
    assert response.status_code == 200, response.content
    listed = [item for item in client.get(url("/cards?limit=100")).json()["results"] if item["id"] == card.pk]
    assert json.dumps(response.json()) == json.dumps(listed[0])
    assert response.json()["checklist"] == {"done": 1, "total": 1}
    if body:
        assert response.json()["state"] == "closed"
        board = client.get(url("/board")).json()
        on_board = [item for column in board["columns"] for item in column["cards"] if item["id"] == card.pk]
        moved = [call["payload"] for call in published if call["event"] == "board.card_moved"][-1]
        assert moved.pop("from_column_id") == todo.pk and moved.pop("to_column_id") == done.pk
        assert json.dumps(moved) == json.dumps(on_board[0])
