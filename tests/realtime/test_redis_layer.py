"""The Redis channel layer keeps idle sockets alive (CI's Redis run only)."""

from __future__ import annotations

import asyncio
import os

import pytest

from tests.realtime.conftest import TIMEOUT, jwt_for, publish_committed, ws_project

pytestmark = [
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (CI's Redis run)"),
    pytest.mark.django_db(transaction=True),
]


async def test_an_idle_socket_outlives_the_layers_blocking_reads(personas):
    # channels-redis waits for messages with 5 s blocking reads; with redis-py's default
    # 5 s socket timeout an idle consumer died at the end of one of them.
    sockets = [await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}") for _ in range(3)]
    await asyncio.sleep(11)
    await publish_committed("board.card_moved", {"id": 1}, project_id=personas.project.pk)
    for socket in sockets:
        assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": "board.card_moved", "payload": {"id": 1}}
        await socket.disconnect()
