"""Outgoing webhook filters (PQL): only events about matching tickets are delivered."""

from __future__ import annotations

import json

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from projects import services as project_services
from tests.factories import LabelFactory, UserFactory
from tests.web.conftest import page_client, page_matrix
from tickets import cards
from tickets import services as ticket_services
from webhooks import services
from webhooks.models import Delivery, Hook

HOOKS = "/api/v1/projects/blog/hooks"
SETTINGS_PAGE = "/projects/olivia/blog/settings"
ADMINS_ONLY = {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 403}


@pytest.fixture(autouse=True)
def fresh_filter_cache():
    services._compiled_filters.clear()
    yield
    services._compiled_filters.clear()


@pytest.fixture
def allow_loopback(settings):
    settings.PUNT_WEBHOOKS_ALLOW_PRIVATE = True
    settings.PUNT_WEBHOOKS_RETRY_BASE_SECONDS = 0


@pytest.fixture
def backend(personas):
    return LabelFactory(project=personas.project, name="backend")


def subscribe(personas, filter: str = "", role: str = "admin", url: str = "https://hooks.example.com/punt") -> dict:
    body = {"url": url, "events": ["*"], "filter": filter}
    response = personas.client(role).post(HOOKS, body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def sent_to(hook: dict) -> list[str]:
    """The events recorded for `hook`, oldest first."""
    return list(Delivery.objects.filter(hook_id=hook["id"]).order_by("id").values_list("event", flat=True))


def create(personas, title: str = "Ship it", **fields):
    return ticket_services.ticket_create(project=personas.project, by=personas.member, title=title, **fields)


# --------------------------------------------------------------------------- delivery decisions


def test_matching_ticket_events_are_delivered_and_others_are_not(
    personas, backend, receiver, allow_loopback, immediate_tasks, django_capture_on_commit_callbacks
):
    urgent = subscribe(personas, "priority >= high", url=receiver.url)
    backend_only = subscribe(personas, "label = backend")
    everything = subscribe(personas, "")

    with django_capture_on_commit_callbacks(execute=True):
        create(personas, "Low and plain", priority="low")
        create(personas, "Fire", priority="urgent", labels=["backend"])

    assert sent_to(urgent) == ["board.card_created"]
    assert sent_to(backend_only) == ["board.card_created"]
    assert sent_to(everything) == ["board.card_created", "board.card_created"]
    # Delivered for real: the receiver got the matching ticket only.
    [request] = receiver.requests
    document = json.loads(request["body"])
    assert document["event"] == "board.card_created"
    assert document["payload"]["title"] == "Fire"
    assert Delivery.objects.get(hook_id=urgent["id"]).status == Delivery.Status.SUCCEEDED


def test_a_ticket_is_tested_as_it_is_after_the_change(personas):
    hook = subscribe(personas, "priority = urgent")
    ticket = create(personas, priority="low")
    assert sent_to(hook) == []
    ticket = ticket_services.ticket_update(ticket=ticket, by=personas.member, priority="urgent")
    assert sent_to(hook) == ["board.card_updated"]
    # Leaving the filter: the change that makes it stop matching is not sent either.
    ticket_services.ticket_update(ticket=ticket, by=personas.member, priority="low")
    assert sent_to(hook) == ["board.card_updated"]


def test_comment_and_move_events_are_tested_against_their_ticket(personas):
    hook = subscribe(personas, "title ~ login")
    matching = create(personas, "Login fails")
    other = create(personas, "Dark mode")
    for ticket in (matching, other):
        ticket_services.comment_create(ticket=ticket, by=personas.member, body="Looking at it")
        ticket_services.ticket_update(ticket=ticket, by=personas.member, status="done")
    assert sent_to(hook) == ["board.card_created", "comment.created", "board.card_moved"]
    assert Delivery.objects.filter(hook_id=hook["id"], body__contains="Dark mode").count() == 0


def test_events_about_no_ticket_go_only_to_hooks_without_a_filter(personas):
    filtered = subscribe(personas, "priority >= low")
    everything = subscribe(personas, "")
    project_services.sprint_create(project=personas.project, name="Sprint 1", by=personas.admin)
    project_services.label_create(project=personas.project, name="frontend", by=personas.admin)
    assert sent_to(filtered) == []
    assert sent_to(everything) == ["sprint.created", "label.created"]


def test_a_ticket_deleted_for_good_reaches_only_hooks_without_a_filter(personas):
    ticket = create(personas, priority="high")
    filtered = subscribe(personas, "priority = high")
    everything = subscribe(personas, "")
    ticket_services.ticket_destroy(ticket=ticket, by=personas.admin)
    assert sent_to(filtered) == []
    assert sent_to(everything) == ["board.card_deleted"]


def test_me_is_the_hooks_creator(personas):
    hook = subscribe(personas, "assignee = me()", role="admin")
    create(personas, "Mine", assignee=personas.admin)
    create(personas, "Theirs", assignee=personas.member)
    # The owner edits the hook: me() still means the admin who created it.
    response = personas.client("owner").patch(f"{HOOKS}/{hook['id']}", {"description": "mine"}, format="json")
    assert response.status_code == 200
    create(personas, "Mine too", assignee=personas.admin)
    bodies = Delivery.objects.filter(hook_id=hook["id"]).order_by("id").values_list("body", flat=True)
    assert [json.loads(body)["payload"]["title"] for body in bodies] == ["Mine", "Mine too"]


def test_a_filter_that_no_longer_compiles_fails_its_delivery_and_says_why(personas, backend):
    hook = subscribe(personas, "label = backend")
    project_services.label_delete(label=backend, by=personas.admin)
    services._compiled_filters.clear()  # as after the cache's minute
    create(personas, "Anything")
    delivery = Delivery.objects.get(hook_id=hook["id"], event="board.card_created")
    assert delivery.status == Delivery.Status.FAILED
    assert "Unknown label 'backend' at 8" in delivery.error
    assert delivery.attempts == 0 and delivery.completed_at is not None


def test_query_count_does_not_grow_with_filtered_hooks(personas, backend, django_assert_max_num_queries):
    filters = ["label = backend", "status != done", "assignee = mary", "priority >= high", "sprint IS EMPTY"]
    ticket = create(personas, priority="urgent", labels=["backend"], assignee=personas.member)
    payload = cards.card(ticket)

    def record() -> int:
        with CaptureQueriesContext(connection) as captured, transaction.atomic():
            services.deliveries_record("board.card_updated", payload, personas.project.pk)
        return len(captured)

    def hooks(count: int) -> None:
        for index in range(count):
            services.hook_create(
                project=personas.project,
                url="https://hooks.example.com/punt",
                events=["*"],
                filter=filters[index % len(filters)],
                by=personas.admin,
            )

    hooks(2)
    record()  # compiles the filters once; later events reuse them
    few = record()
    # Which hooks, the ticket's facts (three: with its custom field values), the deliveries; and
    # the savepoint around them.
    assert few <= 8
    hooks(30)
    record()
    with django_assert_max_num_queries(few):
        record()
    assert Delivery.objects.filter(event="board.card_updated").count() == 2 * 2 + 32 * 2


# --------------------------------------------------------------------------- the API


def test_filter_is_saved_shown_changed_and_removed(personas):
    hook = subscribe(personas, "  priority >= high  ")
    assert hook["filter"] == "priority >= high"
    detail = f"{HOOKS}/{hook['id']}"
    client = personas.client("admin")
    assert client.get(detail).json()["filter"] == "priority >= high"
    assert [row["filter"] for row in client.get(HOOKS).json()] == ["priority >= high"]
    assert client.patch(detail, {"filter": "type = bug"}, format="json").json()["filter"] == "type = bug"
    assert client.patch(detail, {"description": "x"}, format="json").json()["filter"] == "type = bug"
    assert client.patch(detail, {"filter": ""}, format="json").json()["filter"] == ""
    assert Hook.objects.get(pk=hook["id"]).filter == ""


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("priorty = high", 0, "Unknown field 'priorty' at 0: did you mean 'priority'?"),
        ("label = nosuch", 8, "Unknown label 'nosuch' at 8"),
        ("priority >= high AND (", 22, "at 22"),
        ("assignee = nobody", 11, "Unknown user 'nobody' at 11"),
    ],
)
def test_a_bad_filter_is_a_400_on_filter_with_its_position(personas, text, position, words):
    client = personas.client("admin")
    response = client.post(
        HOOKS, {"url": "https://hooks.example.com/x", "events": ["*"], "filter": text}, format="json"
    )
    assert response.status_code == 400, response.content
    body = response.json()
    [detail] = body["details"]
    assert detail["field"] == "filter" and detail["position"] == position
    assert words in detail["message"] and words in body["error"]
    assert not Hook.objects.exists()

    hook = subscribe(personas, "type = bug")
    response = client.patch(f"{HOOKS}/{hook['id']}", {"filter": text}, format="json")
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "filter"
    assert Hook.objects.get(pk=hook["id"]).filter == "type = bug"


