"""Each process joins a bus group once and hands its messages to its own sockets.

With a channel-layer channel per socket, one change reaching a thousand sockets of a
process was a thousand layer messages: a thousand queue puts and task wake-ups in memory,
and with Redis about four round trips each (373 ms at p99 for 1,000 sockets). Here the
process has one channel per layer; it joins a group when its first socket does, leaves it
with its last, and delivers each message to the group's sockets in one loop, in order.

SSE streams (punt.realtime.sse) receive through it too, each with a bounded queue.

Messages say which group they were sent to (punt.events.send_to_groups adds `group`). The
process receives while it has sockets in some group.
Group memberships expire in channel layers (a day by default), so the process re-joins
its groups well before that.

They are also lost when Redis restarts, and cannot be made while it is down: a socket that
connects during an outage is still accepted and joined here. Whenever the layer fails
(joining, or receiving), the process re-joins every group it holds, retrying with a short
back-off, so its sockets get events again within seconds of Redis answering.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from punt import redis_outage

logger = logging.getLogger("punt.realtime")

REJOIN_SECONDS = 3600.0
_handing_out: set[asyncio.Task[None]] = set()
_stopping: set[asyncio.Task[None]] = set()
STOP_WAIT_SECONDS = 0.2
# Back-off between attempts to re-join the groups after the layer failed.
RETRY_FIRST_SECONDS = 0.2
RETRY_MAX_SECONDS = 2.0


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
        self.rejoining: asyncio.Task[None] | None = None

    async def join(self, group: str, receiver: Receiver) -> None:
        async with self.lock:
            members = self.members.get(group)
            if members:
                members.add(receiver)
                return
            if self.channel is None:
                self.channel = await self.layer.new_channel()
                self.tasks = [self.loop.create_task(self._deliver()), self.loop.create_task(self._rejoin())]
            self.members[group] = {receiver}
            try:
                await self.layer.group_add(group, self.channel)
            except Exception as error:  # noqa: BLE001 - any layer failure: handed to _layer_failed
                stop_if_cancelled()
                # The socket stays: it gets events once the layer is back (_rejoin_until_done).
                self._layer_failed(error, f"Could not join {group}")

    async def leave(self, group: str, receiver: Receiver) -> None:
        async with self.lock:
            members = self.members.get(group)
            if not members or receiver not in members:
                return
            members.discard(receiver)
            if not members:
                del self.members[group]
                try:
                    await self.layer.group_discard(group, self.channel)
                except Exception as error:  # noqa: BLE001 - any layer failure: handed to _layer_failed
                    stop_if_cancelled()
                    # The membership expires in the layer; messages for it find no socket here.
                    self._layer_failed(error, f"Could not leave {group}")
            if not self.members:
                # The last socket left: stop receiving, as each socket's own receive stopped
                # when it closed (a receive left pending until the event loop closes can
                # keep a Redis read, and the loop's shutdown, waiting).
                tasks, self.tasks, self.channel = self.tasks, [], None
                if self.rejoining is not None:
                    tasks.append(self.rejoining)
                    self.rejoining = None
                for task in tasks:
                    task.cancel()
                    _stopping.add(task)
                    task.add_done_callback(_stopping.discard)
                # A cancelled channels-redis read can take seconds (its blocking read's timeout) to
                # end: the socket or stream that leaves last does not wait for it that long.
                await asyncio.wait(tasks, timeout=STOP_WAIT_SECONDS)

    def _layer_failed(self, error: Exception, what: str) -> None:
        """The layer did not answer: log it (once per outage when it is Redis), and have the
        process re-join its groups until the layer takes them again."""
        if isinstance(error, redis_outage.ERRORS):
            redis_outage.outage.failed(error, "channel_layer")
        else:
            logger.error("%s", what, exc_info=error)
        if self.rejoining is None and self.channel is not None:
            self.rejoining = self.loop.create_task(self._rejoin_until_done())

    async def _rejoin_until_done(self) -> None:
        delay = RETRY_FIRST_SECONDS
        while True:
            await asyncio.sleep(delay)
            async with self.lock:
                try:
                    for group in list(self.members):
                        await self.layer.group_add(group, self.channel)
                except Exception:  # noqa: BLE001 - still failing: try again after the back-off
                    stop_if_cancelled()
                    delay = min(delay * 2, RETRY_MAX_SECONDS)
                    continue
                self.rejoining = None
                redis_outage.outage.succeeded()
                logger.info("Re-joined %d groups after the channel layer failed", len(self.members))
                return

    async def _deliver(self) -> None:
        delay = RETRY_FIRST_SECONDS
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except Exception as error:  # noqa: BLE001 - any layer failure: handed to _layer_failed
                stop_if_cancelled()
                # A Redis that restarted has forgotten the process's groups: join them again.
                self._layer_failed(error, "Could not receive bus messages")
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
                continue
            delay = RETRY_FIRST_SECONDS
            hand_out = self.loop.create_task(self._hand_out(message))
            _handing_out.add(hand_out)
            hand_out.add_done_callback(_handing_out.discard)
            # Shielded: this task is cancelled when the last receiver leaves, and that may be a
            # receiver handling this very message (a socket cut off by member.removed, or a
            # stream ending while a socket is closing): what they do runs to its end.
            await asyncio.shield(hand_out)

    async def _hand_out(self, message: dict[str, Any]) -> None:
        for receiver in tuple(self.members.get(str(message.get("group")), ())):
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
                        stop_if_cancelled()
                        logger.exception("Could not renew the process's membership of %s", group)


def stop_if_cancelled() -> None:
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
