"""PUNT's SSE events (seed 001, "Real-time Events"), read as a PUNT client reads them: the
changes are made through PUNT's REST API, and each event's `data` names the same objects the
REST responses do, with ids of the same type: strings (`"id": "clx1tkt1"` in the document's
event format, `"id": "clx1abc123"`, `"userId"`, `"projectId"` in its REST examples).

The /api/v1 WebSocket (seed 004) keeps the /api/v1 REST's integers.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from rest_framework.test import APIClient

from tests.factories import LabelFactory, SprintFactory, TicketFactory
from tests.realtime.conftest import SSE, TIMEOUT, _fresh_realtime_state, jwt_for, session_cookie, ws_project

__all__ = ["_fresh_realtime_state"]  # the real-time tests' fixture: a fresh channel layer per test

pytestmark = pytest.mark.django_db(transaction=True)

# The document's event format: a ticket's id is a string, as everywhere in the REST API.
EVENT_FORMAT_EXAMPLE: dict[str, Any] = {
    "type": "ticket.created",
    "data": {"id": "clx1tkt1", "title": "New ticket", "type": "Task"},
    "tabId": "abc123",
}


def ids_in(value: Any, path: str = "") -> dict[str, Any]:
    """Every id in a JSON value by its path: `id`, `*Id` and the items of `*Ids`, at any depth."""
    found: dict[str, Any] = {}
    if isinstance(value, list):
        for index, item in enumerate(value):
            found.update(ids_in(item, f"{path}[{index}]"))
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}"
            if (key == "id" or key.endswith("Id")) and not isinstance(item, dict | list):
                found[where] = item
            elif key.endswith("Ids") and isinstance(item, list):
                found.update({f"{where}[{index}]": each for index, each in enumerate(item)})
            else:
                found.update(ids_in(item, where))
    return found


def assert_ids_as_in_rest(event: dict[str, Any], rest: dict[str, Any], *, expected_type: type = str) -> None:
    """Every id of the event is of the REST API's type, and the ids both show are equal."""
    event_ids, rest_ids = ids_in(event), ids_in(rest)
    assert event_ids, event
    for where, value in event_ids.items():
        assert value is None or type(value) is expected_type, f"{where} = {value!r} in {event}"
    shared = set(event_ids) & set(rest_ids)
    assert shared, (event_ids, rest_ids)
    assert {where: event_ids[where] for where in shared} == {where: rest_ids[where] for where in shared}


async def stream_for(path: str, user: Any) -> SSE:
    cookie = await database_sync_to_async(session_cookie)(user)
    stream = await SSE(path, [(b"cookie", cookie.encode())]).start()
    assert stream.status == 200
    return stream


async def next_event(stream: SSE, name: str) -> dict[str, Any]:
    while True:
        _, body = await stream.event()
        if body["type"] == name:
            data: dict[str, Any] = body["data"]
            return data


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@database_sync_to_async
def call(user: Any, method: str, url: str, body: dict[str, Any] | None = None, status: int = 200) -> Any:
    response = getattr(client_for(user), method)(url, body, format="json")
    assert response.status_code == status, (url, response.content)
    return response.json() if response.content else None


async def test_ticket_and_label_events_carry_ids_as_the_rest_api_does(personas):
    project, base = personas.project, f"/api/projects/{personas.project.pk}"
    sprint = await database_sync_to_async(SprintFactory)(project=project)
    parent = await database_sync_to_async(TicketFactory)(project=project)
    label = await database_sync_to_async(LabelFactory)(project=project, name="bug")
    stream = await stream_for(f"{base}/events", personas.member)

    created = await call(
        personas.member,
        "post",
        f"{base}/tickets",
        {
            "title": "New ticket",
            "type": "Task",
            "labelIds": [str(label.pk)],
            "assigneeId": str(personas.member.pk),
            "sprintId": str(sprint.pk),
            "parentId": str(parent.pk),
        },
        status=201,
    )
    event = await next_event(stream, "ticket.created")
    assert_ids_as_in_rest(event, created)
    example = EVENT_FORMAT_EXAMPLE["data"]
    assert {key: type(event[key]) for key in example} == {key: type(value) for key, value in example.items()}
    assert {".assignee.id", ".labels[0].id", ".sprint.id", ".parent.id", ".columnId"} <= set(ids_in(event))

    ticket_url = f"{base}/tickets/{created['id']}"
    updated = await call(personas.member, "patch", ticket_url, {"title": "Renamed"})
    assert_ids_as_in_rest(await next_event(stream, "ticket.updated"), updated)

    done = await database_sync_to_async(lambda: str(project.columns.get(category="done").pk))()
    moved = await call(personas.member, "patch", ticket_url, {"columnId": done})
    event = await next_event(stream, "ticket.moved")
    assert_ids_as_in_rest(event, moved)
    assert event["columnId"] == event["toColumnId"] == done and isinstance(event["fromColumnId"], str)

    await call(personas.member, "delete", ticket_url)
    assert_ids_as_in_rest(await next_event(stream, "ticket.deleted"), created)

    new_label = await call(personas.member, "post", f"{base}/labels", {"name": "docs", "color": "#3B82F6"}, status=201)
    event = await next_event(stream, "label.created")
    assert_ids_as_in_rest(event, new_label)
    assert event["projectId"] == str(project.pk)

    renamed = await call(personas.admin, "patch", f"/api/v1/projects/blog/labels/{new_label['id']}", {"name": "doc"})
    assert_ids_as_in_rest(await next_event(stream, "label.updated"), {**new_label, "name": renamed["name"]})

    await call(personas.member, "delete", f"{base}/labels/{new_label['id']}")
    assert_ids_as_in_rest(await next_event(stream, "label.deleted"), new_label)
    await stream.close()


