"""PUNT's SSE streams (seeds 000/001), read through the ASGI application as daphne serves them."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async

from tests.factories import ProjectFactory
from tests.realtime.conftest import SSE, TIMEOUT, api_key_for, jwt_for, publish_committed, session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("http_handler")]

CARD = {
    "id": 7,
    "key": "BLOG-7",
    "number": 7,
    "title": "Write the launch post",
    "type": "task",
    "priority": "medium",
    "status": "todo",
    "column_id": 1,
    "position": 2,
    "assignee": {"id": 2, "username": "mary", "name": "Mary", "avatar": None},
    "labels": [{"id": 5, "name": "docs", "color": "#3B82F6"}],
    "due_date": None,
}
# Ids are strings, as in PUNT's REST responses.
PUNT_CARD = {
    "id": "7",
    "key": "BLOG-7",
    "number": 7,
    "title": "Write the launch post",
    "type": "Task",
    "priority": "Medium",
    "status": "todo",
    "columnId": "1",
    "position": 2,
    "order": 2,
    "assignee": {"id": "2", "username": "mary", "name": "Mary", "avatar": None},
    "labels": [{"id": "5", "name": "docs", "color": "#3B82F6"}],
    "dueDate": None,
}


async def cookie_for(user) -> tuple[bytes, bytes]:
    return (b"cookie", (await database_sync_to_async(session_cookie)(user)).encode())


async def open_stream(path: str, *headers: tuple[bytes, bytes]) -> SSE:
    stream = await SSE(path, list(headers)).start()
    assert stream.status == 200
    assert stream.headers["content-type"] == "text/event-stream"
    assert stream.headers["cache-control"] == "no-cache, no-transform"
    assert stream.headers["x-accel-buffering"] == "no"
    assert await stream.block() == "retry: 3000\n: connected"
    return stream


async def test_project_stream_renders_ticket_and_label_events_the_punt_way(personas):
    stream = await open_stream(f"/api/projects/{personas.project.pk}/events", await cookie_for(personas.member))
    pid = personas.project.pk

    await publish_committed("board.card_created", CARD, project_id=pid, tab_id="tab-9")
    await publish_committed("board.card_updated", CARD, project_id=pid)
    await publish_committed("board.card_moved", {**CARD, "column_id": 2, "position": 0}, project_id=pid)
    await publish_committed("board.card_deleted", CARD, project_id=pid)
    await publish_committed("label.created", {"id": 5, "name": "docs", "color": "#3B82F6"}, project_id=pid)
    await publish_committed("label.updated", {"id": 5, "name": "doc", "color": "#3B82F6"}, project_id=pid)
    await publish_committed("label.deleted", {"id": 5, "name": "doc", "color": "#3B82F6"}, project_id=pid)

    received = [await stream.event() for _ in range(7)]
    ids = [event_id for event_id, _ in received]
    assert ids == sorted(ids) and len(set(ids)) == 7
    bodies = [body for _, body in received]
    assert all(isinstance(body.pop("timestamp"), str) for body in bodies)
    assert bodies == [
        {"type": "ticket.created", "data": PUNT_CARD, "tabId": "tab-9"},
        {"type": "ticket.updated", "data": PUNT_CARD, "tabId": None},
        {"type": "ticket.moved", "data": {**PUNT_CARD, "columnId": "2", "position": 0, "order": 0}, "tabId": None},
        {"type": "ticket.deleted", "data": {"id": "7"}, "tabId": None},
        {"type": "label.created", "data": {"id": "5", "name": "docs", "color": "#3B82F6"}, "tabId": None},
        {"type": "label.updated", "data": {"id": "5", "name": "doc", "color": "#3B82F6"}, "tabId": None},
        {"type": "label.deleted", "data": {"id": "5"}, "tabId": None},
    ]
    await stream.close()


async def test_project_stream_skips_events_it_does_not_carry(personas):
    stream = await open_stream(f"/api/projects/{personas.project.pk}/events", await cookie_for(personas.member))
    pid = personas.project.pk
    await publish_committed("chat.message", {"id": 1, "body": "hi"}, project_id=pid)
    await publish_committed("board.card_created", CARD, project_id=pid)
    _, body = await stream.event()
    assert body["type"] == "ticket.created"
    await stream.close()


async def test_project_by_key_and_every_way_to_authenticate(personas):
    raw = await database_sync_to_async(api_key_for)(personas.viewer)
    streams = [
        await open_stream("/api/projects/BLOG/events", await cookie_for(personas.viewer)),
        await open_stream(
            "/api/projects/blog/events", (b"authorization", f"Bearer {jwt_for(personas.admin)}".encode())
        ),
        await open_stream("/api/projects/BLOG/events", (b"x-api-key", raw.encode())),
        await open_stream(f"/api/projects/BLOG/events?api_key={raw}"),
        await open_stream("/api/projects/BLOG/events", (b"authorization", f"Bearer {raw}".encode())),
    ]
    await publish_committed("board.card_moved", CARD, project_id=personas.project.pk)
    for stream in streams:
        _, body = await stream.event()
        assert body["type"] == "ticket.moved"
        await stream.close()


async def refusal(path: str, *headers: tuple[bytes, bytes]) -> tuple[int, bytes]:
    stream = await SSE(path, list(headers)).start()
    assert stream.headers["content-type"] == "application/json"
    return stream.status, await stream.body()


async def test_anonymous_gets_401_and_outsiders_404(personas):
    other = await database_sync_to_async(ProjectFactory)(key="SHOP", name="Shop")
    outsider = await cookie_for(personas.outsider)
    member = await cookie_for(personas.member)
    results = {
        "anonymous": await refusal("/api/projects/BLOG/events"),
        "anonymous list": await refusal("/api/projects/events"),
        "anonymous user": await refusal("/api/users/events"),
        "bad bearer": await refusal("/api/projects/BLOG/events", (b"authorization", b"Bearer junk")),
        "expired": await refusal(
            "/api/projects/BLOG/events", (b"authorization", f"Bearer {jwt_for(personas.member, expired=True)}".encode())
        ),
        "outsider": await refusal("/api/projects/BLOG/events", outsider),
        "outsider by id": await refusal(f"/api/projects/{personas.project.pk}/events", outsider),
        "member of another project": await refusal(f"/api/projects/{other.pk}/events", member),
        "unknown": await refusal("/api/projects/NOPE/events", member),
    }
    statuses = {name: status for name, (status, _) in results.items()}
    assert statuses == {
        "anonymous": 401,
        "anonymous list": 401,
        "anonymous user": 401,
        "bad bearer": 401,
        "expired": 401,
        "outsider": 404,
        "outsider by id": 404,
        "member of another project": 404,
        "unknown": 404,
    }
    assert results["anonymous"][1] == b'{"error": "Authentication required"}'
    assert results["outsider"][1] == b'{"error": "Project not found"}'


async def test_no_echo_by_tab_id_query_or_header(personas):
    pid = personas.project.pk
    by_query = await open_stream(f"/api/projects/{pid}/events?tabId=tab-A", await cookie_for(personas.member))
    by_header = await open_stream(
        f"/api/projects/{pid}/events", await cookie_for(personas.member), (b"x-tab-id", b"tab-A")
    )
    other_tab = await open_stream(f"/api/projects/{pid}/events?tabId=tab-B", await cookie_for(personas.member))

    await publish_committed("board.card_updated", CARD, project_id=pid, tab_id="tab-A")
    await publish_committed("label.created", {"id": 1, "name": "x", "color": "#000000"}, project_id=pid, tab_id="tab-B")

    assert [(await other_tab.event())[1]["type"]] == ["ticket.updated"]
    assert (await by_query.event())[1]["type"] == "label.created"
    assert (await by_header.event())[1]["type"] == "label.created"
    for stream in (by_query, by_header, other_tab):
        await stream.close()


async def test_keep_alive_comments_on_an_idle_stream(personas, settings):
    settings.PUNT_SSE_KEEPALIVE_SECONDS = 0.1
    stream = await open_stream("/api/projects/BLOG/events", await cookie_for(personas.member))
    assert await stream.block() == ": keep-alive"
    assert await stream.block() == ": keep-alive"
    await publish_committed("board.card_created", CARD, project_id=personas.project.pk)
    _, body = await stream.event()
    assert body["type"] == "ticket.created"
    await stream.close()


async def test_the_server_ends_a_stream_after_its_maximum_duration(personas, settings):
    settings.PUNT_SSE_MAX_SECONDS = 0.3
    stream = await open_stream("/api/projects/BLOG/events", await cookie_for(personas.member))
    with pytest.raises(AssertionError, match="stream ended"):
        await stream.block(timeout=TIMEOUT)
    await stream.close()


async def test_last_event_id_replays_what_was_missed(personas):
    pid = personas.project.pk
    cookie = await cookie_for(personas.member)
    first = await open_stream(f"/api/projects/{pid}/events", cookie)
    await publish_committed("board.card_created", {**CARD, "id": 1}, project_id=pid)
    seen_id, _ = await first.event()
    await first.close()

    # While the client is away: two changes, one of them in another project.
    other = await database_sync_to_async(ProjectFactory)(key="SHOP", name="Shop")
    await publish_committed("board.card_updated", {**CARD, "id": 2}, project_id=pid)
    await publish_committed("board.card_updated", {**CARD, "id": 99}, project_id=other.pk)
    await publish_committed("board.card_moved", {**CARD, "id": 3}, project_id=pid)

    again = await open_stream(f"/api/projects/{pid}/events", cookie, (b"last-event-id", str(seen_id).encode()))
    missed = [await again.event() for _ in range(2)]
    expected = [("ticket.updated", "2"), ("ticket.moved", "3")]
    assert [(body["type"], body["data"]["id"]) for _, body in missed] == expected
    assert all(event_id > seen_id for event_id, _ in missed)

    await publish_committed("board.card_deleted", {**CARD, "id": 4}, project_id=pid)
    _, live = await again.event()
    assert live["type"] == "ticket.deleted"
    await again.close()


# An archived project stays readable by its members: project.archived no longer ends the stream
# (tests/projects/test_archived_rule.py).
@pytest.mark.parametrize("event", ["member.removed", "project.deleted"])
async def test_the_stream_ends_when_the_caller_loses_the_project(personas, event):
    stream = await open_stream("/api/projects/BLOG/events", await cookie_for(personas.member))
    payload = {"id": personas.project.pk, "user_id": personas.member.pk, "project_id": personas.project.pk}
    await publish_committed(event, payload, project_id=personas.project.pk, user_ids=[personas.member.pk])
    with pytest.raises(AssertionError, match="stream ended"):
        await stream.event()
    await stream.close()


async def test_another_member_s_removal_does_not_end_the_stream(personas):
    stream = await open_stream("/api/projects/BLOG/events", await cookie_for(personas.member))
    removed = {"user_id": personas.viewer.pk, "project_id": personas.project.pk}
    await publish_committed("member.removed", removed, project_id=personas.project.pk, user_ids=[personas.viewer.pk])
    await publish_committed("board.card_created", CARD, project_id=personas.project.pk)
    assert (await stream.event())[1]["type"] == "ticket.created"
    await stream.close()


async def test_project_list_stream(personas):
    other = await database_sync_to_async(ProjectFactory)(key="SHOP", name="Shop")
    stream = await open_stream("/api/projects/events", await cookie_for(personas.member))
    pid = personas.project.pk

    await publish_committed("project.updated", {"id": pid, "name": "Blog 2", "updated_at": "x"}, project_id=pid)
    await publish_committed("project.updated", {"id": other.pk, "name": "Not mine"}, project_id=other.pk)
    await publish_committed("board.card_created", CARD, project_id=pid)  # not a project-list event
    # Mary is added to SHOP: the stream starts following it.
    added = {"user_id": personas.member.pk, "project_id": other.pk, "role": "member"}
    await publish_committed("member.added", added, project_id=other.pk, user_ids=[personas.member.pk])
    await publish_committed("project.updated", {"id": other.pk, "name": "Shop 2"}, project_id=other.pk)
    await publish_committed("project.created", {"id": 500, "name": "New", "key": "NEW"}, user_ids=[personas.member.pk])
    await publish_committed("project.deleted", {"id": pid, "name": "Blog 2"}, project_id=pid)

    bodies = []
    for _ in range(5):
        _, body = await stream.event()
        body.pop("timestamp")
        bodies.append(body)
    assert bodies == [
        {"type": "project.updated", "data": {"id": str(pid), "name": "Blog 2", "updatedAt": "x"}, "tabId": None},
        {
            "type": "member.added",
            "data": {"userId": str(personas.member.pk), "projectId": str(other.pk), "role": "member"},
            "tabId": None,
        },
        {"type": "project.updated", "data": {"id": str(other.pk), "name": "Shop 2"}, "tabId": None},
        {"type": "project.created", "data": {"id": "500", "name": "New", "key": "NEW"}, "tabId": None},
        {"type": "project.deleted", "data": {"id": str(pid)}, "tabId": None},
    ]
    await stream.no_event()
    await stream.close()


async def test_user_stream(personas):
    stream = await open_stream("/api/users/events", await cookie_for(personas.member))
    profile = {"id": personas.member.pk, "username": "mary", "display_name": "Mary Q.", "avatar": None}

    await publish_committed("user.updated", {"id": personas.admin.pk}, user_ids=[personas.admin.pk])
    await publish_committed("notification.mention", {"ticket": {"id": 1}}, user_ids=[personas.member.pk])
    await publish_committed("user.updated", profile, user_ids=[personas.member.pk])

    event_id, body = await stream.event()
    assert event_id is not None
    body.pop("timestamp")
    assert body == {
        "type": "user.updated",
        "data": {"id": str(personas.member.pk), "username": "mary", "displayName": "Mary Q.", "avatar": None},
        "tabId": None,
    }
    await stream.close()


def group_size(group: str) -> int:
    from channels.layers import get_channel_layer
    from django.conf import settings

    from punt.realtime.backend import redis_client

    client = redis_client()
    if client is not None:  # channels-redis keeps a group as a sorted set of channel names
        return client.zcard(f"{settings.CHANNEL_LAYERS['default']['CONFIG']['prefix']}:group:{group}")
    return len(get_channel_layer().groups.get(group, {}))


async def test_disconnecting_unsubscribes_the_stream(personas):
    from punt.events import gauges

    group = f"project.{personas.project.pk}"
    before = gauges["sse_streams"]
    stream = await open_stream("/api/projects/BLOG/events", await cookie_for(personas.member))
    assert await asyncio.to_thread(group_size, group) == 1
    assert gauges["sse_streams"] == before + 1
    await stream.close()
    await asyncio.sleep(0.05)
    assert await asyncio.to_thread(group_size, group) == 0
    assert gauges["sse_streams"] == before


async def test_streams_run_on_the_handler_under_test(http_handler):
    from django.core.handlers.asgi import ASGIHandler

    from punt.asgi import application
    from punt.asgi_handler import PooledThreadASGIHandler

    expected = PooledThreadASGIHandler if http_handler == "punt" else ASGIHandler
    assert type(application.application_mapping["http"]) is expected
