"""The embedded channel layer: Channels' in-memory layer with a rate-limited expiry sweep."""

from __future__ import annotations

import asyncio

import pytest

from punt.realtime.layers import InMemoryChannelLayer


async def test_messages_are_delivered_in_order():
    layer = InMemoryChannelLayer()
    channel = await layer.new_channel()
    await layer.group_add("project.1", channel)
    for number in range(3):
        await layer.group_send("project.1", {"type": "punt.event", "n": number})
    received = [await asyncio.wait_for(layer.receive(channel), timeout=2) for _ in range(3)]
    assert [message["n"] for message in received] == [0, 1, 2]


async def test_expired_messages_are_still_swept(monkeypatch):
    layer = InMemoryChannelLayer(expiry=1)
    stale, fresh = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("project.1", stale)
    await layer.group_add("project.1", fresh)
    clock = [1000.0]
    monkeypatch.setattr("channels.layers.time.time", lambda: clock[0])
    monkeypatch.setattr("punt.realtime.layers.time.monotonic", lambda: clock[0])
    await layer.group_send("project.1", {"type": "punt.event", "n": 1})
    assert (await layer.receive(fresh))["n"] == 1  # the live socket keeps up; the stale one never reads

    clock[0] += 5  # past the expiry and the sweep interval
    await layer.group_send("project.1", {"type": "punt.event", "n": 2})

    # The stale channel's unread message expired: it left the group, as with Channels' layer.
    assert stale not in layer.groups["project.1"]
    assert (await asyncio.wait_for(layer.receive(fresh), timeout=2))["n"] == 2


@pytest.mark.parametrize("calls", [1000])
async def test_sweeps_at_most_once_per_interval(monkeypatch, calls):
    layer = InMemoryChannelLayer()
    sweeps = []
    monkeypatch.setattr("channels.layers.InMemoryChannelLayer._clean_expired", lambda self: sweeps.append(1))
    for _ in range(calls):
        layer._clean_expired()
    assert len(sweeps) == 1


async def test_a_group_send_reaches_every_member_with_one_copy_of_the_message():
    layer = InMemoryChannelLayer()
    channels = [await layer.new_channel() for _ in range(50)]
    for channel in channels:
        await layer.group_add("project.1", channel)
    message = {"type": "punt.event", "payload": {"card": {"id": 7}}}
    await layer.group_send("project.1", message)
    message["payload"]["card"]["id"] = 8  # the sender's dict is not what receivers get
    received = [await asyncio.wait_for(layer.receive(channel), timeout=2) for channel in channels]
    assert all(item["payload"]["card"]["id"] == 7 for item in received)
    assert len({id(item) for item in received}) == 1


async def test_a_full_channel_misses_the_message_and_the_others_still_get_it():
    layer = InMemoryChannelLayer(capacity=1)
    slow, live = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("project.1", slow)
    await layer.group_add("project.1", live)
    await layer.group_send("project.1", {"type": "punt.event", "n": 1})
    assert (await layer.receive(live))["n"] == 1
    await layer.group_send("project.1", {"type": "punt.event", "n": 2})  # slow's queue is full
    assert (await layer.receive(live))["n"] == 2
    assert (await layer.receive(slow))["n"] == 1
    with pytest.raises(TimeoutError):  # and never message 2
        await asyncio.wait_for(layer.receive(slow), timeout=0.1)


async def test_a_group_send_to_an_empty_group_does_nothing():
    layer = InMemoryChannelLayer()
    await layer.group_send("project.404", {"type": "punt.event"})
    assert layer.channels == {}