@pytest.mark.parametrize("value", [42, None, ["priority = high"], "x" * 2001])
def test_a_filter_that_is_not_a_short_string_is_a_400(personas, value):
    body = {"url": "https://hooks.example.com/x", "events": ["*"], "filter": value}
    response = personas.client("admin").post(HOOKS, body, format="json")
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "filter"


def test_filter_permissions_are_the_hooks(personas):
    body = {"url": "https://hooks.example.com/punt", "events": ["*"], "filter": "priority >= high"}
    assert personas.matrix("post", HOOKS, body) == {**ADMINS_ONLY, "admin": 201, "owner": 201}
    detail = f"{HOOKS}/{subscribe(personas)['id']}"
    assert personas.matrix("patch", detail, {"filter": "type = bug"}) == {**ADMINS_ONLY, "admin": 200, "owner": 200}
    assert personas.matrix("get", detail) == {**ADMINS_ONLY, "admin": 200, "owner": 200}


def test_an_api_key_without_the_projects_scope_cannot_set_a_filter(personas):
    from accounts.services import api_key_create

    _key, raw = api_key_create(user=personas.admin, name="ci", scopes=["tickets:write"])
    hook = subscribe(personas)
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    assert client.patch(f"{HOOKS}/{hook['id']}", {"filter": "type = bug"}, format="json").status_code == 403
    assert Hook.objects.get(pk=hook["id"]).filter == ""


