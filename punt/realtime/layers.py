"""The embedded (no Redis) channel layer: Channels' in-memory layer, tuned for many sockets."""

from __future__ import annotations

import asyncio
import time
from copy import deepcopy
from typing import Any

from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer


class InMemoryChannelLayer(ChannelsInMemoryChannelLayer):
    """Channels' in-memory layer, with group sends and expiry sweeps that scale with sockets.

    The stock layer walks every channel's queue on every receive and every group send, so one
    event fanned out to a thousand sockets did a million queue checks; here expired messages
    are swept at most once a second (they expire after a minute: nothing a client can see).

    A channel's queue lives as long as someone receives on it, not one message.

    The stock group send also starts a task per member and deep-copies the message for each,
    so the first socket hears of a change only after a thousand copies. Here the message is
    copied once per group send and queued straight onto every member's channel: receivers
    share that copy (PUNT's consumers and streams only read their messages).
    """

    sweep_interval = 1.0

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._last_sweep = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._last_sweep < self.sweep_interval:
            return
        self._last_sweep = now
        super()._clean_expired()
        # Queues nobody waits on any more and that hold nothing (a socket that closed between
        # two receives): asyncio.Queue keeps its waiting receivers in _getters.
        for channel, queue in list(self.channels.items()):
            if queue.empty() and not queue._getters:
                del self.channels[channel]

    def _queue(self, channel: str) -> asyncio.Queue:
        # The stock layer builds a throwaway Queue for every send and receive (setdefault's argument).
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        return queue

    async def receive(self, channel: str) -> dict[str, Any]:
        self.require_valid_channel_name(channel)
        self._clean_expired()
        queue = self._queue(channel)
        try:
            _, message = await queue.get()
        except BaseException:
            # The receiver went away (a closed socket cancels its receive): forget its queue. A
            # receiver that got its message keeps it for the next one, rather than making a new
            # queue for every message of every socket (the stock layer drops it when empty).
            if queue.empty():
                self.channels.pop(channel, None)
            raise
        return message

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        members = list(self.groups.get(group, ()))
        if not members:
            return
        entry = (time.time() + self.expiry, deepcopy(message))
        for channel in members:
            queue = self._queue(channel)
            # A full channel misses the message, as with the stock layer's ChannelFull.
            if not queue.full():
                queue.put_nowait(entry)
