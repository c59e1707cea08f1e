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
