"""Each process joins a bus group once and fans its messages out to its own sockets (punt.realtime.fanout)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.layers import get_channel_layer

from punt.events import project_group
from punt.realtime import fanout as fanout_module
from punt.realtime.fanout import LocalFanout
from punt.realtime.presence import presence
from tests.realtime.conftest import SSE, TIMEOUT, jwt_for, nothing_more, publish_committed, ws_project

pytestmark = pytest.mark.django_db(transaction=True)

CARD = {"id": 7, "key": "BLOG-7", "title": "Write the launch post"}


def memberships(layer: Any, group: str) -> int | None:
    """How many channels the embedded layer has in `group` (None on Redis, which keeps them in Redis)."""
    groups = getattr(layer, "groups", None)
    return None if groups is None else len(groups.get(group, {}))


async def test_sockets_of_one_process_share_one_group_membership(personas):
    layer = get_channel_layer()
    group = project_group(personas.project.pk)
    first = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")
    second = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.viewer)}")
    assert (await first.receive_json_from(timeout=TIMEOUT))["type"] == "presence.join"
    assert memberships(layer, group) in (1, None)

    await publish_committed("board.card_updated", CARD, project_id=personas.project.pk)
    for socket in (first, second):
        message = await socket.receive_json_from(timeout=TIMEOUT)
        assert (message["type"], message["payload"]) == ("board.card_updated", CARD)

    await first.disconnect()
    assert (await second.receive_json_from(timeout=TIMEOUT))["type"] == "presence.leave"
    await publish_committed("board.card_deleted", CARD, project_id=personas.project.pk)
    assert (await second.receive_json_from(timeout=TIMEOUT))["type"] == "board.card_deleted"
    assert memberships(layer, group) in (1, None)

    await second.disconnect()
    assert memberships(layer, group) in (0, None)


async def test_a_socket_of_another_project_hears_nothing(personas):
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")
    await publish_committed("board.card_updated", CARD, project_id=personas.project.pk + 1000)
    await nothing_more(socket)
    await socket.disconnect()


class Recorder:
    def __init__(self, fails: bool = False) -> None:
        self.messages: list[dict[str, Any]] = []
        self.fails = fails

    async def deliver(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        if self.fails:
            raise RuntimeError("socket gone")


async def test_a_failing_receiver_does_not_stop_the_others_and_memberships_are_renewed(monkeypatch):
    monkeypatch.setattr(fanout_module, "REJOIN_SECONDS", 0.05)
    layer = get_channel_layer()
    if memberships(layer, "project.1") is None:
        pytest.skip("reads the embedded layer's memberships")
    hub = LocalFanout(layer)
    broken, healthy = Recorder(fails=True), Recorder()
    await hub.join("project.1", broken)
    await hub.join("project.1", healthy)
    joined_at = layer.groups["project.1"][hub.channel]

    await layer.group_send("project.1", {"type": "punt.event", "group": "project.1", "event": "one"})
    await layer.group_send("project.1", {"type": "punt.event", "group": "project.1", "event": "two"})
    for _ in range(50):
        if len(healthy.messages) == 2 and layer.groups["project.1"][hub.channel] > joined_at:
            break
        await asyncio.sleep(0.02)
    assert [m["event"] for m in healthy.messages] == ["one", "two"]
    assert [m["event"] for m in broken.messages] == ["one", "two"]
    assert layer.groups["project.1"][hub.channel] > joined_at  # re-joined before the layer's expiry

    await hub.leave("project.1", broken)
    tasks = hub.tasks
    await hub.leave("project.1", healthy)
    assert not layer.groups.get("project.1")
    # With no sockets left the process stops receiving (nothing pending when the loop closes).
    assert hub.tasks == [] and hub.channel is None and all(task.done() for task in tasks)


async def test_a_socket_is_cut_off_even_when_the_last_stream_leaves_the_fan_out_meanwhile(personas, monkeypatch):
    # member.removed reaches mary's socket through the fan-out; while the socket records that she
    # left, her SSE stream (the process's last other receiver) closes. The last receiver leaving
    # stops the fan-out's task, which must not stop the socket's cut-off half-way.
    real_leave = presence.leave
    stream = await SSE("/api/users/events", [(b"authorization", f"Bearer {jwt_for(personas.member)}".encode())]).start()

    async def stream_closes_meanwhile(*args: Any) -> bool:
        await stream.close()
        return await real_leave(*args)

    monkeypatch.setattr(presence, "leave", stream_closes_meanwhile)
    mary = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")
    removed = {"user_id": personas.member.pk, "project_id": personas.project.pk}
    await publish_committed("member.removed", removed, project_id=personas.project.pk)

    message = await mary.receive_output(timeout=TIMEOUT)
    assert (message["type"], message["code"]) == ("websocket.close", 4403)
