"""Each process joins a bus group once and hands its messages to its own sockets.

With a channel-layer channel per socket, one change reaching a thousand sockets of a
process was a thousand layer messages: a thousand queue puts and task wake-ups in memory,
and with Redis about four round trips each (373 ms at p99 for 1,000 sockets). Here the
process has one channel per layer; it joins a group when its first socket does, leaves it
with its last, and delivers each message to the group's sockets in one loop, in order.

Messages say which group they were sent to (punt.events.send_to_groups adds `group`). The
process receives while it has sockets in some group.
Group memberships expire in channel layers (a day by default), so the process re-joins
its groups well before that.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

logger = logging.getLogger("punt.realtime")

REJOIN_SECONDS = 3600.0


class Receiver(Protocol):
    async def deliver(self, message: dict[str, Any]) -> None: ...


class LocalFanout:
    """The sockets of this process by group, behind one channel of `layer`."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.loop = asyncio.get_running_loop()
        self.members: dict[str, set[Receiver]] = {}
        # Joining and leaving touch the layer; one at a time, so a group is never left
        # while another socket of the process is joining it.
        self.lock = asyncio.Lock()
        self.channel: str | None = None
        self.tasks: list[asyncio.Task[None]] = []

    async def join(self, group: str, receiver: Receiver) -> None:
        async with self.lock:
            members = self.members.get(group)
            if members:
                members.add(receiver)
                return
            if self.channel is None:
                self.channel = await self.layer.new_channel()
                self.tasks = [self.loop.create_task(self._deliver()), self.loop.create_task(self._rejoin())]
            await self.layer.group_add(group, self.channel)
            self.members[group] = {receiver}

    async def leave(self, group: str, receiver: Receiver) -> None:
        async with self.lock:
            members = self.members.get(group)
            if not members or receiver not in members:
                return
            members.discard(receiver)
            if not members:
                del self.members[group]
                await self.layer.group_discard(group, self.channel)
            if not self.members:
                # The last socket left: stop receiving, as each socket's own receive stopped
                # when it closed (a receive left pending until the event loop closes can
                # keep a Redis read, and the loop's shutdown, waiting).
                tasks, self.tasks, self.channel = self.tasks, [], None
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    async def _deliver(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except Exception:
                _stop_if_cancelled()
                logger.exception("Could not receive bus messages")
                await asyncio.sleep(1)
                continue
            for receiver in tuple(self.members.get(message.get("group"), ())):
                try:
                    await receiver.deliver(message)
                except Exception:
                    logger.exception("Could not deliver %s", message.get("event") or message.get("type"))

    async def _rejoin(self) -> None:
        while True:
            await asyncio.sleep(REJOIN_SECONDS)
            async with self.lock:
                for group in list(self.members):
                    try:
                        await self.layer.group_add(group, self.channel)
                    except Exception:
                        _stop_if_cancelled()
                        logger.exception("Could not renew the process's membership of %s", group)


def _stop_if_cancelled() -> None:
    """Raise CancelledError if this task was cancelled: a Redis client can turn the cancellation
    of a pending read into a connection error, and a loop that logged it and went on would
    never end (a closing event loop waits for it)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def fanout(layer: Any) -> LocalFanout:
    """The process's LocalFanout for `layer` on the running event loop."""
    hub = getattr(layer, "_punt_fanout", None)
    if hub is None or hub.loop is not asyncio.get_running_loop():
        # A new loop (tests start one per test) has none of the old one's tasks.
        hub = layer._punt_fanout = LocalFanout(layer)
    return hub
