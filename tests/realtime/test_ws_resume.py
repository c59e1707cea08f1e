"""WebSocket resume: `?last_event_id=N` replays the newer events of the socket's groups from the
replay buffer SSE uses, through the same checks as live delivery, each event once.

Runs on the in-memory layer, and on Redis when REDIS_URL is set (the buffer is then in Redis).
"""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async

from punt.events import publish, send_to_groups
from punt.realtime import consumers
from punt.realtime.resume import SeenIds, backlog
from tests.factories import ProjectFactory
from tests.realtime.conftest import (
    TIMEOUT,
    api_key_for,
    jwt_for,
    nothing_more,
    publish_committed,
    ws_connect,
    ws_project,
    ws_user,
)

pytestmark = pytest.mark.django_db(transaction=True)

PRESENCE = ("presence.join", "presence.leave")


async def events(socket: Any, count: int) -> list[dict[str, Any]]:
    """The next `count` bus events (presence announcements skipped)."""
    found = []
    while len(found) < count:
        message = await socket.receive_json_from(timeout=TIMEOUT)
        if message["type"] not in PRESENCE:
            found.append(message)
    return found


async def last_id_after_one_event(personas: Any, query: str) -> int:
    """Connect with ids, receive one event, disconnect: the id the client would resume from."""
    socket = await ws_project(f"/api/v1/ws/blog?{query}&ids=1")
    await publish_committed("board.card_moved", {"id": 1}, project_id=personas.project.pk)
    [first] = await events(socket, 1)
    await socket.disconnect()
    assert first["type"] == "board.card_moved" and first["payload"] == {"id": 1}
    return first["id"]


async def test_messages_carry_ids_only_when_asked(personas):
    token = jwt_for(personas.member)
    plain = await ws_project(f"/api/v1/ws/blog?token={token}")
    with_ids = await ws_project(f"/api/v1/ws/blog?token={token}&ids=1")
    await publish_committed("label.created", {"id": 5}, project_id=personas.project.pk)

    assert (await events(plain, 1))[0] == {"type": "label.created", "payload": {"id": 5}}
    message = (await events(with_ids, 1))[0]
    assert set(message) == {"type", "payload", "id"} and isinstance(message["id"], int)
    assert message["type"] == "label.created" and message["payload"] == {"id": 5}
    for socket in (plain, with_ids):
        await socket.disconnect()


async def test_resume_gets_the_missed_events_not_older_not_other_projects(personas):
    token = jwt_for(personas.member)
    last_id = await last_id_after_one_event(personas, f"token={token}")
    other = await database_sync_to_async(ProjectFactory)(key="SHOP", name="Shop")
    # While the client is away: two events of its project, one of another project.
    await publish_committed("board.card_created", {"id": 2}, project_id=personas.project.pk)
    await publish_committed("board.card_created", {"id": 99}, project_id=other.pk)
    await publish_committed("comment.created", {"id": 3}, project_id=personas.project.pk)

    socket = await ws_connect(f"/api/v1/ws/blog?token={token}&last_event_id={last_id}")
    assert (await socket.receive_json_from(timeout=TIMEOUT))["type"] == "presence.state"  # still first
    missed = await events(socket, 2)
    expected = [("board.card_created", {"id": 2}), ("comment.created", {"id": 3})]
    assert [(m["type"], m["payload"]) for m in missed] == expected
    assert last_id < missed[0]["id"] < missed[1]["id"]
    await nothing_more(socket)
    # Then live, with ids.
    await publish_committed("board.card_moved", {"id": 4}, project_id=personas.project.pk)
    [live] = await events(socket, 1)
    assert live["payload"] == {"id": 4} and live["id"] > missed[1]["id"]
    await socket.disconnect()


async def test_resume_respects_the_api_keys_scopes(personas):
    key = await database_sync_to_async(api_key_for)(personas.member, scopes=["chat:read"])
    socket = await ws_project(f"/api/v1/ws/blog?api_key={key}&ids=1")
    await publish_committed("chat.message", {"id": 1}, project_id=personas.project.pk)
    [first] = await events(socket, 1)
    await socket.disconnect()
    await publish_committed("board.card_moved", {"id": 2}, project_id=personas.project.pk)  # needs tickets:read
    await publish_committed("chat.message", {"id": 3}, project_id=personas.project.pk)

    socket = await ws_project(f"/api/v1/ws/blog?api_key={key}&last_event_id={first['id']}")
    missed = await events(socket, 1)
    assert [(m["type"], m["payload"]) for m in missed] == [("chat.message", {"id": 3})]
    await nothing_more(socket)
    await socket.disconnect()


