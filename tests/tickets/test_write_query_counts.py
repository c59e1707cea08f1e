"""Creating and moving a card cost the same number of queries on a full board as on an empty one."""

from __future__ import annotations

import pytest

from tests.factories import LabelFactory
from tests.tickets.helpers import url

pytestmark = pytest.mark.django_db


def _fill(make_card, personas, columns, n: int) -> None:
    for i in range(n):
        label = LabelFactory(project=personas.project)
        for column in columns:
            make_card(f"{column.name} {i}", column=column, labels=[label.pk], assignee="adam")


def test_move_query_count_does_not_grow(personas, columns, make_card, django_assert_max_num_queries):
    todo, doing, _done = columns
    client = personas.client("member")
    card = make_card("mover", labels=[LabelFactory(project=personas.project).pk], assignee="mary")
    _fill(make_card, personas, columns, 1)

    with django_assert_max_num_queries(25) as small:
        assert client.patch(url(f"/cards/{card.pk}/move"), {"column_id": doing.pk}, format="json").status_code == 200
    _fill(make_card, personas, columns, 10)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.patch(url(f"/cards/{card.pk}/move"), {"column_id": todo.pk, "index": 0}, format="json")
    assert response.status_code == 200
    assert response.json()["column_id"] == todo.pk


def test_create_query_count_does_not_grow(personas, columns, make_card, django_assert_max_num_queries):
    todo = columns[0]
    client = personas.client("member")
    _fill(make_card, personas, columns, 1)

    with django_assert_max_num_queries(30) as small:
        assert client.post(url(f"/columns/{todo.pk}/cards"), {"title": "one"}, format="json").status_code == 201
    _fill(make_card, personas, columns, 10)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.post(url(f"/columns/{todo.pk}/cards"), {"title": "two"}, format="json")
    assert response.status_code == 201
