from __future__ import annotations

import pytest

from projects.models import Column
from tests.factories import LabelFactory
from tests.tickets.helpers import url

pytestmark = pytest.mark.django_db


def test_role_matrix(personas):
    assert personas.matrix("get", url("/board")) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_board_draws_every_column_with_its_cards_in_order(personas, columns, make_card):
    _todo, doing, _done = columns
    Column.objects.filter(pk=doing.pk).update(wip_limit=3)
    a, b = make_card("a"), make_card("b")
    c = make_card("c", column=doing)
    client = personas.client("member")
    client.patch(url(f"/cards/{b.pk}/reorder"), {"index": 0}, format="json")
    gone = make_card("gone")
    client.delete(url(f"/cards/{gone.key}"))

    body = personas.client("viewer").get(url("/board")).json()
    assert body["project"] == {"id": personas.project.pk, "key": "BLOG", "slug": "blog", "name": "Blog"}
    assert [(col["name"], col["category"], col["wip_limit"], col["card_count"]) for col in body["columns"]] == [
        ("To Do", "todo", None, 2),
        ("In Progress", "in_progress", 3, 1),
        ("Done", "done", None, 0),
    ]
    assert [card["key"] for card in body["columns"][0]["cards"]] == [b.key, a.key]
    card = body["columns"][1]["cards"][0]
    assert card["key"] == c.key
    # compact: no body
    assert "body" not in card and "body_html" not in card
    assert {"id", "key", "title", "status", "state", "column_id", "position", "assignee", "labels"} <= set(card)


def test_board_takes_the_list_filters(personas, columns, make_card):
    make_card("mine", assignee="mary")
    make_card("theirs", assignee="adam", column=columns[1])
    body = personas.client("viewer").get(url("/board?assignee=mary")).json()
    assert [[c["title"] for c in col["cards"]] for col in body["columns"]] == [["mine"], [], []]
    assert personas.client("viewer").get(url("/board?status=nope")).status_code == 400


def test_board_query_count_does_not_grow(personas, columns, make_card, django_assert_max_num_queries):
    client = personas.client("viewer")

    def grow(n: int) -> None:
        for i in range(n):
            label = LabelFactory(project=personas.project)
            for column in columns:
                make_card(f"{column.name} {i}", column=column, labels=[label.pk], assignee="adam")

    grow(1)
    with django_assert_max_num_queries(7) as small:
        assert client.get(url("/board")).status_code == 200
    grow(10)
    with django_assert_max_num_queries(len(small.captured_queries)):
        body = client.get(url("/board")).json()
    assert [col["card_count"] for col in body["columns"]] == [11, 11, 11]
