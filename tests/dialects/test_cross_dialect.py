"""One data model, four dialects: a change made through any of them (PUNT /api, AgentsMesh
/api/v1/ext/orgs, GitHub-style /api/v3, canonical /api/v1) is visible through all of them and
publishes the same live events, because every adapter calls the same services."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from rest_framework.test import APIClient

from accounts import services as account_services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

DIALECTS = ["punt", "agentsmesh", "github", "v1"]
AM = "/api/v1/ext/orgs/acme"
GH = "/api/v3/projects/acme/agents-mesh"
# Fields of an event payload that differ between two tickets made the same way.
VOLATILE = {"id", "key", "number", "created_at", "updated_at", "position", "closed_at"}


class Dialects:
    """The member mary, speaking each dialect about the organization project AM."""

    def __init__(self, mesh: Any, personas: Any) -> None:
        self.mesh = mesh
        self.session = APIClient()
        self.session.force_login(personas.member)
        self.jwt = personas.client("member")
        _key, raw = account_services.api_key_create(user=personas.member, name="agent", scopes=["tickets:write"])
        self.key = APIClient()
        self.key.credentials(HTTP_X_API_KEY=raw)
        self.todo, self.doing, self.done = mesh.project.columns.order_by("order")
        self.member = personas.member

    def _ok(self, response: Any, code: int = 200) -> Any:
        assert response.status_code == code, response.content
        return response.json() if response.content else None

    # ---- writes, one per dialect
    def create(self, dialect: str, title: str, **headers: str) -> None:
        csrf = {"HTTP_X_CSRFTOKEN": self._csrf()}
        calls: dict[str, Callable[[], Any]] = {
            "punt": lambda: self.session.post(
                f"/api/projects/{self.mesh.project.pk}/tickets",
                {"title": title, "type": "Bug"},
                format="json",
                **csrf,
                **headers,
            ),
            "agentsmesh": lambda: self.key.post(
                f"{AM}/tickets", {"title": title, "type": "bug", "status": "todo"}, format="json", **headers
            ),
            "github": lambda: self.jwt.post(f"{GH}/tickets", {"title": title, "type": "bug"}, format="json", **headers),
            "v1": lambda: self.jwt.post(
                f"/api/v1/projects/am/columns/{self.todo.pk}/cards",
                {"title": title, "type": "bug"},
                format="json",
                **headers,
            ),
        }
        self._ok(calls[dialect](), 201)

    def rename(self, dialect: str, key: str, title: str) -> None:
        number = key.split("-")[1]
        calls = {
            "punt": lambda: self.jwt.patch(f"/api/projects/AM/tickets/{key}", {"title": title}, format="json"),
            "agentsmesh": lambda: self.key.put(f"{AM}/tickets/{key}", {"title": title}, format="json"),
            "github": lambda: self.jwt.patch(f"{GH}/tickets/{number}", {"title": title}, format="json"),
            "v1": lambda: self.jwt.put(f"/api/v1/projects/am/cards/{key}", {"title": title}, format="json"),
        }
        self._ok(calls[dialect]())

    def finish(self, dialect: str, key: str) -> None:
        number = key.split("-")[1]
        calls = {
            "punt": lambda: self.jwt.patch(
                f"/api/projects/AM/tickets/{key}", {"columnId": str(self.done.pk)}, format="json"
            ),
            "agentsmesh": lambda: self.key.patch(f"{AM}/tickets/{key}/status", {"status": "done"}, format="json"),
            "github": lambda: self.jwt.patch(f"{GH}/tickets/{number}", {"state": "closed"}, format="json"),
            "v1": lambda: self.jwt.patch(
                f"/api/v1/projects/am/cards/{key}/move", {"column_id": self.done.pk}, format="json"
            ),
        }
        self._ok(calls[dialect]())

    def delete(self, dialect: str, key: str) -> None:
        calls = {
            "punt": lambda: self.jwt.delete(f"/api/projects/AM/tickets/{key}"),
            "agentsmesh": lambda: self.key.delete(f"{AM}/tickets/{key}"),
            "v1": lambda: self.jwt.delete(f"/api/v1/projects/am/cards/{key}"),
        }
        response = calls[dialect]()
        assert response.status_code in (200, 204), response.content

    def _csrf(self) -> str:
        return self.session.get("/api/auth/csrf").json()["csrfToken"]

    # ---- reads, one per dialect: (title, status, state) of a ticket, or None when it is gone
    def read(self, dialect: str, key: str) -> tuple[str, str, str] | None:
        number = key.split("-")[1]
        if dialect == "punt":
            response = self.jwt.get(f"/api/projects/AM/tickets/{key}")
            body = response.json()
            return None if response.status_code == 404 else (body["title"], body["status"], _state(body["status"]))
        if dialect == "agentsmesh":
            response = self.key.get(f"{AM}/tickets/{key}")
            if response.status_code == 404:
                return None
            body = response.json()["ticket"]
            return body["title"], body["status"], _state(body["status"])
        if dialect == "github":
            response = self.jwt.get(f"{GH}/tickets/{number}")
            if response.status_code == 404:
                return None
            body = response.json()
            status = Ticket.objects.get(project=self.mesh.project, number=int(number)).column.category
            return body["title"], status, body["state"]
        response = self.jwt.get(f"/api/v1/projects/am/cards/{key}")
        if response.status_code == 404:
            return None
        body = response.json()
        return body["title"], body["status"], body["state"]

    def everywhere(self, key: str) -> dict[str, Any]:
        return {dialect: self.read(dialect, key) for dialect in DIALECTS}


def _state(status: str) -> str:
    return "closed" if status == "done" else "opened"


@pytest.fixture
def dialects(mesh, personas) -> Dialects:
    return Dialects(mesh, personas)


def _normalised(calls: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in VOLATILE}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return [(call["event"], strip(call["payload"])) for call in calls]


def test_a_ticket_created_through_any_dialect_is_seen_by_all_with_the_same_events(dialects, published):
    seen_events = {}
    for index, dialect in enumerate(DIALECTS, start=1):
        published.clear()
        dialects.create(dialect, "Same ticket")
        seen_events[dialect] = _normalised(published.calls)
        assert dialects.everywhere(f"AM-{index}") == {d: ("Same ticket", "todo", "opened") for d in DIALECTS}
    reference = seen_events["v1"]
    assert [name for name, _ in reference] == ["board.card_created"]
    for dialect in DIALECTS:
        assert seen_events[dialect] == reference, dialect


def test_an_edit_through_any_dialect_is_seen_by_all_with_the_same_events(dialects, published):
    for _dialect in DIALECTS:
        dialects.create("v1", "Original")
    seen_events = {}
    for index, dialect in enumerate(DIALECTS, start=1):
        published.clear()
        dialects.rename(dialect, f"AM-{index}", "Renamed")
        seen_events[dialect] = _normalised(published.calls)
        assert dialects.everywhere(f"AM-{index}") == {d: ("Renamed", "todo", "opened") for d in DIALECTS}
    assert [name for name, _ in seen_events["v1"]] == ["board.card_updated"]
    for dialect in DIALECTS:
        assert seen_events[dialect] == seen_events["v1"], dialect


def test_closing_through_any_dialect_is_seen_by_all_with_the_same_events(dialects, published):
    for _dialect in DIALECTS:
        dialects.create("v1", "To finish")
    seen_events = {}
    for index, dialect in enumerate(DIALECTS, start=1):
        published.clear()
        dialects.finish(dialect, f"AM-{index}")
        seen_events[dialect] = _normalised(published.calls)
        assert dialects.everywhere(f"AM-{index}") == {d: ("To finish", "done", "closed") for d in DIALECTS}
    assert [name for name, _ in seen_events["v1"]] == ["board.card_moved"]
    for dialect in DIALECTS:
        assert seen_events[dialect] == seen_events["v1"], dialect


def test_deleting_through_any_dialect_is_seen_by_all_with_the_same_events(dialects, published):
    deleters = ["punt", "agentsmesh", "v1"]
    for _dialect in deleters:
        dialects.create("v1", "Doomed")
    seen_events = {}
    for index, dialect in enumerate(deleters, start=1):
        published.clear()
        dialects.delete(dialect, f"AM-{index}")
        seen_events[dialect] = _normalised(published.calls)
        assert dialects.everywhere(f"AM-{index}") == {d: None for d in DIALECTS}
    assert [name for name, _ in seen_events["v1"]] == ["board.card_deleted"]
    for dialect in deleters:
        assert seen_events[dialect] == seen_events["v1"], dialect


def test_labels_comments_and_projects_cross_over(dialects, mesh, personas, published):
    # A label made on first use by AgentsMesh is a PUNT label (and a label.created event).
    published.clear()
    dialects.key.post(f"{AM}/tickets", {"title": "Tagged", "type": "bug", "labels": ["agents"]}, format="json")
    assert "label.created" in published.names
    labels = dialects.jwt.get("/api/projects/AM/labels").json()
    assert [label["name"] for label in labels] == ["agents"]
    assert dialects.jwt.get("/api/v1/projects/am/cards/AM-1").json()["labels"][0]["name"] == "agents"
    # A comment through the GitHub dialect is a /api/v1 comment.
    published.clear()
    comment = dialects.jwt.post(f"{GH}/tickets/1/comments", {"body": "From GitHub"}, format="json").json()
    assert published.names[0] == "comment.created"
    v1_comments = dialects.jwt.get("/api/v1/projects/am/cards/AM-1/comments").json()
    rows = v1_comments["results"] if isinstance(v1_comments, dict) else v1_comments
    assert [(c["id"], c["body"]) for c in rows] == [(comment["id"], "From GitHub")]
    # A project renamed through PUNT is renamed in /api/v1 and in the GitHub dialect's URL.
    admin = personas.client("admin")
    assert admin.patch("/api/projects/AM", {"name": "Mesh Two"}, format="json").status_code == 200
    assert admin.get("/api/v1/projects/am").json()["name"] == "Mesh Two"
    assert admin.get("/api/v3/projects/acme/mesh-two").json()["name"] == "mesh-two"


async def _receive(layer: Any, channel: str) -> dict[str, Any]:
    return await asyncio.wait_for(layer.receive(channel), timeout=5)


def test_every_dialect_reaches_the_live_channel_with_the_tab_id(dialects, mesh, django_capture_on_commit_callbacks):
    """The real hand-off: after commit, the project's channel-layer group gets the same event
    (what the WebSocket and SSE consumers render), carrying the X-Tab-Id of the tab that made it."""
    layer = get_channel_layer()
    group = f"project.{mesh.project.pk}"
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    try:
        for dialect in DIALECTS:
            with django_capture_on_commit_callbacks(execute=True):
                dialects.create(dialect, f"Live from {dialect}", HTTP_X_TAB_ID=f"tab-{dialect}")
            message = async_to_sync(_receive)(layer, channel)
            assert (message["type"], message["event"], message["project_id"]) == (
                "punt.event",
                "board.card_created",
                mesh.project.pk,
            )
            assert message["payload"]["title"] == f"Live from {dialect}"
            assert message["tab_id"] == f"tab-{dialect}"
            assert message["actor_id"] == dialects.member.pk
    finally:
        async_to_sync(layer.group_discard)(group, channel)


@pytest.mark.parametrize(
    "prefix, tag",
    [
        ("/api/projects", "punt"),
        ("/api/admin", "punt"),
        ("/api/upload", "punt"),
        ("/api/v1/ext/orgs/", "agentsmesh"),
        ("/api/v3/", "github-v3"),
    ],
)
def test_each_dialect_has_its_own_openapi_tag(prefix, tag):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = [
        operation
        for path, item in schema["paths"].items()
        if path.startswith(prefix)
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert operations
    assert {tuple(operation["tags"]) for operation in operations} == {(tag,)}


def test_project_and_label_changes_publish_the_same_events_as_api_v1(mesh, personas, published):
    admin = personas.client("admin")
    published.clear()
    assert admin.patch("/api/projects/AM", {"description": "Via PUNT"}, format="json").status_code == 200
    via_punt = _normalised(published.calls)
    published.clear()
    assert admin.put("/api/v1/projects/am", {"description": "Via v1"}, format="json").status_code == 200
    via_v1 = _normalised(published.calls)
    assert [name for name, _ in via_punt] == ["project.updated"]
    assert via_punt == via_v1
    assert admin.get("/api/v3/projects/acme/agents-mesh").status_code == 200

    published.clear()
    punt_label = admin.post("/api/projects/AM/labels", {"name": "one", "color": "#3B82F6"}, format="json").json()
    via_punt = [(name, {**payload, "id": None}) for name, payload in _normalised(published.calls)]
    published.clear()
    admin.post("/api/v1/projects/am/labels", {"name": "one-v1", "color": "#3B82F6"}, format="json")
    via_v1 = [(name, {**payload, "id": None, "name": "one"}) for name, payload in _normalised(published.calls)]
    assert [name for name, _ in via_punt] == ["label.created"]
    assert via_punt == via_v1
    # The PUNT label is usable by name from AgentsMesh and shows in /api/v1.
    dialects = Dialects(mesh, personas)
    published.clear()
    created = dialects.key.post(f"{AM}/tickets", {"title": "L", "type": "bug", "labels": ["One"]}, format="json")
    assert created.json()["ticket"]["labels"] == ["one"]
    assert published.names == ["board.card_created"]
    assert {label["name"] for label in admin.get("/api/v1/projects/am/labels").json()} == {"one", "one-v1"}
    published.clear()
    assert admin.delete(f"/api/projects/AM/labels/{punt_label['id']}").json() == {"success": True}
    assert published.names == ["label.deleted"]
    assert dialects.key.get(f"{AM}/tickets/AM-1").json()["ticket"]["labels"] == []
