"""Exact query budgets for the hot write paths (create, move), so a regression shows up.

Raise a pin only with a reason: each query here costs every create or move on a busy board.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import LabelFactory
from tests.tickets.helpers import url

pytestmark = pytest.mark.django_db

# Plain create: auth (key, project, role, column), counter UPDATE ... RETURNING, column lock, rank,
# INSERT ticket, watcher, event, the card_created payload (one row, no labels query), the
# webhook lookup, and the 201 body (ticket, labels, watchers; no sub-task/count queries).
CREATE_QUERIES = 16
MOVE_QUERIES = 15


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
    # The 201 body is exactly what reading the card back returns.
    body = response.json()
    assert body == client.get(url(f"/cards/{body['id']}")).json()


def test_create_with_labels_response_matches_detail(personas, columns):
    todo = columns[0]
    client = personas.client("member")
    label = LabelFactory(project=personas.project)
    response = client.post(url(f"/columns/{todo.pk}/cards"), {"title": "lab", "labels": [label.pk]}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert [item["id"] for item in body["labels"]] == [label.pk]
    assert body == client.get(url(f"/cards/{body['id']}")).json()


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
