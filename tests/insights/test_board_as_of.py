"""GET /api/v1/projects/<slug>/board?as_of=: the board rebuilt from its history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from projects import services as project_services
from tests.factories import LabelFactory
from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

URL = "/api/v1/projects/blog/board"


def board(client, as_of=None):
    response = client.get(URL, {"as_of": as_of} if as_of else {})
    assert response.status_code == 200, response.content
    return response.json()


def layout(body):
    """{column name: [(key, title, assignee, labels, state)]} in board order."""
    return {
        column["name"]: [
            (
                card["key"],
                card["title"],
                (card["assignee"] or {}).get("username"),
                [label["name"] for label in card["labels"]],
                card["state"],
            )
            for card in column["cards"]
        ]
        for column in body["columns"]
        if column["cards"] or column["id"] is not None
    }


@pytest.fixture
def history(personas, clock):
    """Three days of a small board (times UTC):
    Nov 2 09:00  A, B (mary, label "ux"), C created in To Do; a column Later made, C moved there
    Nov 3 10:00  A to In Progress and labelled "ux"; B renamed and given to adam; C back on top of To Do
    Nov 4 11:00  A done; B deleted; D created; Later deleted (empty by then)
    """
    project, owner = personas.project, personas.owner
    columns = {c.category: c for c in project.columns.order_by("order")}
    ux = LabelFactory(project=project, name="ux")
    clock.set(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    a = services.ticket_create(project=project, by=owner, title="Alpha")
    b = services.ticket_create(project=project, by=owner, title="Beta", assignee="mary", labels=[ux.pk])
    c = services.ticket_create(project=project, by=owner, title="Gamma")
    later = project_services.column_create(project=project, name="Later", by=owner, category="todo")
    services.ticket_move(ticket=c, column=later, by=owner)
    clock.set(datetime(2026, 11, 3, 10, 0, tzinfo=UTC))
    services.ticket_move(ticket=a, column=columns["in_progress"], by=owner)
    services.ticket_update(ticket=Ticket.objects.get(pk=a.pk), by=owner, labels=[ux.pk])
    services.ticket_update(ticket=Ticket.objects.get(pk=b.pk), by=owner, title="Beta, renamed", assignee="adam")
    services.ticket_move(ticket=Ticket.objects.get(pk=c.pk), column=columns["todo"], by=owner, index=0)
    clock.set(datetime(2026, 11, 4, 11, 0, tzinfo=UTC))
    services.ticket_move(ticket=Ticket.objects.get(pk=a.pk), column=columns["done"], by=owner)
    services.ticket_delete(ticket=Ticket.objects.get(pk=b.pk), by=owner)
    services.ticket_create(project=project, by=owner, title="Delta")
    project_services.column_delete(column=later, by=owner)
    clock.set(datetime(2026, 11, 5, 12, 0, tzinfo=UTC))
    return project


def test_the_board_at_each_moment_of_its_history(history, personas):
    client = personas.client("viewer")
    before = board(client, "2026-11-02T08:00Z")
    assert [column["cards"] for column in before["columns"]] == [[], [], []]
    assert before["as_of"] == "2026-11-02T08:00:00Z"

    # The end of Nov 2 (a date is the end of that day): C sits in Later, deleted since.
    assert layout(board(client, "2026-11-02")) == {
        "To Do": [("BLOG-1", "Alpha", None, [], "opened"), ("BLOG-2", "Beta", "mary", ["ux"], "opened")],
        "In Progress": [],
        "Done": [],
        "Deleted column": [("BLOG-3", "Gamma", None, [], "opened")],
    }
    assert layout(board(client, "2026-11-03T12:00:00+00:00")) == {
        "To Do": [("BLOG-3", "Gamma", None, [], "opened"), ("BLOG-2", "Beta, renamed", "adam", ["ux"], "opened")],
        "In Progress": [("BLOG-1", "Alpha", None, ["ux"], "opened")],
        "Done": [],
    }
    now = layout(board(client, "2026-11-05T00:00Z"))
    assert now == {
        "To Do": [("BLOG-3", "Gamma", None, [], "opened"), ("BLOG-4", "Delta", None, [], "opened")],
        "In Progress": [],
        "Done": [("BLOG-1", "Alpha", None, ["ux"], "closed")],
    }
    assert now == layout(board(client))


def test_a_card_on_a_past_board_has_the_live_cards_shape(history, personas):
    client = personas.client("member")
    live = {card["id"]: card for column in board(client)["columns"] for card in column["cards"]}
    past = {card["id"]: card for column in board(client, "2026-11-05")["columns"] for card in column["cards"]}
    assert past == live


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "2026-11-02T25:00", ""])
def test_a_bad_moment_is_a_400_naming_as_of(personas, value):
    response = personas.client("member").get(URL, {"as_of": value})
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "as_of"


def test_today_is_now_and_a_moment_to_come_is_a_400(history, personas):
    """The board page's rule too (tickets.as_of.parse_past_moment): the clock stands at Nov 5, 12:00."""
    client = personas.client("viewer")
    today = board(client, "2026-11-05")
    assert today["as_of"] == "2026-11-05T12:00:00Z"
    assert layout(today) == layout(board(client))
    for later in ("2026-11-05T12:01Z", "2026-11-06"):
        response = client.get(URL, {"as_of": later})
        assert response.status_code == 400, later
        assert response.json()["details"][0]["field"] == "as_of"
        assert "has not come yet" in response.json()["details"][0]["message"]


def test_who_may_read_a_past_board(history, personas):
    statuses = personas.matrix("get", f"{URL}?as_of=2026-11-03")
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 200, "member": 200, "admin": 200, "owner": 200}


def test_the_query_count_does_not_grow_with_the_cards(personas, clock, django_assert_max_num_queries):
    project, owner = personas.project, personas.owner
    done = project.columns.get(category="done")
    client = personas.client("member")

    def add(count):
        for i in range(count):
            ticket = services.ticket_create(project=project, by=owner, title=f"T{i}", assignee="mary")
            services.ticket_update(ticket=ticket, by=owner, title=f"T{i} renamed", assignee="adam")
            services.ticket_move(ticket=Ticket.objects.get(pk=ticket.pk), column=done, by=owner)

    add(2)
    with django_assert_max_num_queries(12) as few:
        board(client, "2026-11-02")  # today (the clock): now
    add(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = board(client, "2026-11-02")  # today (the clock): now
    assert sum(len(column["cards"]) for column in body["columns"]) == 22
