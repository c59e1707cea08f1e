"""Presence on the project socket: who is here, who joins, who leaves (seed 004)."""

from __future__ import annotations

import asyncio

import pytest

from accounts.serializers import user_brief
from punt.realtime.presence import presence
from tests.realtime.conftest import TIMEOUT, jwt_for, nothing_more, ws_connect

pytestmark = pytest.mark.django_db(transaction=True)


async def connect(personas, role: str):
    socket = await ws_connect(f"/api/v1/ws/blog?token={jwt_for(personas.user(role))}")
    state = await socket.receive_json_from(timeout=TIMEOUT)
    assert state["type"] == "presence.state"
    return socket, [user["username"] for user in state["payload"]["users"]]


async def test_join_state_and_leave(personas):
    mary, present = await connect(personas, "member")
    assert present == ["mary"]

    adam, present = await connect(personas, "admin")
    assert present == ["adam", "mary"]
    assert await mary.receive_json_from(timeout=TIMEOUT) == {
        "type": "presence.join",
        "payload": {"user_id": personas.admin.pk, "user": user_brief(personas.admin)},
    }
    await nothing_more(adam)  # no echo of one's own join

    await adam.disconnect()
    assert await mary.receive_json_from(timeout=TIMEOUT) == {
        "type": "presence.leave",
        "payload": {"user_id": personas.admin.pk, "user": user_brief(personas.admin)},
    }
    await mary.disconnect()
    assert await presence.user_ids(personas.project.pk) == set()


async def test_a_second_tab_is_not_a_second_join_and_the_user_stays_until_the_last_tab_closes(personas):
    victor, _ = await connect(personas, "viewer")
    mary_1, _ = await connect(personas, "member")
    assert (await victor.receive_json_from(timeout=TIMEOUT))["type"] == "presence.join"

    mary_2, present = await connect(personas, "member")
    assert present == ["mary", "victor"]
    await nothing_more(victor)

    await mary_1.disconnect()
    await nothing_more(victor)
    await mary_2.disconnect()
    assert (await victor.receive_json_from(timeout=TIMEOUT))["type"] == "presence.leave"
    await victor.disconnect()


async def test_presence_recorded_by_another_process_is_reported(personas):
    # Another daphne process wrote this entry into the shared store.
    await presence.join(personas.project.pk, personas.owner.pk, "specific.elsewhere!abc")
    mary, present = await connect(personas, "member")
    assert present == ["mary", "olivia"]
    await mary.disconnect()


async def test_entries_of_a_dead_process_expire_and_pings_keep_the_living(personas, settings):
    settings.PUNT_PRESENCE_TTL_SECONDS = 0.6
    await presence.join(personas.project.pk, personas.owner.pk, "specific.crashed!abc")
    mary, present = await connect(personas, "member")
    assert present == ["mary", "olivia"]

    await asyncio.sleep(1.0)  # the crashed entry is never refreshed; mary's heartbeat runs
    await mary.send_json_to({"type": "ping"})
    assert await mary.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}
    assert await presence.user_ids(personas.project.pk) == {personas.member.pk}
    await mary.disconnect()


async def test_a_socket_stopped_while_its_heartbeat_ends_stays_stopped():
    # A closing event loop cancels every task and waits for them: a socket that swallowed its
    # own cancellation while waiting for its heartbeat to end kept its loop (and the process's
    # shutdown) waiting forever.
    from punt.realtime.consumers import ProjectConsumer

    async def heartbeat_slow_to_end() -> None:
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            await asyncio.sleep(0.5)  # a presence write still in flight
            raise

    consumer = ProjectConsumer()
    consumer.present = False
    consumer.heartbeat = asyncio.create_task(heartbeat_slow_to_end())
    await asyncio.sleep(0)
    leaving = asyncio.create_task(consumer._leave_presence())
    await asyncio.sleep(0.05)
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving
