"""Django's HTTP handler for daphne, tuned for PUNT's sync views.

Django's own ASGIHandler starts a new thread for every request (a fresh
`ThreadSensitiveContext`) and, with sync middleware and sync views, hops between
that thread and the event loop five or six times per request. Under load the
threads fight over the GIL and every request opens a new database connection.

This handler runs the whole middleware chain and the view in one hop, on one of
a fixed pool of long-lived threads (`PUNT_SYNC_THREADS`): the request goes to
the thread with the fewest requests in flight. Threads and their database
connections live as long as the process, so `DATABASE_CONN_MAX_AGE` can keep
connections open. Async views (the SSE streams) still work: Django runs them
through `async_to_sync`, and their own sync calls come back to the same thread.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler
from django.http import FileResponse


class ThreadPool:
    """Single-thread executors, handed out to requests by the fewest in flight."""

    def __init__(self, size: int) -> None:
        self.executors = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"punt-sync-{index}") for index in range(size)
        ]
        self.in_flight = [0] * size
        self.lock = threading.Lock()

    def acquire(self) -> int:
        with self.lock:
            index = min(range(len(self.executors)), key=self.in_flight.__getitem__)
            self.in_flight[index] += 1
            return index

    def release(self, index: int) -> None:
        with self.lock:
            self.in_flight[index] -= 1


class PooledThreadASGIHandler(ASGIHandler):
    def __init__(self, threads: int) -> None:
        base.BaseHandler.__init__(self)
        # The sync chain: middleware and view run in one call on the request's thread.
        self.load_middleware(is_async=False)
        self.pool = ThreadPool(threads)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        index = self.pool.acquire()
        try:
            async with ThreadSensitiveContext(executor=self.pool.executors[index]):
                await self.handle(scope, receive, send)
        finally:
            self.pool.release(index)

    async def run_get_response(self, request: Any) -> Any:
        response = await sync_to_async(self.get_response, thread_sensitive=True)(request)
        response._handler_class = self.__class__
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        return response
