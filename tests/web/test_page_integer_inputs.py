"""Numbers typed into pages, query strings and forms never reach the database out of range.

Before: `?label=²` on the board was a ValueError (str.isdigit() accepts "²", int() refuses
it) and `?label=<2^63>` an OverflowError on SQLite; the other inputs below read numbers the
same way, each with its own bounds or none. Every one now goes through punt.ranges, so a
number no row can have matches nothing, 404s or is a 400/message, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from accounts import services as account_services
from chat import services as chat_services
from tests.conftest import Personas
from tests.factories import LabelFactory, SprintFactory, TicketFactory
from tests.webhooks.conftest import immediate_tasks  # noqa: F401  (a fixture)
from tests.webhooks.test_git_hooks import github_push, make_hook, post_github
from tickets.models import Event
from webhooks import services as hook_services

pytestmark = pytest.mark.django_db

BASE = "/projects/olivia/blog"
# "²" passes str.isdigit() but not int(); 2^63 fits no column; 2^31 fits no `integer` column
# on PostgreSQL; the last fits nothing anywhere.
VALUES = ["²", str(2**63), str(2**31), "99999999999999999999999"]


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _server_errors(send: Callable[[str], object]) -> dict[str, int]:
    """{value: status} for every value whose request ended in a 5xx."""
    failed = {}
    for value in VALUES:
        status = send(value).status_code
        if status >= 500:
            failed[value] = status
    return failed


@pytest.fixture
def board(personas: Personas):
    ticket = TicketFactory(project=personas.project)
    LabelFactory(project=personas.project)
    sprint = SprintFactory(project=personas.project)
    return {"ticket": ticket, "sprint": sprint}


@pytest.mark.parametrize("name", ["label", "sprint", "assignee", "q"])
def test_board_filters(personas: Personas, board, name: str):
    client = _client(personas.member)
    assert _server_errors(lambda v: client.get(f"{BASE}/", {name: v})) == {}
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "board"}
    assert _server_errors(lambda v: client.get(f"{BASE}/", {name: v}, **htmx)) == {}


@pytest.mark.parametrize("form", ["BLOG-{}", "#{}", "blog-{}"])
def test_board_search_by_ticket_key(personas: Personas, board, form: str):
    client = _client(personas.member)
    assert _server_errors(lambda v: client.get(f"{BASE}/", {"q": form.format(v)})) == {}


def test_board_label_filter_still_filters(personas: Personas, board):
    label = LabelFactory(project=personas.project)
    board["ticket"].labels.add(label)
    other = TicketFactory(project=personas.project, title="Unlabelled one")
    client = _client(personas.member)
    page = client.get(f"{BASE}/", {"label": str(label.pk)}).content.decode()
    assert board["ticket"].title in page and other.title not in page
    assert other.title not in client.get(f"{BASE}/", {"label": str(2**63)}).content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/tickets/{}",
        "/tickets/{}/edit",
        "/sprints/{}/start",
        "/topics/{}",
        "/chat/messages/{}",
        "/settings/hooks/{}",
    ],
)
def test_ids_in_page_paths(personas: Personas, board, path: str):
    client = _client(personas.owner)
    assert _server_errors(lambda v: client.get(BASE + path.format(v))) == {}
    assert _server_errors(lambda v: client.post(BASE + path.format(v))) == {}


@pytest.mark.parametrize("path", ["/notifications/{}", "/messages/{}", "/messages/1/messages/{}"])
def test_ids_in_personal_paths(personas: Personas, path: str):
    client = _client(personas.member)
    assert _server_errors(lambda v: client.get(path.format(v))) == {}


@pytest.mark.parametrize("field", ["column", "after", "before"])
def test_card_move_form(personas: Personas, board, field: str):
    client = _client(personas.member)
    ticket = board["ticket"]
    column = personas.project.columns.first()
    url = f"{BASE}/tickets/{ticket.number}/move"

    def send(value: str):
        data = {"column": str(column.pk), field: value}
        return client.post(url, data, HTTP_ACCEPT="application/json")

    assert _server_errors(send) == {}


def test_quick_add_column(personas: Personas, board):
    client = _client(personas.member)
    assert _server_errors(lambda v: client.post(f"{BASE}/quick-add", {"title": "New", "column": v})) == {}


@pytest.mark.parametrize("field", ["parent", "estimate"])
def test_ticket_form_numbers(personas: Personas, board, field: str):
    client = _client(personas.member)
    ticket = board["ticket"]
    data = {"title": "Edited", "type": "task", "priority": "medium"}
    assert _server_errors(lambda v: client.post(f"{BASE}/tickets/{ticket.number}/edit", {**data, field: v})) == {}
    assert _server_errors(lambda v: client.post(f"{BASE}/tickets/new", {**data, field: v})) == {}
    assert _server_errors(lambda v: client.get(f"{BASE}/tickets/new", {"parent": v})) == {}


def test_backlog_forms(personas: Personas, board):
    client = _client(personas.admin)
    sprint = board["sprint"]
    ticket = board["ticket"]
    assert _server_errors(lambda v: client.post(f"{BASE}/sprints/{sprint.pk}/complete", {"move_to": v})) == {}
    assert _server_errors(lambda v: client.post(f"{BASE}/tickets/{ticket.number}/plan", {"sprint": v})) == {}


@pytest.mark.parametrize(
    ("action", "field"),
    [
        ("column_update", "column"),
        ("column_update", "wip_limit"),
        ("column_add", "wip_limit"),
        ("column_delete", "column"),
        ("column_delete", "target"),
        ("columns_reorder", "order"),
        ("label_delete", "label"),
        ("hook_rotate", "hook"),
        ("hook_active", "hook"),
        ("hook_delete", "hook"),
        ("git_hook_revoke", "hook"),
        ("chat_hook_revoke", "hook"),
    ],
)
def test_settings_forms(personas: Personas, board, action: str, field: str):
    client = _client(personas.admin)
    column = personas.project.columns.order_by("order").first()
    base = {"action": action, "name": "Review", "column": str(column.pk)}
    assert _server_errors(lambda v: client.post(f"{BASE}/settings", {**base, field: v})) == {}


def test_api_key_revoke(personas: Personas):
    client = _client(personas.member)
    key, _ = account_services.api_key_create(user=personas.member, name="CI", scopes=["tickets:write"])
    assert _server_errors(lambda v: client.post("/settings/", {"action": "api_key_revoke", "key": v})) == {}
    key.refresh_from_db()
    assert key.revoked_at is None


@pytest.mark.parametrize("name", ["before", "since"])
def test_chat_paging(personas: Personas, name: str):
    topic = chat_services.topic_create(user=personas.owner, project=personas.project, title="Plan", body="When?")
    client = _client(personas.member)
    assert _server_errors(lambda v: client.get(f"{BASE}/chat", {name: v})) == {}
    assert _server_errors(lambda v: client.get(f"{BASE}/topics/{topic.pk}", {name: v})) == {}


@pytest.mark.parametrize("form", ["BLOG-{}", "#{}"])
def test_ticket_references_in_chat_and_comments(personas: Personas, board, form: str):
    client = _client(personas.member)
    ticket = board["ticket"]
    assert _server_errors(lambda v: client.post(f"{BASE}/chat", {"body": form.format(v)})) == {}
    url = f"{BASE}/tickets/{ticket.number}/comment"
    assert _server_errors(lambda v: client.post(url, {"body": f"See {form.format(v)}"})) == {}
    assert client.get(f"{BASE}/tickets/{ticket.number}").status_code == 200


def test_timeline_key_links(personas: Personas, board):
    ticket = board["ticket"]
    for value in VALUES:
        Event.objects.create(
            ticket=ticket, kind="mention", author=personas.owner, data={"ticket": {"key": f"BLOG-{value}"}}
        )
    assert _client(personas.member).get(f"{BASE}/tickets/{ticket.number}").status_code == 200


# --------------------------------------------------------------------------- the API's text ids


@pytest.mark.parametrize("name", ["assignee", "reporter", "sprint", "parent", "q"])
def test_card_list_filters(personas: Personas, board, name: str):
    client = personas.client("member")
    url = "/api/v1/projects/blog/cards"
    assert _server_errors(lambda v: client.get(url, {name: v})) == {}
    assert _server_errors(lambda v: client.get(url, {name: f"BLOG-{v}"})) == {}
    assert _server_errors(lambda v: client.get(url, {name: f"#{v}"})) == {}


def test_card_lookups(personas: Personas, board):
    client = personas.client("member")
    assert _server_errors(lambda v: client.get(f"/api/v1/projects/blog/cards/{v}")) == {}
    assert _server_errors(lambda v: client.get(f"/api/v1/projects/blog/cards/BLOG-{v}")) == {}
    assert _server_errors(lambda v: client.get(f"/api/projects/BLOG/tickets/BLOG-{v}")) == {}


@pytest.mark.parametrize("name", ["user", "ticket"])
def test_time_entry_filters(personas: Personas, board, name: str):
    client = personas.client("member")
    for url in ("/api/v1/time-entries", "/api/v1/reports/time", "/api/v1/reports/timesheet"):
        assert _server_errors(lambda v, url=url: client.get(url, {name: v})) == {}
        assert _server_errors(lambda v, url=url: client.get(url, {name: f"BLOG-{v}"})) == {}


def test_delivery_log_paging(personas: Personas):
    hook = hook_services.hook_create(
        project=personas.project, url="https://hooks.example.com/x", events=["*"], by=personas.admin
    )
    client = personas.client("admin")
    url = f"/api/v1/projects/blog/hooks/{hook.pk}/deliveries"
    assert _server_errors(lambda v: client.get(url, {"before": v})) == {}


def test_dialect_project_refs(personas: Personas):
    client = personas.client("member")
    assert _server_errors(lambda v: client.get(f"/api/projects/{v}")) == {}
    assert _server_errors(lambda v: client.get(f"/api/projects/{v}/tickets")) == {}
    assert _server_errors(lambda v: client.get("/api/v3/user/projects", {"page": v})) == {}
    assert _server_errors(lambda v: client.get("/api/v3/user/projects", {"per_page": v})) == {}


@pytest.mark.django_db(transaction=True)  # the stream reads the database from another thread
def test_event_stream_project_ref(personas: Personas):
    client = _client(personas.member)
    assert _server_errors(lambda v: client.get(f"/api/projects/{v}/events")) == {}


def test_git_push_referencing_huge_numbers(personas: Personas, board, immediate_tasks):  # noqa: F811
    hook = make_hook(personas)
    for n, value in enumerate(VALUES):
        response = post_github(hook, github_push(f"Fixes BLOG-{value}"), event="push", delivery=f"gh-{n}")
        assert response.status_code < 500, value
