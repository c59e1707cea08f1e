from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone
from rest_framework.utils.urls import remove_query_param, replace_query_param

from projects.models import Sprint
from tests.factories import LabelFactory, SprintFactory
from tests.tickets.helpers import url
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def keys(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [card["key"] for card in response.json()["results"]]


@pytest.fixture
def board(personas, columns, make_card):
    """Five cards with varied fields (BLOG-1 .. BLOG-5)."""
    _todo, doing, done = columns
    bug = LabelFactory(project=personas.project, name="bug")
    ui = LabelFactory(project=personas.project, name="ui")
    active = SprintFactory(project=personas.project, name="Now", status=Sprint.Status.ACTIVE)
    planned = SprintFactory(project=personas.project, name="Later")
    one = make_card("Login broken", body="the password field", type="bug", priority="urgent", labels=["bug", "ui"])
    two = make_card("Dark mode", type="feature", priority="low", assignee="adam", sprint=active.pk, labels=["ui"])
    three = make_card("Docs", column=doing, due_date=date(2026, 1, 10), sprint=planned.pk, parent=one.pk)
    four = make_card("Release", column=done, priority="high", due_date=date(2026, 3, 1), by=personas.admin)
    five = make_card("Password reset", body="Email flow", assignee="mary", parent=one.key)
    return {"one": one, "two": two, "three": three, "four": four, "five": five, "bug": bug, "ui": ui}


def test_default_list_is_newest_first_with_count(personas, board):
    response = personas.client("viewer").get(url("/cards"))
    body = response.json()
    assert body["count"] == 5
    assert body["next"] is None and body["previous"] is None
    assert keys(response) == ["BLOG-5", "BLOG-4", "BLOG-3", "BLOG-2", "BLOG-1"]
    assert set(body["results"][0]) >= {
        "id",
        "key",
        "number",
        "title",
        "body",
        "body_html",
        "type",
        "status",
        "state",
        "column_id",
        "position",
        "priority",
        "assignee",
        "reporter",
        "labels",
        "sprint",
        "parent",
        "due_date",
        "estimate",
        "created_at",
        "updated_at",
        "closed_at",
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=todo", ["BLOG-5", "BLOG-2", "BLOG-1"]),
        ("status=in_progress,done", ["BLOG-4", "BLOG-3"]),
        ("status=,", []),
        ("status=", ["BLOG-5", "BLOG-4", "BLOG-3", "BLOG-2", "BLOG-1"]),
        ("state=closed&status=in_progress,done&ordering=number", ["BLOG-4"]),
        ("label=ui&priority=urgent,high&q=&assignee=", ["BLOG-1"]),
        ("type=bug", ["BLOG-1"]),
        ("priority=urgent,high", ["BLOG-4", "BLOG-1"]),
        ("assignee=adam", ["BLOG-2"]),
        ("assignee=none", ["BLOG-4", "BLOG-3", "BLOG-1"]),
        ("reporter=adam", ["BLOG-4"]),
        ("label=ui", ["BLOG-2", "BLOG-1"]),
        ("label=ui&label=BUG", ["BLOG-1"]),
        ("sprint=active", ["BLOG-2"]),
        ("sprint=none", ["BLOG-5", "BLOG-4", "BLOG-1"]),
        ("parent=BLOG-1", ["BLOG-5", "BLOG-3"]),
        ("state=closed", ["BLOG-4"]),
        ("state=open", ["BLOG-5", "BLOG-3", "BLOG-2", "BLOG-1"]),
        ("due_before=2026-02-01", ["BLOG-3"]),
        ("due_after=2026-02-01", ["BLOG-4"]),
        ("q=password", ["BLOG-5", "BLOG-1"]),
        ("q=blog-2", ["BLOG-2"]),
        ("ordering=priority", ["BLOG-2", "BLOG-3", "BLOG-5", "BLOG-4", "BLOG-1"]),
        ("ordering=-priority", ["BLOG-1", "BLOG-4", "BLOG-5", "BLOG-3", "BLOG-2"]),
        ("ordering=number", ["BLOG-1", "BLOG-2", "BLOG-3", "BLOG-4", "BLOG-5"]),
        ("ordering=due_date", ["BLOG-3", "BLOG-4", "BLOG-1", "BLOG-2", "BLOG-5"]),
        ("ordering=-due_date", ["BLOG-4", "BLOG-3", "BLOG-5", "BLOG-2", "BLOG-1"]),
        ("ordering=created_at&limit=2", ["BLOG-1", "BLOG-2"]),
    ],
)
def test_filters_and_ordering(personas, board, query, expected):
    assert keys(personas.client("viewer").get(url(f"/cards?{query}"))) == expected


