"""Live PQL subscriptions on a project socket: `subscribe` / `unsubscribe` and the view.* messages.

The matching is tickets.live's; this module runs it for sockets. Each socket keeps its views and
works through its subscription messages and ticket events one at a time, in order, in a task of
its own (the process's fan-out never waits for it, nor for the database). A ticket event's facts
are loaded once per process (`shared_facts`: the first socket that needs them starts the load,
the others await the same one), so an event costs three queries in each process that has
subscribers on the project, however many subscribers and queries there are.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async

from projects.models import Project
from punt import errors
from tickets import live, pql

logger = logging.getLogger("punt.realtime")

MAX_VIEWS = 20  # per socket
VIEW_ID_MAX = 64
QUERY_MAX = 2000

Send = Callable[[dict[str, Any]], Awaitable[None]]


class SharedFacts:
    """The facts of recent events' tickets, loaded once per process however many sockets ask."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.loads: OrderedDict[tuple[Any, int], asyncio.Task[pql.Facts | None]] = OrderedDict()

    async def get(self, message: dict[str, Any], ticket_id: int) -> pql.Facts | None:
        loop = asyncio.get_running_loop()
        # The bus numbers every event (its time stamps it too, should numbering fail); the same
        # message reaches every socket of the process, and other processes load their own.
        key = (message.get("id") or message.get("ts") or id(message), ticket_id)
        task = self.loads.get(key)
        if task is None or task.get_loop() is not loop:  # tests run a loop per test
            task = loop.create_task(_load_facts(ticket_id))
            self.loads[key] = task
            while len(self.loads) > self.size:
                self.loads.popitem(last=False)
        # Shielded: a socket closing while it waits does not cancel the load the others share.
        return await asyncio.shield(task)

    def clear(self) -> None:
        self.loads.clear()


@database_sync_to_async
def _load_facts(ticket_id: int) -> pql.Facts | None:
    return pql.load_facts([ticket_id]).get(ticket_id)


shared_facts = SharedFacts()


@database_sync_to_async
def _open_view(view_id: str, text: str, project: Project, user: Any) -> live.LiveView:
    return live.open_view(view_id, text, project=project, user=user)


def _error(message: str, view_id: Any = None, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"message": message}
    if view_id is not None:
        payload["id"] = view_id
    if details:
        payload["details"] = details
    return {"type": "error", "payload": payload}


class SocketViews:
    """One socket's live views, worked through in order by one task."""

    def __init__(self, *, project: Project, user: Any, send: Send) -> None:
        self.project = project
        self.user = user
        self.send = send
        self.views: dict[str, live.LiveView] = {}
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.worker: asyncio.Task[None] | None = None

    def request(self, content: dict[str, Any]) -> None:
        """A client's subscribe or unsubscribe message, answered in turn."""
        self._put(str(content.get("type")), content)

    def event(self, message: dict[str, Any], *, echo: bool) -> None:
        """A bus event of the project: read by the views if it is about a ticket."""
        # Queued once anything was asked, so an event that follows a subscribe still being
        # opened is read after it (the view's first query sees what came before).
        if self.worker is None:
            return
        if live.event_ticket_id(str(message.get("event")), message.get("payload") or {}) is not None:
            self._put("event", (message, echo))

    def _put(self, kind: str, item: Any) -> None:
        self.queue.put_nowait((kind, item))
        if self.worker is None:
            self.worker = asyncio.get_running_loop().create_task(self._work())

    async def close(self) -> None:
        worker, self.worker = self.worker, None
        self.views.clear()
        if worker is None:
            return
        worker.cancel()
        try:
            await worker
        except asyncio.CancelledError:
            # The worker's own cancellation ends here; this task's (the consumer stopped) goes on.
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise

    async def _work(self) -> None:
        while True:
            kind, item = await self.queue.get()
            try:
                if kind == "subscribe":
                    await self._subscribe(item)
                elif kind == "unsubscribe":
                    await self._unsubscribe(item)
                else:
                    await self._event(*item)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Could not handle a live view's %s", kind)
                if kind != "event":  # the client waits for an answer
                    await self.send(_error("The server could not handle this; try again.", item.get("id")))

    async def _subscribe(self, content: dict[str, Any]) -> None:
        view_id, text = content.get("id"), content.get("q")
        if not isinstance(view_id, str) or not 0 < len(view_id) <= VIEW_ID_MAX:
            await self.send(_error(f"A subscription needs an id: a string of 1 to {VIEW_ID_MAX} characters."))
            return
        if not isinstance(text, str) or len(text) > QUERY_MAX:
            await self.send(_error(f"'q' must be a PQL query of at most {QUERY_MAX} characters.", view_id))
            return
        if view_id not in self.views and len(self.views) >= MAX_VIEWS:
            await self.send(_error(f"At most {MAX_VIEWS} subscriptions per socket.", view_id))
            return
        try:
            view = await _open_view(view_id, text, self.project, self.user)
        except errors.PuntError as exc:  # pql.PqlError: the message and its position
            await self.send(_error(exc.message, view_id, list(exc.details)))
            return
        # The same id again replaces its query (a board whose filter changed).
        self.views[view_id] = view
        await self.send({"type": "subscribed", "payload": {"id": view_id, "q": text}})

    async def _unsubscribe(self, content: dict[str, Any]) -> None:
        view_id = content.get("id")
        if not isinstance(view_id, str) or self.views.pop(view_id, None) is None:
            await self.send(_error("No subscription has this id.", view_id if isinstance(view_id, str) else None))
            return
        await self.send({"type": "unsubscribed", "payload": {"id": view_id}})

    async def _event(self, message: dict[str, Any], echo: bool) -> None:
        if not self.views:
            return
        event, payload = str(message.get("event")), message.get("payload") or {}
        ticket_id = live.event_ticket_id(event, payload)
        if ticket_id is None:
            return
        facts = None if event == live.GONE else await shared_facts.get(message, ticket_id)
        for _view, change in live.changes(self.views.values(), event=event, payload=payload, facts=facts):
            # The tab that made the change shows it already; whether its card is still in the
            # view it may not know, so entered and left are sent to it too.
            if echo and change["type"] == live.UPDATED:
                continue
            await self.send(change)
