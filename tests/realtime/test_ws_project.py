"""The project WebSocket, /api/v1/ws/<projectSlug> (seed 004), through punt.asgi.application."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from projects.models import Project
from punt.events import project_group, publish
from tests.factories import ProjectFactory, UserFactory
from tests.realtime.conftest import (
    TIMEOUT,
    api_key_for,
    close_code,
    jwt_for,
    nothing_more,
    publish_committed,
    session_cookie,
    ws_connect,
    ws_project,
)

pytestmark = pytest.mark.django_db(transaction=True)

CARD = {
    "id": 7,
    "key": "BLOG-7",
    "number": 7,
    "title": "Write the launch post",
    "type": "task",
    "priority": "high",
    "status": "in_progress",
    "column_id": 2,
    "position": 3,
    "assignee": None,
    "labels": [],
}

# Every event type a project socket carries, with a payload like its publisher's.
PROJECT_EVENTS = {
    "board.card_created": CARD,
    "board.card_updated": {**CARD, "title": "Write the launch post (v2)"},
    "board.card_moved": {**CARD, "column_id": 3, "position": 0},
    "board.card_deleted": CARD,
    "board.column_created": {"id": 4, "name": "Review", "order": 3, "category": "in_review"},
    "board.column_updated": {"id": 4, "name": "In review", "order": 3, "category": "in_review"},
    "board.column_deleted": {"id": 4},
    "board.columns_reordered": {"ids": [1, 3, 2]},
    "label.created": {"id": 5, "name": "bug", "color": "#EF4444"},
    "label.updated": {"id": 5, "name": "defect", "color": "#EF4444"},
    "label.deleted": {"id": 5},
    "sprint.created": {"id": 9, "name": "Sprint 1", "status": "planned"},
    "sprint.started": {"id": 9, "name": "Sprint 1", "status": "active"},
    "sprint.closed": {"id": 9, "name": "Sprint 1", "status": "closed"},
    "comment.created": {"id": 11, "card_id": 7, "body": "Looks good", "author": {"id": 2, "username": "mary"}},
    "chat.message": {"id": 12, "body": "hello", "author": {"id": 2, "username": "mary"}},
    "topic.created": {"id": 13, "title": "Launch plan"},
    "member.added": {"user_id": 99, "project_id": 1, "role": "member"},
    "project.updated": {"id": 1, "name": "Blog"},
}


@pytest.mark.parametrize("event", PROJECT_EVENTS)
async def test_every_bus_event_reaches_the_socket(personas, event):
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")
    payload = PROJECT_EVENTS[event]

    await publish_committed(event, payload, project_id=personas.project.pk, actor_id=personas.admin.pk)

    assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": event, "payload": payload}
    await socket.disconnect()


async def test_events_wait_for_commit_and_vanish_on_rollback(personas):
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")

    @database_sync_to_async
    def rolled_back() -> None:
        with pytest.raises(RuntimeError), transaction.atomic():
            publish("board.card_created", CARD, project_id=personas.project.pk)
            raise RuntimeError("the service failed after publishing")

    await rolled_back()
    await nothing_more(socket)
    await socket.disconnect()


async def test_other_projects_events_are_not_delivered(personas):
    other = await database_sync_to_async(ProjectFactory)(key="SHOP", name="Shop")
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")

    await publish_committed("board.card_created", CARD, project_id=other.pk)

    await nothing_more(socket)
    await socket.disconnect()


async def test_slug_is_case_insensitive(personas):
    socket = await ws_project(f"/api/v1/ws/BLOG?token={jwt_for(personas.viewer)}")
    await socket.disconnect()


async def test_a_chosen_slug_is_the_socket_path(personas):
    # Seed 004: wss://…/api/v1/ws/:projectSlug, with `myproject` holding MYPROJ-99.
    project = await database_sync_to_async(ProjectFactory)(
        key="MYPROJ", slug="my-project", name="My project", owner_user=personas.owner
    )
    socket = await ws_project(f"/api/v1/ws/my-project?token={jwt_for(personas.owner)}")
    await publish_committed("board.card_created", CARD, project_id=project.pk)
    assert (await socket.receive_json_from(timeout=TIMEOUT))["type"] == "board.card_created"
    await socket.disconnect()
    # The key is the card prefix, not a second name for the project.
    assert await refused(f"/api/v1/ws/myproj?token={jwt_for(personas.owner)}") == 4403


# Who may connect, and how they prove it.


@pytest.mark.parametrize("role", ["owner", "admin", "member", "viewer"])
async def test_every_role_may_connect_with_a_jwt(personas, role):
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.user(role))}")
    await publish_committed("board.card_moved", CARD, project_id=personas.project.pk)
    assert (await socket.receive_json_from(timeout=TIMEOUT))["type"] == "board.card_moved"
    await socket.disconnect()


async def test_session_cookie(personas):
    cookie = await database_sync_to_async(session_cookie)(personas.member)
    socket = await ws_project("/api/v1/ws/blog", headers=[(b"cookie", cookie.encode())])
    await socket.disconnect()


async def test_api_key_in_query_string_and_header(personas):
    raw = await database_sync_to_async(api_key_for)(personas.member)
    socket = await ws_project(f"/api/v1/ws/blog?api_key={raw}")
    await socket.disconnect()
    socket = await ws_project("/api/v1/ws/blog", headers=[(b"x-api-key", raw.encode())])
    await socket.disconnect()


async def test_site_admin_who_is_not_a_member_may_connect(personas):
    staff = await database_sync_to_async(UserFactory)(username="sam", is_staff=True)
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(staff)}")
    await socket.disconnect()


async def refused(path: str, headers: list[tuple[bytes, bytes]] | None = None) -> int:
    socket = await ws_connect(path, headers=headers)
    code = await close_code(socket)
    await socket.disconnect()
    return code


async def test_refusals_have_distinct_close_codes(personas):
    outsider_key = await database_sync_to_async(api_key_for)(personas.outsider)
    revoked = await database_sync_to_async(api_key_for)(personas.member, revoked=True)
    no_read = await database_sync_to_async(api_key_for)(personas.member, scopes=["webhooks:write"])

    codes = {
        "no credentials": await refused("/api/v1/ws/blog"),
        "garbage token": await refused("/api/v1/ws/blog?token=not-a-jwt"),
        "expired token": await refused(f"/api/v1/ws/blog?token={jwt_for(personas.member, expired=True)}"),
        "unknown api key": await refused("/api/v1/ws/blog?api_key=punt_nope"),
        "revoked api key": await refused(f"/api/v1/ws/blog?api_key={revoked}"),
        "outsider": await refused(f"/api/v1/ws/blog?token={jwt_for(personas.outsider)}"),
        "outsider's key": await refused("/api/v1/ws/blog", headers=[(b"x-api-key", outsider_key.encode())]),
        "key without a read scope": await refused(f"/api/v1/ws/blog?api_key={no_read}"),
        "unknown project": await refused(f"/api/v1/ws/nope?token={jwt_for(personas.owner)}"),
    }
    assert codes == {
        "no credentials": 4401,
        "garbage token": 4401,
        "expired token": 4401,
        "unknown api key": 4401,
        "revoked api key": 4401,
        "outsider": 4403,
        "outsider's key": 4403,
        "key without a read scope": 4403,
        "unknown project": 4403,
    }


async def test_archived_project_stays_readable_by_members(personas):
    # Was refused (4403); an archived project is read-only for its members on every surface.
    await database_sync_to_async(Project.objects.filter(pk=personas.project.pk).update)(archived_at=timezone.now())
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.viewer)}")
    await socket.disconnect()
    assert await refused(f"/api/v1/ws/blog?token={jwt_for(personas.outsider)}") == 4403


async def test_a_bad_token_is_not_rescued_by_the_session(personas):
    cookie = await database_sync_to_async(session_cookie)(personas.member)
    assert await refused("/api/v1/ws/blog?token=expired.or.forged", headers=[(b"cookie", cookie.encode())]) == 4401


async def test_foreign_origin_is_rejected_at_the_handshake(personas):
    from channels.testing import WebsocketCommunicator

    from punt.asgi import application

    socket = WebsocketCommunicator(
        application, f"/api/v1/ws/blog?token={jwt_for(personas.member)}", headers=[(b"origin", b"http://evil.test")]
    )
    connected, _ = await socket.connect(timeout=TIMEOUT)
    assert not connected


# Keep-alive, errors.


async def test_ping_pong(personas):
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}
    await socket.disconnect()


async def test_malformed_and_unknown_messages_get_an_error_and_keep_the_socket(personas):
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")
    await socket.send_to(text_data="{nope")
    assert (await socket.receive_json_from(timeout=TIMEOUT))["type"] == "error"
    await socket.send_json_to({"type": "dance"})
    assert await socket.receive_json_from(timeout=TIMEOUT) == {
        "type": "error",
        "payload": {"message": "Unknown message type 'dance'."},
    }
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}
    await socket.disconnect()


# Removal from the project.


async def test_a_removed_member_is_cut_off_at_once(personas):
    mary = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")
    adam = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.admin)}")
    assert (await mary.receive_json_from(timeout=TIMEOUT))["type"] == "presence.join"

    removed = {"user_id": personas.member.pk, "project_id": personas.project.pk}
    await publish_committed("member.removed", removed, project_id=personas.project.pk, user_ids=[personas.member.pk])

    assert await close_code(mary) == 4403
    assert await adam.receive_json_from(timeout=TIMEOUT) == {"type": "member.removed", "payload": removed}
    assert (await adam.receive_json_from(timeout=TIMEOUT))["type"] == "presence.leave"

    await publish_committed("board.card_created", CARD, project_id=personas.project.pk)
    assert (await adam.receive_json_from(timeout=TIMEOUT))["type"] == "board.card_created"
    assert await mary.receive_nothing(timeout=0.2)
    await adam.disconnect()


async def test_a_deleted_project_closes_the_socket(personas):
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")
    event = "project.deleted"
    await publish_committed(event, {"id": personas.project.pk}, project_id=personas.project.pk)
    assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": event, "payload": {"id": personas.project.pk}}
    assert await close_code(socket) == 4403


async def test_archiving_keeps_the_socket_open(personas):
    # Was closed (4403) like a deletion; an archived project stays readable by its members.
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")
    event = "project.archived"
    await publish_committed(event, {"id": personas.project.pk}, project_id=personas.project.pk)
    assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": event, "payload": {"id": personas.project.pk}}
    await publish_committed("board.card_created", CARD, project_id=personas.project.pk)
    assert (await socket.receive_json_from(timeout=TIMEOUT))["type"] == "board.card_created"
    await socket.disconnect()


# No echo.


async def test_no_echo_to_the_tab_that_made_the_change(personas):
    this_tab = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}&tab_id=tab-A")
    other_tab = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}&tab_id=tab-B")
    untagged = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.admin)}")
    assert (await this_tab.receive_json_from(timeout=TIMEOUT))["type"] == "presence.join"  # adam
    assert (await other_tab.receive_json_from(timeout=TIMEOUT))["type"] == "presence.join"

    await publish_committed("board.card_moved", CARD, project_id=personas.project.pk, tab_id="tab-A")

    assert (await other_tab.receive_json_from(timeout=TIMEOUT))["type"] == "board.card_moved"
    assert (await untagged.receive_json_from(timeout=TIMEOUT))["type"] == "board.card_moved"
    await nothing_more(this_tab)
    for socket in (this_tab, other_tab, untagged):
        await socket.disconnect()


# A slow or dead client never holds up the others.


async def test_a_stalled_channel_does_not_block_delivery_to_others(personas, settings):
    layer = get_channel_layer()
    stalled = await layer.new_channel()  # joins the group, never reads: fills up, then drops
    await layer.group_add(project_group(personas.project.pk), stalled)
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")
    count = 130  # beyond the layer's default capacity of 100 per channel

    @database_sync_to_async
    def burst() -> None:
        for number in range(count):
            with transaction.atomic():
                publish("board.card_updated", {**CARD, "position": number}, project_id=personas.project.pk)

    started = asyncio.get_running_loop().time()
    await burst()
    received = [await socket.receive_json_from(timeout=TIMEOUT) for _ in range(count)]
    assert [m["payload"]["position"] for m in received] == list(range(count))
    assert asyncio.get_running_loop().time() - started < 20
    # The stalled channel kept what fitted and the layer dropped the rest.
    kept = 0
    while True:
        try:
            await asyncio.wait_for(layer.receive(stalled), timeout=0.5)
        except TimeoutError:
            break
        kept += 1
    assert kept == 100
    await socket.disconnect()
