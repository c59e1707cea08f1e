"""punt.events: delivery after commit, and a publish never fails or blocks its caller."""

from __future__ import annotations

import asyncio
import time

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from punt import events
from punt.realtime import conf
from punt.realtime.backend import replay_buffer
from tests.realtime.conftest import TIMEOUT, jwt_for, publish_committed, ws_project

pytestmark = pytest.mark.django_db(transaction=True)


async def test_each_event_gets_a_growing_id_and_is_kept_for_replay(personas):
    for number in range(3):
        await publish_committed("board.card_updated", {"id": number}, project_id=personas.project.pk)
    kept = await asyncio.to_thread(replay_buffer.since, [events.project_group(personas.project.pk)], 0)
    assert [record["payload"]["id"] for record in kept] == [0, 1, 2]
    ids = [record["id"] for record in kept]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert all(record["ts"] for record in kept)


async def test_replay_buffer_is_bounded(personas, settings):
    settings.PUNT_REALTIME_REPLAY_SIZE = 5
    for number in range(8):
        await publish_committed("board.card_updated", {"id": number}, project_id=personas.project.pk)
    kept = await asyncio.to_thread(replay_buffer.since, [events.project_group(personas.project.pk)], 0)
    assert [record["payload"]["id"] for record in kept] == [3, 4, 5, 6, 7]


async def test_a_failing_channel_layer_does_not_fail_the_publisher(personas, monkeypatch, caplog):
    layer = get_channel_layer()

    async def broken(group, message):
        raise ConnectionError("redis is gone")

    monkeypatch.setattr(layer, "group_send", broken)
    before = events.counters["send_failed"]
    await publish_committed("board.card_created", {"id": 1}, project_id=personas.project.pk, user_ids=[1])
    assert events.counters["send_failed"] == before + 2
    assert "Could not publish board.card_created" in caplog.text


async def test_a_hanging_channel_layer_is_cut_off_by_the_send_timeout(personas, monkeypatch, settings):
    settings.PUNT_EVENTS_SEND_TIMEOUT = 0.2
    layer = get_channel_layer()

    async def hangs(group, message):
        await asyncio.sleep(30)

    monkeypatch.setattr(layer, "group_send", hangs)
    before = events.counters["send_timeout"]
    started = time.monotonic()
    await publish_committed("board.card_created", {"id": 1}, project_id=personas.project.pk)
    assert time.monotonic() - started < 2
    assert events.counters["send_timeout"] == before + 1


async def test_an_unreachable_redis_for_replay_still_delivers_live(personas, monkeypatch, caplog):
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")
    with monkeypatch.context() as patched:
        patched.setattr(conf, "redis_url", lambda: "redis://127.0.0.1:1/0")  # nothing listens there
        started = time.monotonic()
        await publish_committed("board.card_moved", {"id": 1}, project_id=personas.project.pk)
        assert time.monotonic() - started < 3
    assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": "board.card_moved", "payload": {"id": 1}}
    assert "Could not record board.card_moved for replay" in caplog.text
    await socket.disconnect()


async def test_publish_outside_a_transaction_is_sent_at_once(personas):
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")
    await database_sync_to_async(events.publish)("label.created", {"id": 1}, project_id=personas.project.pk)
    assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": "label.created", "payload": {"id": 1}}
    await socket.disconnect()


async def test_publish_called_on_the_event_loop_does_not_block_it(personas):
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")
    # Straight from async code, no transaction: the send becomes a task on this loop.
    events.publish("label.deleted", {"id": 1}, project_id=personas.project.pk)
    assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": "label.deleted", "payload": {"id": 1}}
    await socket.disconnect()


def test_publish_without_groups_is_a_no_op(db):
    with transaction.atomic():
        events.publish("nothing.here", {})


def test_user_ids_are_deduplicated(db, monkeypatch):
    sent = []
    monkeypatch.setattr(events, "_dispatch", lambda groups, message: sent.append(groups))
    with transaction.atomic():
        events.publish("notification.ticket", {}, project_id=3, user_ids=[5, 5, 6])
    assert sent == [["project.3", "user.5", "user.6"]]


async def test_committed_events_and_open_sockets_reach_the_prometheus_metrics(personas):
    from prometheus_client import REGISTRY

    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0

    published = sample("punt_events_published_total", event="label.created")
    sockets = sample("punt_websocket_connections")
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")
    assert sample("punt_websocket_connections") == sockets + 1

    @database_sync_to_async
    def rolled_back() -> None:
        with pytest.raises(RuntimeError), transaction.atomic():
            events.publish("label.created", {"id": 1}, project_id=personas.project.pk)
            raise RuntimeError

    await rolled_back()
    await publish_committed("label.created", {"id": 2}, project_id=personas.project.pk)
    assert (await socket.receive_json_from(timeout=TIMEOUT))["payload"] == {"id": 2}
    assert sample("punt_events_published_total", event="label.created") == published + 1
    await socket.disconnect()
    assert sample("punt_websocket_connections") == sockets
