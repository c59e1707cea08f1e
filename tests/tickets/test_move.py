from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Column
from tests.tickets.helpers import events_named, url
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def order(column: Column) -> list[str]:
    return [t.title for t in Ticket.objects.filter(column=column, deleted_at__isnull=True).order_by("rank", "id")]


@pytest.fixture
def abc(make_card, columns):
    return [make_card(title) for title in "abc"]


def test_role_matrix_for_move_and_reorder(personas, columns, abc):
    a = abc[0]
    assert personas.matrix("patch", url(f"/cards/{a.pk}/move"), {"column_id": columns[1].pk}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }
    assert personas.matrix("patch", url(f"/cards/{a.pk}/reorder"), {"index": 0}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_move_to_another_column_before_after_and_at_index(personas, columns, abc, make_card, published):
    todo, doing, _ = columns
    x, y = make_card("x", column=doing), make_card("y", column=doing)
    a, b, c = abc
    client = personas.client("member")

    response = client.patch(url(f"/cards/{a.key}/move"), {"column_id": doing.pk, "before_id": y.pk}, format="json")
    assert response.status_code == 200
    assert (response.json()["column_id"], response.json()["status"]) == (doing.pk, "in_progress")
    assert order(doing) == ["x", "a", "y"]
    assert order(todo) == ["b", "c"]

    client.patch(url(f"/cards/{b.pk}/move"), {"column_id": doing.pk, "after_id": y.pk}, format="json")
    assert order(doing) == ["x", "a", "y", "b"]
    client.patch(url(f"/cards/{c.pk}/move"), {"column_id": doing.pk, "index": 0}, format="json")
    assert order(doing) == ["c", "x", "a", "y", "b"]
    client.patch(url(f"/cards/{x.pk}/move"), {"column_id": todo.pk}, format="json")
    assert order(todo) == ["x"]

    moved = events_named(published, "board.card_moved")
    assert moved[0]["payload"]["key"] == a.key
    assert (moved[0]["payload"]["from_column_id"], moved[0]["payload"]["to_column_id"]) == (todo.pk, doing.pk)
    assert moved[0]["project_id"] == personas.project.pk
    move_event = a.events.get(text="move")
    assert move_event.data["from_column"]["id"] == todo.pk
    assert move_event.data["to_column"]["id"] == doing.pk


def test_reorder_within_the_column(personas, abc):
    a, b, c = abc
    client = personas.client("member")
    assert client.patch(url(f"/cards/{c.pk}/reorder"), {"before_id": a.pk}, format="json").status_code == 200
    assert order(a.column) == ["c", "a", "b"]
    client.patch(url(f"/cards/{c.pk}/reorder"), {"after_id": b.pk}, format="json")
    assert order(a.column) == ["a", "b", "c"]
    client.patch(url(f"/cards/{a.pk}/reorder"), {"index": 1}, format="json")
    assert order(a.column) == ["b", "a", "c"]
    client.patch(url(f"/cards/{a.pk}/reorder"), {"index": 99}, format="json")
    assert order(a.column) == ["b", "c", "a"]
    # Without a position a reorder keeps the card where it is.
    assert client.patch(url(f"/cards/{b.pk}/reorder"), {}, format="json").status_code == 200
    assert order(a.column) == ["b", "c", "a"]
    # No timeline noise for a pure reorder.
    assert not a.events.filter(text="move").exists()


def test_bad_move_payloads(personas, columns, abc, make_card):
    a, b, _ = abc
    other = make_card("elsewhere", column=columns[1])
    client = personas.client("member")
    response = client.patch(
        url(f"/cards/{a.pk}/move"), {"column_id": columns[0].pk, "before_id": other.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["details"] == [
        {"field": "before_id", "message": f"Card {other.pk} is not in the column 'To Do'."}
    ]
    response = client.patch(url(f"/cards/{a.pk}/move"), {"column_id": 999999}, format="json")
    assert response.status_code == 404
    response = client.patch(url(f"/cards/{a.pk}/move"), {"before_id": b.pk}, format="json")
    assert response.json()["details"] == [{"field": "column_id", "message": "This field is required."}]
    response = client.patch(url(f"/cards/{a.pk}/reorder"), {"before_id": b.pk, "index": 2}, format="json")
    assert response.status_code == 400
    assert response.json()["details"] == [
        {"field": "non_field_errors", "message": "Give only one of before_id, after_id or index."}
    ]
    assert client.patch(url(f"/cards/{a.pk}/reorder"), {"before_id": a.pk}, format="json").status_code == 400
    huge = 10**20  # no card's id, and no database integer
    response = client.patch(url(f"/cards/{a.pk}/move"), {"column_id": columns[0].pk, "before_id": huge}, format="json")
    assert response.status_code == 400
    message = f"Card {huge} is not in the column 'To Do'."
    assert response.json()["details"] == [{"field": "before_id", "message": message}]
    response = client.patch(url(f"/cards/{a.pk}/move"), {"column_id": columns[1].pk, "index": huge}, format="json")
    assert (response.status_code, response.json()["column_id"]) == (200, columns[1].pk)
    assert client.patch(url(f"/cards/{a.pk}/move"), {"column_id": huge}, format="json").status_code == 404
    for card_id in ("9" * 25, "BLOG-999999", "OTHER-1"):
        response = client.patch(url(f"/cards/{card_id}/move"), {"column_id": columns[1].pk}, format="json")
        assert (response.status_code, response.json()) == (404, {"error": "Card not found."}), card_id


def test_wip_limit_refuses_unless_forced(personas, columns, abc, make_card):
    todo, doing, _ = columns
    Column.objects.filter(pk=doing.pk).update(wip_limit=1)
    make_card("busy", column=doing)
    a, b, _ = abc
    client = personas.client("member")
    response = client.patch(url(f"/cards/{a.pk}/move"), {"column_id": doing.pk}, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "error": "The column 'In Progress' has a WIP limit of 1 and holds 1 cards; send \"force\": true to exceed it."
    }
    a.refresh_from_db()
    assert a.column_id == todo.pk
    response = client.patch(url(f"/cards/{a.pk}/move"), {"column_id": doing.pk, "force": True}, format="json")
    assert response.status_code == 200
    # Creating into a full column is refused the same way; reordering inside it is not.
    response = client.post(url(f"/columns/{doing.pk}/cards"), {"title": "more"}, format="json")
    assert response.status_code == 409
    assert (
        client.post(url(f"/columns/{doing.pk}/cards"), {"title": "more", "force": True}, format="json").status_code
        == 201
    )
    assert client.patch(url(f"/cards/{a.pk}/reorder"), {"index": 0}, format="json").status_code == 200
    # Setting a status that lands in a full column is a move too.
    response = client.patch(url(f"/cards/{b.pk}"), {"status": "in_progress"}, format="json")
    assert response.status_code == 409
    b.refresh_from_db()
    assert b.column_id == todo.pk


def test_a_move_writes_one_row_in_the_common_case(personas, columns, abc):
    a, b, c = abc
    client = personas.client("member")
    with CaptureQueriesContext(connection) as ctx:
        assert client.patch(url(f"/cards/{c.pk}/reorder"), {"before_id": b.pk}, format="json").status_code == 200
    ticket_updates = [
        q["sql"] for q in ctx.captured_queries if q["sql"].startswith("UPDATE") and "tickets_ticket" in q["sql"]
    ]
    assert len(ticket_updates) == 1
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.rank == 1024 and b.rank == 2048  # neighbours untouched


def test_rebalance_when_the_gap_is_used_up_keeps_order_total(personas, abc):
    a, b, c = abc
    client = personas.client("member")
    # Squeeze a card between a and b until there is no integer left between them.
    for _ in range(12):
        client.patch(url(f"/cards/{c.pk}/reorder"), {"after_id": a.pk}, format="json")
        client.patch(url(f"/cards/{c.pk}/reorder"), {"before_id": b.pk}, format="json")
        client.patch(url(f"/cards/{b.pk}/reorder"), {"after_id": a.pk}, format="json")
    ranks = list(Ticket.objects.filter(column=a.column).order_by("rank", "id").values_list("rank", flat=True))
    assert len(set(ranks)) == len(ranks)
    assert order(a.column) in (["a", "b", "c"], ["a", "c", "b"])
    client.patch(url(f"/cards/{c.pk}/reorder"), {"index": 0}, format="json")
    assert order(a.column)[0] == "c"


def test_ties_in_rank_still_give_a_total_order(personas, abc):
    a, b, c = abc
    Ticket.objects.filter(pk__in=[a.pk, b.pk, c.pk]).update(rank=5000)
    client = personas.client("member")
    assert order(a.column) == ["a", "b", "c"]
    assert client.patch(url(f"/cards/{c.pk}/reorder"), {"after_id": a.pk}, format="json").status_code == 200
    assert order(a.column) == ["a", "c", "b"]
    ranks = list(Ticket.objects.filter(column=a.column).values_list("rank", flat=True))
    assert len(set(ranks)) == 3


def test_moving_into_done_closes_and_out_reopens(personas, columns, abc, published):
    a = abc[0]
    client = personas.client("admin")
    body = client.patch(url(f"/cards/{a.pk}/move"), {"column_id": columns[2].pk}, format="json").json()
    assert (body["state"], body["status"]) == ("closed", "done")
    body = client.patch(url(f"/cards/{a.pk}/move"), {"column_id": columns[0].pk}, format="json").json()
    assert (body["state"], body["closed_at"]) == ("opened", None)
    assert list(a.events.filter(kind="action").values_list("text", flat=True)) == [
        "create",
        "move",
        "close",
        "move",
        "reopen",
    ]
    # mary reported the card and watches it: she hears about moves she did not make.
    actions = [c["payload"]["action"] for c in events_named(published, "notification.ticket")]
    assert actions == ["close", "reopen"]


def test_adjacent_neighbours_renumber_the_column_once(personas, abc, make_card):
    a, b, c = abc
    d = make_card("d")
    Ticket.objects.filter(pk=a.pk).update(rank=1000)
    Ticket.objects.filter(pk=b.pk).update(rank=1001)
    Ticket.objects.filter(pk=c.pk).update(rank=1002)
    response = personas.client("member").patch(url(f"/cards/{d.pk}/reorder"), {"after_id": a.pk}, format="json")
    assert response.status_code == 200
    assert order(a.column) == ["a", "d", "b", "c"]
    ranks = dict(Ticket.objects.filter(column=a.column).values_list("title", "rank"))
    assert (ranks["a"], ranks["b"], ranks["c"]) == (1024, 2048, 3072)
    assert 1024 < ranks["d"] < 2048