def test_me_in_a_filter_is_checked_against_the_creator(personas):
    hook = subscribe(personas, "assignee = me()")
    # The creator's account is gone: me() means no one, and the filter can no longer be saved.
    UserFactory(username="spare")
    Hook.objects.filter(pk=hook["id"]).update(created_by=None)
    response = personas.client("owner").patch(f"{HOOKS}/{hook['id']}", {"filter": "watcher = me()"}, format="json")
    assert response.status_code == 400
    assert response.json()["details"][0] == {
        "field": "filter",
        "message": "me() needs a signed-in user at 10",
        "position": 10,
    }


# --------------------------------------------------------------------------- the settings page and the admin


def test_settings_page_adds_and_edits_a_filter(personas):
    client = page_client(personas, "admin")
    body = {"action": "hook_add", "url": "https://hooks.example.com/p", "events": "", "filter": "priority >= high"}
    response = client.post(SETTINGS_PAGE, body)
    assert response.status_code == 302
    hook = Hook.objects.get()
    assert hook.filter == "priority >= high"
    html = client.get(SETTINGS_PAGE).content.decode()
    assert 'value="priority &gt;= high"' in html

    response = client.post(SETTINGS_PAGE, {"action": "hook_filter", "hook": hook.pk, "filter": "type = bug"})
    assert response.status_code == 302
    hook.refresh_from_db()
    assert hook.filter == "type = bug"
    assert page_matrix(personas, "post", SETTINGS_PAGE, {"action": "hook_filter", "hook": hook.pk, "filter": ""}) == {
        "anonymous": 302,
        "outsider": 404,
        "viewer": 403,
        "member": 403,
        "admin": 302,
        "owner": 302,
    }


def test_settings_page_shows_a_bad_filter_in_its_form(personas):
    client = page_client(personas, "admin")
    body = {
        "action": "hook_add",
        "url": "https://hooks.example.com/p",
        "events": "board.card_moved",
        "filter": "priorty = x",
    }
    client.post(SETTINGS_PAGE, body)
    assert not Hook.objects.exists()
    html = client.get(SETTINGS_PAGE).content.decode()
    assert html.count("Unknown field &#x27;priorty&#x27; at 0") == 2  # the toast, and under the field
    assert 'value="priorty = x" aria-invalid="true"' in html
    assert 'value="https://hooks.example.com/p"' in html and 'value="board.card_moved"' in html
    # Shown once: the next visit has a clean form.
    assert "aria-invalid" not in client.get(SETTINGS_PAGE).content.decode()

    hook = services.hook_create(
        project=personas.project,
        url="https://hooks.example.com/q",
        events=["*"],
        filter="type = bug",
        by=personas.admin,
    )
    client.post(SETTINGS_PAGE, {"action": "hook_filter", "hook": hook.pk, "filter": "label = nosuch"})
    hook.refresh_from_db()
    assert hook.filter == "type = bug"
    html = client.get(SETTINGS_PAGE).content.decode()
    assert 'value="label = nosuch" aria-invalid="true"' in html
    assert "Unknown label &#x27;nosuch&#x27; at 8" in html


def test_admin_lists_and_searches_filters(personas):
    services.hook_create(
        project=personas.project,
        url="https://hooks.example.com/q",
        events=["*"],
        filter="type = bug",
        by=personas.admin,
    )
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = client.get("/admin/webhooks/hook/", {"q": "type = bug"})
    assert response.status_code == 200
    assert b"type = bug" in response.content
    hook = Hook.objects.get()
    assert b"type = bug" in client.get(f"/admin/webhooks/hook/{hook.pk}/change/").content