async def test_resume_on_the_user_socket(personas):
    token = jwt_for(personas.member)
    socket = await ws_user(f"/api/v1/ws/user?token={token}&ids=1")
    await publish_committed("dm.message", {"id": 1}, user_ids=[personas.member.pk])
    [first] = await events(socket, 1)
    await socket.disconnect()
    await publish_committed("dm.message", {"id": 2}, user_ids=[personas.member.pk])
    await publish_committed("dm.message", {"id": 3}, user_ids=[personas.admin.pk])  # someone else's

    socket = await ws_connect(f"/api/v1/ws/user?token={token}&last_event_id={first['id']}")
    missed = await events(socket, 1)
    assert [(m["type"], m["payload"]) for m in missed] == [("dm.message", {"id": 2})]
    await nothing_more(socket)
    await socket.disconnect()


async def test_an_event_arriving_live_during_the_replay_is_sent_once(personas, monkeypatch):
    token = jwt_for(personas.member)
    last_id = await last_id_after_one_event(personas, f"token={token}")
    await publish_committed("board.card_created", {"id": 2}, project_id=personas.project.pk)
    project_id = personas.project.pk

    def racing_backlog(groups: list[str], after: int) -> list[dict[str, Any]]:
        # The socket has joined its group: an event published now arrives live (held until the
        # replay is done) and is also in the buffer read just after.
        publish("board.card_moved", {"id": 3}, project_id=project_id)
        return backlog(groups, after)

    monkeypatch.setattr(consumers, "backlog", racing_backlog)
    socket = await ws_project(f"/api/v1/ws/blog?token={token}&last_event_id={last_id}")
    received = await events(socket, 2)
    assert [m["payload"] for m in received] == [{"id": 2}, {"id": 3}]
    await nothing_more(socket)
    await socket.disconnect()


async def test_a_replayed_message_also_in_the_held_ones_is_sent_once(personas, monkeypatch):
    # The same race from the other side, made certain: the live copy is delivered (held) before
    # the buffer is read.
    token = jwt_for(personas.member)
    last_id = await last_id_after_one_event(personas, f"token={token}")
    await publish_committed("board.card_created", {"id": 2}, project_id=personas.project.pk)
    [replayed] = await database_sync_to_async(backlog)([f"project.{personas.project.pk}"], last_id)

    def live_then_backlog(groups: list[str], after: int) -> list[dict[str, Any]]:
        async_to_sync(send_to_groups)(groups, dict(replayed))
        return backlog(groups, after)

    monkeypatch.setattr(consumers, "backlog", live_then_backlog)
    socket = await ws_project(f"/api/v1/ws/blog?token={token}&last_event_id={last_id}")
    assert [m["payload"] for m in await events(socket, 1)] == [{"id": 2}]
    await nothing_more(socket)
    await socket.disconnect()


async def test_a_bad_last_event_id_is_an_error_and_the_socket_goes_on_live(personas):
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}&last_event_id=abc")
    error = await socket.receive_json_from(timeout=TIMEOUT)
    assert error["type"] == "error" and "last_event_id" in error["payload"]["message"]
    await publish_committed("label.created", {"id": 5}, project_id=personas.project.pk)
    [live] = await events(socket, 1)
    assert live["payload"] == {"id": 5} and "id" in live
    await socket.disconnect()


async def test_outsiders_cannot_resume(personas):
    socket = await ws_connect(f"/api/v1/ws/blog?token={jwt_for(personas.outsider)}&last_event_id=0")
    message = await socket.receive_output(timeout=TIMEOUT)
    assert message == {"type": "websocket.close", "code": 4403}


def test_seen_ids_forget_the_oldest():
    seen = SeenIds(kept=2)
    assert seen.first_time(1) and seen.first_time("2") and not seen.first_time(2)
    assert seen.first_time(None) and seen.first_time(None)
    assert seen.first_time(3)  # 1 is forgotten now
    assert seen.first_time(1)
