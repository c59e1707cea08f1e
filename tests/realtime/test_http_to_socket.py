"""A change made through the HTTP API reaches the sockets and streams, except the tab that made it."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from rest_framework.test import APIClient

from tests.factories import TicketFactory
from tests.realtime.conftest import SSE, TIMEOUT, jwt_for, session_cookie, ws_project

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("http_handler")]


async def next_of_type(socket, event_type: str) -> dict:
    while True:
        message = await socket.receive_json_from(timeout=TIMEOUT)
        if message["type"] == event_type:
            return message


async def test_x_tab_id_on_a_change_suppresses_only_that_tabs_echo(personas):
    ticket = await database_sync_to_async(TicketFactory)(project=personas.project, title="Draft")
    this_tab = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}&tab_id=tab-A")
    other_tab = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}&tab_id=tab-B")
    cookie = await database_sync_to_async(session_cookie)(personas.member)
    sse_this = await SSE("/api/projects/BLOG/events?tabId=tab-A", [(b"cookie", cookie.encode())]).start()
    sse_other = await SSE("/api/projects/BLOG/events", [(b"cookie", cookie.encode())]).start()

    @database_sync_to_async
    def edit() -> int:
        client = APIClient()
        client.force_authenticate(personas.member)
        response = client.put(
            f"/api/v1/projects/blog/cards/{ticket.pk}", {"title": "Final"}, format="json", HTTP_X_TAB_ID="tab-A"
        )
        return response.status_code

    assert await edit() == 200

    updated = await next_of_type(other_tab, "board.card_updated")
    assert (updated["payload"]["id"], updated["payload"]["title"]) == (ticket.pk, "Final")
    _, body = await sse_other.event()
    assert (body["type"], body["data"]["id"], body["data"]["title"], body["tabId"]) == (
        "ticket.updated",
        str(ticket.pk),
        "Final",
        "tab-A",
    )
    assert await this_tab.receive_nothing(timeout=0.3)
    await sse_this.no_event()
    for socket in (this_tab, other_tab):
        await socket.disconnect()
    await sse_other.close()
    await sse_this.close()


async def test_removing_a_member_through_the_api_cuts_their_socket_and_stream(personas):
    mary = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")
    cookie = await database_sync_to_async(session_cookie)(personas.member)
    stream = await SSE("/api/projects/BLOG/events", [(b"cookie", cookie.encode())]).start()

    @database_sync_to_async
    def remove_mary() -> int:
        client = APIClient()
        client.force_authenticate(personas.admin)
        return client.delete("/api/v1/projects/blog/members/mary").status_code

    assert await remove_mary() == 204
    message = await mary.receive_output(timeout=TIMEOUT)
    assert (message["type"], message["code"]) == ("websocket.close", 4403)
    with pytest.raises(AssertionError, match="stream ended"):
        await stream.event()
    await stream.close()


async def test_a_project_created_through_the_api_is_followed_by_the_creators_project_list_stream(personas):
    cookie = await database_sync_to_async(session_cookie)(personas.member)
    stream = await SSE("/api/projects/events", [(b"cookie", cookie.encode())]).start()
    assert stream.status == 200

    @database_sync_to_async
    def create_then_rename() -> tuple[int, int]:
        client = APIClient()
        client.force_authenticate(personas.member)
        created = client.post("/api/v1/projects", {"name": "Garden", "key": "GARDEN"}, format="json")
        renamed = client.patch("/api/v1/projects/garden", {"name": "Garden 2"}, format="json")
        return created.status_code, renamed.status_code

    assert await create_then_rename() == (201, 200)
    _, created = await stream.event()
    assert (created["type"], created["data"]["key"], created["data"]["name"]) == ("project.created", "GARDEN", "Garden")
    # Its later changes go to the project's group, which the stream joined on project.created.
    _, renamed = await stream.event()
    assert (renamed["type"], renamed["data"]["key"], renamed["data"]["name"]) == (
        "project.updated",
        "GARDEN",
        "Garden 2",
    )
    await stream.close()
