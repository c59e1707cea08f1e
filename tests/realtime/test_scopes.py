"""API-key scopes on live events: each event kind reaches a key only if the key holds the scope
that the REST endpoints for the same things need (WebSocket and SSE alike)."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

from accounts import services as account_services
from tests.realtime.conftest import (
    SSE,
    TIMEOUT,
    jwt_for,
    nothing_more,
    publish_committed,
    session_cookie,
    ws_project,
    ws_user,
)

pytestmark = pytest.mark.django_db(transaction=True)

# event -> the area whose read scope it needs ("any": every key that may connect;
# "unrestricted": a key without scopes or with "admin").
PROJECT_EVENTS = {
    "board.card_moved": "tickets",
    "board.card_created": "tickets",
    "comment.created": "tickets",
    "time_entry.created": "tickets",
    "board.column_created": "projects",
    "board.columns_reordered": "projects",
    "label.created": "projects",
    "sprint.started": "projects",
    "member.updated": "projects",
    "project.updated": "projects",
    "chat.message": "chat",
    "chat.reaction": "chat",
    "topic.created": "chat",
    "presence.join": "any",
}
USER_EVENTS = {
    "dm.message": "chat",
    "conversation.created": "chat",
    "notification.mention": "chat",
    "notification.created": "chat",
    "org.updated": "projects",
    "member.added": "projects",
    "user.updated": "unrestricted",
}
# Who connects -> the areas they get. None: a session (no key at all).
CALLERS: dict[str, tuple[list[str] | None, set[str]]] = {
    "tickets:read": (["tickets:read"], {"tickets", "any"}),
    "chat:read": (["chat:read"], {"chat", "any"}),
    "projects:read": (["projects:read"], {"projects", "any"}),
    "tickets:read+chat:read": (["tickets:read", "chat:read"], {"tickets", "chat", "any"}),
    "tickets:write": (["tickets:write"], {"tickets", "any"}),
    "chat:write+projects:read": (["chat:write", "projects:read"], {"chat", "projects", "any"}),
    "admin scope": (["admin"], {"tickets", "chat", "projects", "any", "unrestricted"}),
    "unrestricted key": ([], {"tickets", "chat", "projects", "any", "unrestricted"}),
    "session": (None, {"tickets", "chat", "projects", "any", "unrestricted"}),
    "jwt": (None, {"tickets", "chat", "projects", "any", "unrestricted"}),
}
SENTINEL = "presence.leave"  # reaches every socket: the end of each one's expected messages


def _credentials(user: Any, caller: str) -> tuple[str, list[tuple[bytes, bytes]]]:
    """(query string, headers) that authenticate `user` as `caller`."""
    scopes, _ = CALLERS[caller]
    if caller == "session":
        return "", [(b"cookie", session_cookie(user).encode())]
    if caller == "jwt":
        return f"token={jwt_for(user)}", []
    _, raw = account_services.api_key_create(user=user, name=caller, scopes=scopes)
    return f"api_key={raw}", []


async def received_until_sentinel(socket: Any) -> list[str]:
    kinds = []
    while True:
        message = await socket.receive_json_from(timeout=TIMEOUT)
        if message["type"] == SENTINEL:
            return kinds
        kinds.append(message["type"])


def expected(events: dict[str, str], caller: str) -> list[str]:
    return [event for event, area in events.items() if area in CALLERS[caller][1]]


async def test_project_socket_sends_each_event_kind_only_to_keys_with_its_scope(personas):
    member, pid = personas.member, personas.project.pk
    sockets = {}
    for caller in CALLERS:
        query, headers = await database_sync_to_async(_credentials)(member, caller)
        sockets[caller] = await ws_project(f"/api/v1/ws/blog?{query}", headers=headers)

    for event in PROJECT_EVENTS:
        await publish_committed(event, {"id": 1, "user_id": personas.admin.pk}, project_id=pid)
    await publish_committed(SENTINEL, {"user_id": personas.admin.pk}, project_id=pid)

    received = {caller: await received_until_sentinel(socket) for caller, socket in sockets.items()}
    assert received == {caller: expected(PROJECT_EVENTS, caller) for caller in CALLERS}
    for socket in sockets.values():
        await nothing_more(socket)
        await socket.disconnect()


async def test_user_socket_sends_each_event_kind_only_to_keys_with_its_scope(personas):
    member = personas.member
    sockets = {}
    for caller in CALLERS:
        query, headers = await database_sync_to_async(_credentials)(member, caller)
        sockets[caller] = await ws_user(f"/api/v1/ws/user?{query}", headers=headers)

    for event in USER_EVENTS:
        await publish_committed(event, {"id": 1, "user_id": member.pk}, user_ids=[member.pk])
    await publish_committed(SENTINEL, {"user_id": member.pk}, user_ids=[member.pk])

    received = {caller: await received_until_sentinel(socket) for caller, socket in sockets.items()}
    assert received == {caller: expected(USER_EVENTS, caller) for caller in CALLERS}
    for socket in sockets.values():
        await socket.disconnect()


async def test_scopes_do_not_change_who_is_cut_off(personas):
    """A key that may not see member events is still closed when its user is removed."""
    query, _ = await database_sync_to_async(_credentials)(personas.member, "chat:read")
    socket = await ws_project(f"/api/v1/ws/blog?{query}")
    pid = personas.project.pk
    await publish_committed("member.removed", {"user_id": personas.member.pk, "project_id": pid}, project_id=pid)
    message = await socket.receive_output(timeout=TIMEOUT)
    assert message == {"type": "websocket.close", "code": 4403}


# --------------------------------------------------------------------------- SSE

CARD = {"id": 7, "key": "BLOG-7", "title": "t", "type": "task", "priority": "low", "column_id": 1, "position": 0}
# bus event -> (what the project stream calls it, the area it needs)
SSE_PROJECT_EVENTS = {
    "board.card_moved": ("ticket.moved", "tickets"),
    "label.created": ("label.created", "projects"),
    "board.card_created": ("ticket.created", "tickets"),
}
SSE_CALLERS = ["tickets:read", "chat:read", "projects:read", "tickets:read+chat:read", "unrestricted key"]
SSE_CALLERS += ["session", "jwt"]


def _sse_headers(user: Any, caller: str) -> list[tuple[bytes, bytes]]:
    query, headers = _credentials(user, caller)
    if query.startswith("api_key="):
        return [(b"x-api-key", query.removeprefix("api_key=").encode())]
    if query.startswith("token="):
        return [(b"authorization", f"Bearer {query.removeprefix('token=')}".encode())]
    return headers


async def test_sse_streams_send_each_event_kind_only_to_keys_with_its_scope(personas):
    member, pid = personas.member, personas.project.pk
    streams = {}
    for caller in SSE_CALLERS:
        headers = await database_sync_to_async(_sse_headers)(member, caller)
        stream = await SSE(f"/api/projects/{pid}/events", headers).start()
        assert stream.status == 200, caller
        assert await stream.block() == "retry: 3000\n: connected"
        user_stream = await SSE("/api/users/events", headers).start()
        assert user_stream.status == 200, caller
        assert await user_stream.block() == "retry: 3000\n: connected"
        streams[caller] = (stream, user_stream)

    for event in SSE_PROJECT_EVENTS:
        await publish_committed(event, CARD, project_id=pid)
    await publish_committed("user.updated", {"id": member.pk, "username": "mary"}, user_ids=[member.pk])

    for caller, (stream, user_stream) in streams.items():
        areas = CALLERS[caller][1]
        want = [name for name, area in SSE_PROJECT_EVENTS.values() if area in areas]
        got = [(await stream.event())[1]["type"] for _ in want]
        assert got == want, caller
        await stream.no_event()
        if "unrestricted" in areas:
            assert (await user_stream.event())[1]["type"] == "user.updated", caller
        await user_stream.no_event()
        await stream.close()
        await user_stream.close()
