"""PQL autocomplete: GET /api/v1/projects/<slug>/pql/complete?q=...&cursor=N."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiKey, hash_api_key
from tests.factories import LabelFactory, MembershipFactory, ProjectFactory, SprintFactory, UserFactory
from tests.tickets.helpers import url

pytestmark = pytest.mark.django_db


def complete(personas, q: str, cursor: int | None = None, role: str = "member") -> dict:
    params = {"q": q} if cursor is None else {"q": q, "cursor": cursor}
    response = personas.client(role).get(url("/pql/complete"), params)
    assert response.status_code == 200, response.json()
    return response.json()


def values(body: dict) -> list[str]:
    return [suggestion["value"] for suggestion in body["suggestions"]]


def test_at_the_start_fields_not_and_a_group(personas):
    body = complete(personas, "")
    assert body["q"] == "" and body["cursor"] == 0 and body["replace"] == {"start": 0, "end": 0}
    kinds = {suggestion["value"]: suggestion["kind"] for suggestion in body["suggestions"]}
    assert {"assignee", "priority", "status", "labels", "sprint", "due"} <= set(kinds)
    assert kinds["priority"] == "field" and kinds["NOT"] == "keyword" and kinds["("] == "keyword"
    assert "rank" not in kinds  # ORDER BY only
    priority = next(s for s in body["suggestions"] if s["value"] == "priority")
    assert priority == {
        "kind": "field",
        "value": "priority",
        "label": "Priority",
        "detail": "low < medium < high < urgent",
    }


def test_a_prefix_narrows_and_gives_the_span_to_replace(personas):
    body = complete(personas, "type = bug AND prio")
    assert values(body) == ["priority"]
    assert body["replace"] == {"start": 15, "end": 19}
    # The cursor inside a word: the whole word is replaced.
    body = complete(personas, "prio = high", cursor=3)
    assert values(body) == ["priority"]
    assert body["replace"] == {"start": 0, "end": 4}


def test_after_a_field_its_operators(personas):
    assert values(complete(personas, "priority ")) == [
        "=", "!=", ">", ">=", "<", "<=", "IN (", "NOT IN (", "IS EMPTY", "IS NOT EMPTY",
    ]  # fmt: skip
    assert values(complete(personas, "title ")) == [
        "=",
        "!=",
        "~",
        "!~",
        "IN (",
        "NOT IN (",
        "IS EMPTY",
        "IS NOT EMPTY",
    ]
    assert values(complete(personas, "labels i")) == ["IN (", "IS EMPTY", "IS NOT EMPTY"]
    assert values(complete(personas, "labels !")) == ["!="]
    assert values(complete(personas, "priority is ")) == ["EMPTY", "NOT"]
    assert values(complete(personas, "labels not ")) == ["IN ("]


def test_after_an_ordered_operator_the_priorities(personas):
    body = complete(personas, "priority >= ")
    assert values(body) == ["low", "medium", "high", "urgent"]
    assert {s["kind"] for s in body["suggestions"]} == {"value"}
    body = complete(personas, "priority >= h")
    assert values(body) == ["high"]
    assert body["replace"] == {"start": 12, "end": 13}
    assert values(complete(personas, "status != ")) == ["backlog", "todo", "in_progress", "in_review", "done"]
    assert values(complete(personas, "type = b")) == ["bug"]
    assert values(complete(personas, "state = ")) == ["open", "closed"]


def test_after_assignee_the_matching_members_and_me(personas):
    MembershipFactory(project=personas.project, user=UserFactory(username="martin", display_name="Martin Moss"))
    UserFactory(username="mallory")  # not a member
    body = complete(personas, "assignee = m")
    assert values(body) == ["me()", "martin", "mary"]
    assert body["suggestions"][0] == {"kind": "function", "value": "me()", "label": "me()", "detail": "you"}
    assert body["suggestions"][1] == {"kind": "value", "value": "martin", "label": "Martin Moss", "detail": "@martin"}
    # A display name's word matches too.
    assert values(complete(personas, "reporter != mos")) == ["martin"]
    assert "olivia" in values(complete(personas, "assignee = "))


def test_in_a_list_the_labels_quoted_when_they_hold_spaces(personas):
    LabelFactory(project=personas.project, name="backend")
    LabelFactory(project=personas.project, name="needs review")
    LabelFactory(project=ProjectFactory(), name="nebula")  # another project
    assert values(complete(personas, "label IN (")) == ["backend", '"needs review"']
    assert values(complete(personas, "label IN (backend, n")) == ['"needs review"']
    assert values(complete(personas, "label IN (backend ")) == [",", ")"]
    # An open quote is the word being typed.
    body = complete(personas, 'labels = "nee')
    assert values(body) == ['"needs review"']
    assert body["replace"] == {"start": 9, "end": 13}


def test_sprints_columns_and_their_functions(personas):
    SprintFactory(project=personas.project, name="Sprint 1")
    assert values(complete(personas, "sprint = ")) == ["openSprint()", "closedSprints()", '"Sprint 1"']
    assert values(complete(personas, "column = ")) == [c.name if " " not in c.name else f'"{c.name}"' for c in
                                                      personas.project.columns.order_by("order")]  # fmt: skip
    assert values(complete(personas, "due < t")) == ["today()"]


def test_after_a_condition_and_or_order_by(personas):
    body = complete(personas, "priority = high ")
    assert values(body)[:4] == ["AND", "OR", "NOT", "ORDER BY"]
    assert "assignee" in values(body)  # adjacent terms are ANDed
    assert values(complete(personas, "priority = high o")) == ["OR", "ORDER BY"]
    assert values(complete(personas, "(type = bug ")) [:4] == ["AND", "OR", "NOT", ")"]  # fmt: skip
    assert values(complete(personas, "assignee = me() a")) == ["AND", "assignee"]
    assert values(complete(personas, "login crash ")) [:2] == ["AND", "OR"]  # fmt: skip


def test_after_order_by_the_orderable_fields(personas):
    found = values(complete(personas, "priority = high ORDER BY "))
    assert {"priority", "updated", "created", "rank", "key"} <= set(found)
    assert "labels" not in found and "watcher" not in found  # they do not sort
    assert values(complete(personas, "ORDER BY updated ")) == ["ASC", "DESC", ","]
    assert values(complete(personas, "ORDER BY updated DESC, cr")) == ["created"]


def test_bad_input_is_a_clear_400(personas):
    client = personas.client("member")
    response = client.get(url("/pql/complete"), {"q": "type", "cursor": 9})
    assert response.status_code == 400
    assert response.json() == {
        "error": "The cursor is past the end of the query (4 characters).",
        "details": [{"field": "cursor", "message": "The cursor is past the end of the query (4 characters)."}],
    }
    assert client.get(url("/pql/complete"), {"q": "x", "cursor": "-1"}).status_code == 400
    assert client.get(url("/pql/complete"), {"q": "x" * 2001}).status_code == 400


def test_roles(personas):
    statuses = {role: personas.client(role).get(url("/pql/complete"), {"q": ""}).status_code for role in
                ["anonymous", "outsider", "viewer", "member", "admin", "owner"]}  # fmt: skip
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 200, "member": 200, "admin": 200, "owner": 200}


def test_api_key_needs_the_tickets_scope(personas):
    def client_with(scopes: list[str]) -> APIClient:
        raw = f"punt_{'y' * 40}{len(scopes)}{'-'.join(scopes)}"
        ApiKey.objects.create(
            user=personas.member, name="ci", prefix=raw[:10], hashed_key=hash_api_key(raw), scopes=scopes
        )
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=raw)
        return client

    response = client_with(["chat:write"]).get(url("/pql/complete"), {"q": ""})
    assert response.status_code == 403
    assert response.json() == {"error": "This API key lacks the 'tickets:read' scope."}
    assert client_with(["tickets:read"]).get(url("/pql/complete"), {"q": ""}).status_code == 200


@pytest.mark.parametrize("q", ["assignee = ", "label IN (", "sprint = ", "column = ", "priority = high "])
def test_query_count_does_not_grow_with_the_project(personas, django_assert_max_num_queries, q):
    client = personas.client("member")

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("/pql/complete"), {"q": q}).status_code == 200
        return len(queries)

    before = count()
    for i in range(25):
        MembershipFactory(project=personas.project, user=UserFactory(username=f"user{i}"))
        LabelFactory(project=personas.project, name=f"label{i}")
        SprintFactory(project=personas.project, name=f"Sprint {i}")
    with django_assert_max_num_queries(before):
        response = client.get(url("/pql/complete"), {"q": q})
    assert len(response.json()["suggestions"]) <= 20 or q.endswith("high ")
