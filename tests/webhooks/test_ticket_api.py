"""seed 004's CI Ticket API: create and patch cards with an API key, with Idempotency-Key."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from accounts.services import api_key_create
from tests.factories import LabelFactory, TicketFactory
from tickets.models import Event, Ticket
from webhooks.models import IdempotencyRecord

TICKET = "/api/v1/projects/blog/ticket"


def key_for(user, scopes: list[str] | None = None) -> str:
    return api_key_create(user=user, name="ci", scopes=scopes)[1]


def ci(raw_key: str | None, method: str, url: str, body: dict | None = None, **headers: str):
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    if raw_key:
        extra["HTTP_X_API_KEY"] = raw_key
    return getattr(Client(), method)(url, data=json.dumps(body or {}), content_type="application/json", **extra)


@pytest.fixture
def ci_key(personas) -> str:
    return key_for(personas.member, ["tickets:write"])


def test_create_with_api_key(personas, ci_key):
    LabelFactory(project=personas.project, name="security")
    response = ci(
        ci_key,
        "post",
        TICKET,
        {
            "title": "Security scan found CVE-2026-1234",
            "description": "**Severity:** High\n\nFound in dependency `foo@1.2.3`.",
            "priority": "high",
            "column_name": "in progress",
            "labels": ["security"],
            "assignee": "victor",
        },
    )
    assert response.status_code == 201, response.content
    card = response.json()
    assert card["key"] == "BLOG-1"
    assert card["title"] == "Security scan found CVE-2026-1234"
    assert card["body"].startswith("**Severity:** High")
    assert card["priority"] == "high"
    assert card["status"] == "in_progress"
    assert [label["name"] for label in card["labels"]] == ["security"]
    assert card["assignee"]["username"] == "victor"
    assert card["reporter"]["username"] == "mary"
    ticket = Ticket.objects.select_related("column").get()
    assert ticket.column.name == "In Progress"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"title": "x", "column_name": "Later"},
            "column_name",
            "Unknown column 'Later'. Columns: To Do, In Progress, Done.",
        ),
        ({"title": "x", "assignee": "nobody"}, "assignee", "Unknown user 'nobody'."),
        ({"title": "x", "assignee": "oscar"}, "assignee", "'oscar' is not a member of this project."),
        ({"title": "x", "labels": ["nope"]}, "labels", "Unknown label: nope."),
        ({"title": "", "column_name": "Done"}, "title", None),
    ],
)
def test_create_refuses_unknown_names_with_400_naming_them(personas, ci_key, body, field, message):
    response = ci(ci_key, "post", TICKET, body)
    assert response.status_code == 400
    detail = response.json()["details"][0]
    assert detail["field"] == field
    if message:
        assert detail["message"] == message
    assert not Ticket.objects.exists()


def test_patch_moves_by_column_name_and_comments(personas, ci_key):
    ticket = TicketFactory(project=personas.project, title="Deploy")
    response = ci(
        ci_key,
        "patch",
        f"{TICKET}/BLOG-1",
        {"column_name": "Done", "comment": "Deployment to production succeeded. Build #4242."},
    )
    assert response.status_code == 200, response.content
    card = response.json()
    assert (card["status"], card["state"]) == ("done", "closed")
    comment = Event.objects.get(ticket=ticket, kind="comment")
    assert comment.text == "Deployment to production succeeded. Build #4242."
    assert comment.author == personas.member
    assert card["counts"]["comments"] == 1


def test_patch_any_field(personas, ci_key):
    TicketFactory(project=personas.project, title="Old")
    response = ci(ci_key, "patch", f"{TICKET}/blog-1", {"title": "New", "priority": "urgent", "assignee": "adam"})
    assert response.status_code == 200
    card = response.json()
    assert (card["title"], card["priority"], card["assignee"]["username"]) == ("New", "urgent", "adam")


def test_patch_unknown_column_changes_nothing(personas, ci_key):
    TicketFactory(project=personas.project, title="Old")
    response = ci(ci_key, "patch", f"{TICKET}/BLOG-1", {"title": "New", "column_name": "Nowhere", "comment": "hi"})
    assert response.status_code == 400
    assert response.json()["details"] == [
        {"field": "column_name", "message": "Unknown column 'Nowhere'. Columns: To Do, In Progress, Done."}
    ]
    ticket = Ticket.objects.get()
    assert ticket.title == "Old"
    assert not Event.objects.filter(kind="comment").exists()


# --------------------------------------------------------------------------- column names


def _column(project, name: str, category: str, order: int):
    from projects.models import Column

    return Column.objects.create(project=project, name=name, category=category, order=order)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Backlog", "Icebox"),
        ("to do", "Queue"),
        ("TODO", "Queue"),
        ("To_Do", "Queue"),
        ("in-progress", "Doing"),
        ("In Progress", "Doing"),
        ("in_review", "Waiting for QA"),
        ("IN REVIEW", "Waiting for QA"),
        ("done", "Shipped"),
    ],
)
def test_a_missing_column_name_matches_a_column_by_its_category(personas, ci_key, given, expected):
    personas.project.columns.all().delete()
    for order, (name, category) in enumerate(
        [
            ("Icebox", "backlog"),
            ("Queue", "todo"),
            ("Later queue", "todo"),
            ("Doing", "in_progress"),
            ("Waiting for QA", "in_review"),
            ("Shipped", "done"),
        ]
    ):
        _column(personas.project, name, category, order)
    response = ci(ci_key, "post", TICKET, {"title": "From CI", "column_name": given})
    assert response.status_code == 201, response.content
    # The first column of the category, in board order.
    assert Ticket.objects.select_related("column").get().column.name == expected


def test_an_exact_column_name_wins_over_a_category(personas, ci_key):
    # A column called "Done" that is not the done category still takes "Done".
    personas.project.columns.filter(name="Done").update(name="Released")
    _column(personas.project, "done", "in_review", 1)
    response = ci(ci_key, "post", TICKET, {"title": "From CI", "column_name": "DONE"})
    assert response.status_code == 201, response.content
    assert Ticket.objects.select_related("column").get().column.name == "done"


def test_patch_moves_by_category_name(personas, ci_key):
    TicketFactory(project=personas.project, title="Deploy")
    personas.project.columns.filter(name="Done").update(name="Released")
    response = ci(ci_key, "patch", f"{TICKET}/BLOG-1", {"column_name": "done"})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["state"]) == ("done", "closed")


def test_a_category_without_a_column_gets_one_as_a_status_would(personas, ci_key):
    # The document's own example: a new board has To Do, In Progress, Done, and no Backlog.
    response = ci(
        ci_key,
        "post",
        TICKET,
        {"title": "Security scan found CVE-2026-1234", "priority": "high", "column_name": "Backlog"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "backlog"
    column = Ticket.objects.select_related("column").get().column
    assert (column.name, column.category) == ("Backlog", "backlog")
    assert list(personas.project.columns.values_list("name", flat=True)) == ["To Do", "In Progress", "Done", "Backlog"]
    # The next one finds it.
    assert ci(ci_key, "post", TICKET, {"title": "Again", "column_name": "backlog"}).status_code == 201
    assert personas.project.columns.filter(category="backlog").count() == 1


def test_a_name_that_is_neither_column_nor_category_lists_the_columns(personas, ci_key):
    response = ci(ci_key, "post", TICKET, {"title": "x", "column_name": "Icebox"})
    assert response.status_code == 400
    assert response.json()["details"] == [
        {"field": "column_name", "message": "Unknown column 'Icebox'. Columns: To Do, In Progress, Done."}
    ]
    assert not Ticket.objects.exists()
    assert personas.project.columns.count() == 3


def test_patch_unknown_card_is_404(personas, ci_key):
    assert ci(ci_key, "patch", f"{TICKET}/BLOG-7", {"comment": "x"}).status_code == 404
    assert ci(ci_key, "patch", f"{TICKET}/OTHER-1", {"comment": "x"}).status_code == 404


def test_roles_and_scopes(personas):
    body = {"title": "From CI"}
    assert ci(None, "post", TICKET, body).status_code == 401
    assert ci("punt_not-a-key", "post", TICKET, body).status_code == 401
    assert ci(key_for(personas.outsider), "post", TICKET, body).status_code == 404
    assert ci(key_for(personas.viewer), "post", TICKET, body).status_code == 403
    assert ci(key_for(personas.member, ["tickets:read"]), "post", TICKET, body).status_code == 403
    assert ci(key_for(personas.member, ["projects:write"]), "post", TICKET, body).status_code == 403
    assert ci(key_for(personas.admin), "post", TICKET, body).status_code == 201
    assert personas.matrix("post", TICKET, body) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 201,
        "admin": 201,
        "owner": 201,
    }


# --------------------------------------------------------------------------- Idempotency-Key


def test_retry_with_same_idempotency_key_returns_the_first_result(personas, ci_key):
    body = {"title": "Nightly build failed", "column_name": "To Do"}
    first = ci(ci_key, "post", TICKET, body, **{"Idempotency-Key": "build-4242"})
    second = ci(ci_key, "post", TICKET, body, **{"Idempotency-Key": "build-4242"})
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Ticket.objects.count() == 1
    # Another key is another request.
    third = ci(ci_key, "post", TICKET, body, **{"Idempotency-Key": "build-4243"})
    assert third.json()["key"] == "BLOG-2"


def test_same_key_with_another_body_is_422(personas, ci_key):
    ci(ci_key, "post", TICKET, {"title": "A"}, **{"Idempotency-Key": "k1"})
    response = ci(ci_key, "post", TICKET, {"title": "B"}, **{"Idempotency-Key": "k1"})
    assert response.status_code == 422
    assert response.json() == {"error": "This Idempotency-Key was already used with a different request."}
    assert Ticket.objects.count() == 1


def test_blank_idempotency_key_is_no_key(personas, ci_key):
    first = ci(ci_key, "post", TICKET, {"title": "A"}, **{"Idempotency-Key": "  "})
    second = ci(ci_key, "post", TICKET, {"title": "B"}, **{"Idempotency-Key": "  "})
    assert (first.status_code, second.status_code) == (201, 201)
    assert not second.has_header("Idempotent-Replayed")
    assert not IdempotencyRecord.objects.exists()
    assert Ticket.objects.count() == 2


def test_keys_belong_to_their_user(personas, ci_key):
    ci(ci_key, "post", TICKET, {"title": "A"}, **{"Idempotency-Key": "shared"})
    other = ci(key_for(personas.admin), "post", TICKET, {"title": "A"}, **{"Idempotency-Key": "shared"})
    assert other.status_code == 201
    assert Ticket.objects.count() == 2


def test_failed_request_is_not_remembered(personas, ci_key):
    bad = ci(ci_key, "post", TICKET, {"title": "A", "column_name": "Later"}, **{"Idempotency-Key": "k"})
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.exists()
    # Only successes are remembered, so the corrected request may use the same key.
    good = ci(ci_key, "post", TICKET, {"title": "A", "column_name": "Done"}, **{"Idempotency-Key": "k"})
    assert good.status_code == 201


def test_patch_comment_is_added_once_on_retry(personas, ci_key):
    TicketFactory(project=personas.project)
    body = {"comment": "Deployed", "column_name": "Done"}
    first = ci(ci_key, "patch", f"{TICKET}/BLOG-1", body, **{"Idempotency-Key": "deploy-1"})
    second = ci(ci_key, "patch", f"{TICKET}/BLOG-1", body, **{"Idempotency-Key": "deploy-1"})
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert Event.objects.filter(kind="comment").count() == 1


def test_expired_key_can_be_reused(personas, ci_key, settings):
    from datetime import timedelta

    from django.utils import timezone

    ci(ci_key, "post", TICKET, {"title": "A"}, **{"Idempotency-Key": "old"})
    IdempotencyRecord.objects.update(
        created_at=timezone.now() - timedelta(hours=settings.PUNT_IDEMPOTENCY_TTL_HOURS + 1)
    )
    again = ci(ci_key, "post", TICKET, {"title": "A"}, **{"Idempotency-Key": "old"})
    assert again.status_code == 201
    assert again.json()["key"] == "BLOG-2"


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_create_one_ticket():
    from tests.conftest import Personas

    personas = Personas()
    raw = key_for(personas.member)
    barrier = threading.Barrier(4)
    answers: list[tuple[int, str]] = []

    def retry() -> None:
        barrier.wait()
        try:
            response = ci(raw, "post", TICKET, {"title": "Race"}, **{"Idempotency-Key": "race"})
            answers.append((response.status_code, response.json().get("key", "")))
        finally:
            connection.close()

    threads = [threading.Thread(target=retry) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [(201, "BLOG-1")] * 4
    assert Ticket.objects.count() == 1
