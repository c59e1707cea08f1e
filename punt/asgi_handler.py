"""Django's HTTP handler for daphne, tuned for PUNT's sync views.

Django's own ASGIHandler starts a new thread for every request (a fresh
`ThreadSensitiveContext`) and, with sync middleware and sync views, hops between
that thread and the event loop five or six times per request. Under load the
threads fight over the GIL and every request opens a new database connection.

This handler runs the whole middleware chain and the view in one hop, on one of
a fixed pool of long-lived threads (`PUNT_SYNC_THREADS`). With `PUNT_SYNC_SPILL_MS`
set, a request goes to the first thread that is not running a view for longer
than that: on SQLite (one writer) requests queue on one thread, which is fastest,
and a slow one (a backup, an export) spills the others onto the next thread
instead of holding them up. Without it (PostgreSQL), a request goes to the thread
with the fewest requests in flight, so they spread over the threads, leaving out a
thread whose view has run past `PUNT_SYNC_STUCK_MS` (stuck on a slow query) while
another thread can take it.

A client that disconnects while its view runs does not leave the view's statement
running: the handler stops it (punt.db.stop_running_statement), and the view ends
with the statement's error, which nobody reads.

A request holds its place on a thread (counts as in flight there) until its view returns,
not until its response is sent: a streaming response (an SSE stream open for minutes) is
sent from the event loop and must not make its thread look busy.

Threads and their database connections live as long as the process, so
`DATABASE_CONN_MAX_AGE` can keep connections open. Async views (the SSE streams)
still work: Django runs them through `async_to_sync`, and their own sync calls
come back to the same thread.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import FileResponse

from punt import db


class ThreadPool:
    """Single-thread executors and the choice of one for each request."""

    def __init__(
        self,
        size: int,
        *,
        spill_after: float = 0.0,
        stuck_after: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.executors = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"punt-sync-{index}") for index in range(size)
        ]
        self.in_flight = [0] * size
        self.running_since: list[float | None] = [None] * size  # when the view running there started
        self.spill_after = spill_after
        self.stuck_after = stuck_after
        self.clock = clock
        self.lock = threading.Lock()

    def acquire(self) -> int:
        with self.lock:
            index = self._choose()
            self.in_flight[index] += 1
            return index

    def _choose(self) -> int:
        now = self.clock()
        if self.spill_after:
            for index, since in enumerate(self.running_since):
                if since is None or now - since < self.spill_after:
                    return index
        candidates: Sequence[int] = range(len(self.executors))
        if self.stuck_after:
            # A thread with few requests in flight may have them because its view is stuck.
            moving = [index for index in candidates if not self._runs_longer_than(index, self.stuck_after, now)]
            candidates = moving or candidates
        return min(candidates, key=self.in_flight.__getitem__)

    def _runs_longer_than(self, index: int, limit: float, now: float) -> bool:
        since = self.running_since[index]
        return since is not None and now - since >= limit

    def release(self, index: int) -> None:
        with self.lock:
            self.in_flight[index] -= 1

    def running(self, index: int, since: float | None) -> None:
        with self.lock:
            self.running_since[index] = since


class _Slot:
    """A request's place on one of the pool's threads, given back once.

    While its view runs, `connection` is the database connection of the view's thread.
    """

    def __init__(self, pool: ThreadPool, index: int) -> None:
        self.pool = pool
        self.index = index
        self.held = True
        self.connection: BaseDatabaseWrapper | None = None

    def stop_statement(self) -> None:
        """Stop the statement the view runs, if the view still runs (its client left)."""
        with self.pool.lock:  # the view's thread clears `connection` under it when the view returns
            wrapper = self.connection
            if wrapper is not None and wrapper.vendor == "sqlite":
                db.stop_running_statement(wrapper)  # instant; ends only what runs now
                return
        if wrapper is not None:
            db.stop_running_statement(wrapper)  # a round trip to the server: not under the lock

    def release(self) -> None:
        if self.held:
            self.held = False
            self.pool.release(self.index)


# Django runs the view in a task of its own (a copy of this context): the slot is shared, not copied.
_slot: contextvars.ContextVar[_Slot] = contextvars.ContextVar("punt_sync_slot")


class PooledThreadASGIHandler(ASGIHandler):
    def __init__(self, threads: int, *, spill_after: float = 0.0, stuck_after: float = 0.0) -> None:
        base.BaseHandler.__init__(self)
        # The sync chain: middleware and view run in one call on the request's thread.
        self.load_middleware(is_async=False)
        self.pool = ThreadPool(threads, spill_after=spill_after, stuck_after=stuck_after)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        slot = _Slot(self.pool, self.pool.acquire())
        token = _slot.set(slot)
        try:
            # The response is sent (and closed) in this context too: a streaming response's own
            # thread-sensitive calls still come back to the request's thread.
            async with ThreadSensitiveContext(executor=self.pool.executors[slot.index]):
                await self.handle(scope, receive, send)
        finally:
            _slot.reset(token)
            slot.release()  # a request that never reached its view (the client left)

    def _get_response_timed(self, request: Any) -> Any:
        slot = _slot.get()
        self.pool.running(slot.index, self.pool.clock())
        with self.pool.lock:
            slot.connection = connections["default"]  # this thread's
        try:
            return self.get_response(request)
        finally:
            with self.pool.lock:
                slot.connection = None
            self.pool.running(slot.index, None)

    async def run_get_response(self, request: Any) -> Any:
        slot = _slot.get()
        try:
            response = await sync_to_async(self._get_response_timed, thread_sensitive=True)(request)
        except asyncio.CancelledError:
            # Django cancels the request's task when the client disconnects; the view's thread
            # runs on regardless, until its statement is stopped.
            asyncio.get_running_loop().run_in_executor(None, slot.stop_statement)
            raise
        finally:
            slot.release()
        response._handler_class = self.__class__
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        return response
