"""The archived rule on the live surfaces (the HTTP ones: tests/projects/test_archived_rule.py):
an archived project stays readable by its members, so they may follow its socket and its
SSE stream; outsiders still get nothing."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from projects.models import Project
from tests.realtime.conftest import SSE, TIMEOUT, jwt_for, publish_committed, session_cookie, ws_project
from tests.realtime.test_sse import open_stream
from tests.realtime.test_ws_project import CARD, refused

pytestmark = pytest.mark.django_db(transaction=True)


async def _archive(personas) -> None:
    await database_sync_to_async(Project.objects.filter(pk=personas.project.pk).update)(archived_at=timezone.now())


async def test_members_connect_to_an_archived_project_s_socket_and_outsiders_do_not(personas):
    await _archive(personas)
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.viewer)}")
    await publish_committed("board.card_created", CARD, project_id=personas.project.pk)
    assert (await socket.receive_json_from(timeout=TIMEOUT))["type"] == "board.card_created"
    await socket.disconnect()
    assert await refused(f"/api/v1/ws/blog?token={jwt_for(personas.outsider)}") == 4403


async def test_members_follow_an_archived_project_s_stream_and_outsiders_get_404(personas):
    await _archive(personas)
    member_cookie = (b"cookie", (await database_sync_to_async(session_cookie)(personas.member)).encode())
    for path in (f"/api/projects/{personas.project.pk}/events", "/api/projects/BLOG/events"):
        stream = await open_stream(path, member_cookie)
        await stream.close()
    outsider_cookie = (b"cookie", (await database_sync_to_async(session_cookie)(personas.outsider)).encode())
    refused_stream = await SSE(f"/api/projects/{personas.project.pk}/events", [outsider_cookie]).start()
    assert refused_stream.status == 404
    assert b"not found" in (await refused_stream.body()).lower()