def test_sprint_by_id_and_updated_since(personas, board):
    client = personas.client("viewer")
    sprint_id = board["three"].sprint_id
    assert keys(client.get(url(f"/cards?sprint={sprint_id}"))) == ["BLOG-3"]
    Ticket.objects.exclude(pk=board["two"].pk).update(updated_at=timezone.now() - timedelta(days=3))
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert keys(client.get(url("/cards"), {"updated_since": since})) == ["BLOG-2"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=later", "status"),
        ("type=nope", "type"),
        ("ordering=title", "ordering"),
        ("sprint=soon", "sprint"),
        ("due_before=tomorrow", "due_before"),
        ("state=maybe", "state"),
    ],
)
def test_bad_filters_are_400(personas, board, query, field):
    response = personas.client("viewer").get(url(f"/cards?{query}"))
    assert response.status_code == 400
    assert response.json()["error"] == "Validation failed"
    assert [d["field"] for d in response.json()["details"]] == [field]


def test_limit_offset_pages(personas, board):
    client = personas.client("viewer")
    body = client.get(url("/cards?limit=2&offset=2")).json()
    assert body["count"] == 5
    assert [c["key"] for c in body["results"]] == ["BLOG-3", "BLOG-2"]
    assert "offset=4" in body["next"] and body["previous"] is not None


@pytest.mark.parametrize(
    "query",
    [
        "limit=2&offset=2",
        "offset=3&limit=1&label=ui&label=BUG&state=&q=",
        "offset=1&limit=2&q=a%20b+c",
        "limit=1&offset=3",
        "limit=2&offset=1",
    ],
)
def test_page_links_are_drfs(personas, board, query):
    """The list builds its next/previous links itself; they are DRF's LimitOffsetPagination links."""
    body = personas.client("viewer").get(url(f"/cards?{query}")).json()
    limit, offset = (int(dict(p.split("=") for p in query.split("&"))[k]) for k in ("limit", "offset"))
    here = f"http://testserver{url('/cards')}?{query}"
    expected_next = replace_query_param(replace_query_param(here, "limit", limit), "offset", offset + limit)
    previous = replace_query_param(here, "limit", limit)
    if offset - limit <= 0:
        expected_previous = remove_query_param(previous, "offset")
    else:
        expected_previous = replace_query_param(previous, "offset", offset - limit)
    assert body["previous"] == expected_previous
    assert body["next"] == (expected_next if offset + limit < body["count"] else None)


def test_cursor_mode_is_stable_under_inserts(personas, board, make_card):
    client = personas.client("viewer")
    first = client.get(url("/cards?cursor=&limit=2")).json()
    assert set(first) == {"next", "previous", "results"}
    assert [c["key"] for c in first["results"]] == ["BLOG-5", "BLOG-4"]
    assert first["previous"] is None
    make_card("inserted meanwhile")  # BLOG-6 lands at the top, not inside the next page
    second = client.get(first["next"]).json()
    assert [c["key"] for c in second["results"]] == ["BLOG-3", "BLOG-2"]
    third = client.get(second["next"]).json()
    assert [c["key"] for c in third["results"]] == ["BLOG-1"]
    assert third["next"] is None
    back = client.get(third["previous"]).json()
    assert [c["key"] for c in back["results"]] == ["BLOG-3", "BLOG-2"]
    assert client.get(url("/cards?cursor=garbage")).status_code == 400
    ascending = client.get(url("/cards?cursor=&ordering=created_at&limit=4")).json()
    following = client.get(ascending["next"]).json()
    assert [c["key"] for c in ascending["results"] + following["results"]] == [f"BLOG-{n}" for n in range(1, 7)]
    assert client.get(url("/cards?cursor=&ordering=due_date")).status_code == 400


def test_list_query_count_does_not_grow(personas, make_card, django_assert_max_num_queries):
    client = personas.client("viewer")

    def grow(n: int) -> None:
        for i in range(n):
            label = LabelFactory(project=personas.project)
            parent = make_card(f"parent {i}")
            make_card(f"card {i}", labels=[label.name], assignee="adam", parent=parent.pk)

    grow(2)
    with django_assert_max_num_queries(8) as small:
        assert client.get(url("/cards")).status_code == 200
    grow(15)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(client.get(url("/cards?limit=100")).json()["results"]) == 34
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(client.get(url("/cards?cursor=&limit=100")).json()["results"]) == 34


def test_ordering_by_rank_is_board_order_with_id_breaking_ties(personas, board):
    client = personas.client("viewer")
    live = Ticket.objects.filter(project__slug=board["three"].project.slug, deleted_at__isnull=True)
    ranked = [f"BLOG-{number}" for number in live.order_by("rank", "id").values_list("number", flat=True)]
    assert keys(client.get(url("/cards?ordering=rank"))) == ranked
    assert keys(client.get(url("/cards?ordering=-rank"))) == [
        f"BLOG-{number}" for number in live.order_by("-rank", "-id").values_list("number", flat=True)
    ]
    assert client.get(url("/cards?ordering=rank&cursor=")).status_code == 400  # cursors: number, dates, priority