async def test_project_list_events_carry_ids_as_the_rest_api_does(personas):
    stream = await stream_for("/api/projects/events", personas.owner)

    project = await call(personas.owner, "post", "/api/projects", {"name": "Garden", "key": "GARDEN"}, status=201)
    assert_ids_as_in_rest(await next_event(stream, "project.created"), project)
    base = f"/api/projects/{project['id']}"

    updated = await call(personas.owner, "patch", base, {"name": "Garden 2"})
    assert_ids_as_in_rest(await next_event(stream, "project.updated"), updated)

    member = await call(personas.owner, "post", f"{base}/members", {"username": "mary"}, status=201)
    event = await next_event(stream, "member.added")
    assert_ids_as_in_rest(event, member)
    assert (event["userId"], event["projectId"]) == (str(personas.member.pk), project["id"])

    changed = await call(personas.owner, "patch", f"{base}/members/{member['id']}", {"role": "admin"})
    assert_ids_as_in_rest(await next_event(stream, "member.updated"), changed)

    await call(personas.owner, "delete", f"{base}/members/{member['id']}")
    assert_ids_as_in_rest(await next_event(stream, "member.removed"), member)

    await call(personas.owner, "delete", base)
    assert_ids_as_in_rest(await next_event(stream, "project.deleted"), project)
    await stream.close()


async def test_user_events_carry_the_id_as_the_rest_api_does(personas):
    stream = await stream_for("/api/users/events", personas.member)
    await call(personas.member, "put", "/api/v1/users/me", {"display_name": "Mary Q."})
    event = await next_event(stream, "user.updated")
    # PUNT's REST shows a user inside its members (seed 001: `"user": {"id": "clx1user1", ...}`).
    members = await call(personas.member, "get", f"/api/projects/{personas.project.pk}/members")
    (mary,) = [member["user"] for member in members if member["user"]["username"] == "mary"]
    assert_ids_as_in_rest(event, mary)


async def test_the_websocket_keeps_the_v1_rest_api_s_integer_ids(personas):
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")
    label = await database_sync_to_async(LabelFactory)(project=personas.project, name="bug")

    column_id = await database_sync_to_async(lambda: personas.project.columns.first().pk)()
    card = await call(
        personas.member,
        "post",
        f"/api/v1/projects/blog/columns/{column_id}/cards",
        {"title": "New card", "labels": [str(label.pk)], "assignee": "mary"},
        status=201,
    )
    while (message := await socket.receive_json_from(timeout=TIMEOUT))["type"] != "board.card_created":
        pass
    payload = message["payload"]
    assert_ids_as_in_rest(camel_ids(payload), camel_ids(card), expected_type=int)

    new_label = await call(personas.admin, "post", "/api/v1/projects/blog/labels", {"name": "docs"}, status=201)
    while (message := await socket.receive_json_from(timeout=TIMEOUT))["type"] != "label.created":
        pass
    assert_ids_as_in_rest(camel_ids(message["payload"]), camel_ids(new_label), expected_type=int)
    await socket.disconnect()


def camel_ids(value: Any) -> Any:
    """/api/v1's snake_case ids (`column_id`) under the names ids_in() finds (`columnId`)."""
    if isinstance(value, list):
        return [camel_ids(item) for item in value]
    if isinstance(value, dict):
        renamed = {}
        for key, item in value.items():
            name = key[: -len("_id")] + "Id" if key.endswith("_id") else key
            name = name[: -len("_ids")] + "Ids" if name.endswith("_ids") else name
            renamed[name] = camel_ids(item)
        return renamed
    return value
