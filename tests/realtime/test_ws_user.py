"""The user WebSocket, /api/v1/ws/user: DMs, mentions, notifications and profile changes."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from tests.realtime.conftest import (
    TIMEOUT,
    api_key_for,
    close_code,
    jwt_for,
    nothing_more,
    publish_committed,
    session_cookie,
    ws_connect,
    ws_user,
)

pytestmark = pytest.mark.django_db(transaction=True)

USER_EVENTS = {
    "dm.message": {"id": 3, "conversation_id": 1, "body": "lunch?", "author": {"id": 1, "username": "olivia"}},
    "notification.mention": {"ticket": {"id": 7, "key": "BLOG-7"}, "by": {"id": 1, "username": "olivia"}},
    "notification.assigned": {"ticket": {"id": 7, "key": "BLOG-7"}, "by": {"id": 1, "username": "olivia"}},
    "notification.ticket": {"ticket": {"id": 7, "key": "BLOG-7"}, "change": "moved"},
    "user.updated": {"id": 2, "username": "mary", "name": "Mary Q."},
    "member.removed": {"user_id": 2, "project_id": 1},
}


@pytest.mark.parametrize("event", USER_EVENTS)
async def test_everything_on_the_user_group_is_delivered(personas, event):
    socket = await ws_user(f"/api/v1/ws/user?token={jwt_for(personas.member)}")

    await publish_committed(event, USER_EVENTS[event], user_ids=[personas.member.pk])

    assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": event, "payload": USER_EVENTS[event]}
    await socket.disconnect()


async def test_other_users_events_and_project_events_are_not_delivered(personas):
    socket = await ws_user(f"/api/v1/ws/user?token={jwt_for(personas.member)}")

    await publish_committed("dm.message", USER_EVENTS["dm.message"], user_ids=[personas.admin.pk])
    await publish_committed("board.card_created", {"id": 1}, project_id=personas.project.pk)

    await nothing_more(socket)
    await socket.disconnect()


async def test_session_and_api_key_and_no_echo(personas):
    cookie = await database_sync_to_async(session_cookie)(personas.member)
    raw = await database_sync_to_async(api_key_for)(personas.member)
    by_session = await ws_user("/api/v1/ws/user?tab_id=t1", headers=[(b"cookie", cookie.encode())])
    by_key = await ws_user(f"/api/v1/ws/user?api_key={raw}")

    await publish_committed("user.updated", USER_EVENTS["user.updated"], user_ids=[personas.member.pk], tab_id="t1")

    assert (await by_key.receive_json_from(timeout=TIMEOUT))["type"] == "user.updated"
    await nothing_more(by_session)
    await by_session.send_json_to({"type": "ping"})
    assert await by_session.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}
    await by_session.disconnect()
    await by_key.disconnect()


async def test_refusals(personas):
    codes = []
    for path in ("/api/v1/ws/user", "/api/v1/ws/user?token=nope", "/api/v1/ws/user?api_key=punt_nope"):
        socket = await ws_connect(path)
        codes.append(await close_code(socket))
        await socket.disconnect()
    assert codes == [4401, 4401, 4401]


async def test_open_connections_are_counted(personas):
    from punt.events import gauges

    before = gauges["ws_connections"]
    socket = await ws_connect(f"/api/v1/ws/user?token={jwt_for(personas.member)}")
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}  # authenticated by now
    assert gauges["ws_connections"] == before + 1
    await socket.disconnect()
    assert gauges["ws_connections"] == before


async def test_assignment_mention_and_watched_change_made_through_the_api_reach_the_user_socket(personas):
    """Real services publish what the user socket promises (seed 004): not only synthetic events."""
    from rest_framework.test import APIClient

    mary = await ws_user(f"/api/v1/ws/user?token={jwt_for(personas.member)}")

    @database_sync_to_async
    def as_adam(method: str, url: str, body: dict | None = None) -> dict:
        client = APIClient()
        client.force_authenticate(personas.admin)
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code in (200, 201), response.content
        return response.json()

    async def next_notification() -> dict:
        while True:
            message = await mary.receive_json_from(timeout=TIMEOUT)
            if message["type"] == "notification.created":
                return message["payload"]

    column = await database_sync_to_async(lambda: personas.project.columns.order_by("order").first().pk)()
    card = await as_adam(
        "post", f"/api/v1/projects/blog/columns/{column}/cards", {"title": "Launch", "assignee": "mary"}
    )
    assigned = await next_notification()
    assert (assigned["kind"], assigned["data"]["ticket"]["key"]) == ("assigned", card["key"])

    await as_adam("post", f"/api/v1/projects/blog/cards/{card['key']}/comments", {"body": "@mary can you check?"})
    mentioned = await next_notification()
    assert (mentioned["kind"], mentioned["data"]["ticket"]["key"]) == ("mention", card["key"])

    # The assignee watches the card: a change by someone else notifies her.
    await as_adam("put", f"/api/v1/projects/blog/cards/{card['key']}", {"title": "Launch day"})
    watched = await next_notification()
    assert (watched["kind"], watched["data"]["ticket"]["key"]) == ("watched", card["key"])
    await mary.disconnect()


async def test_a_profile_change_through_the_api_reaches_the_users_sockets(personas):
    socket = await ws_user(f"/api/v1/ws/user?token={jwt_for(personas.member)}")

    @database_sync_to_async
    def rename() -> int:
        return personas.client("member").put("/api/v1/users/me", {"display_name": "Mary Q."}, format="json").status_code

    assert await rename() == 200
    message = await socket.receive_json_from(timeout=TIMEOUT)
    assert message["type"] == "user.updated"
    assert message["payload"]["name"] == "Mary Q."
    assert message["payload"]["username"] == "mary"
    await socket.disconnect()
