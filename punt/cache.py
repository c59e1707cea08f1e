"""Django's Redis cache with one client (and connection pool) per process.

Django keeps a cache backend per async context, and under daphne each request runs in a
context of its own: every request built a new client, a new pool and a new connection to
Redis for the rate limiter (~2 ms of CPU a request, and a socket left to the garbage
collector). The client and its pool are thread-safe, so one serves them all.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import Any

from django.core.cache.backends.redis import RedisCache

_clients: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()


class SharedRedisCache(RedisCache):
    # Set by RedisCache.__init__ (not in django-stubs): tests/ops/test_internals_shape.py checks them.
    _class: Any
    _servers: list[str]
    _options: dict[str, Any]

    @cached_property
    def _cache(self) -> Any:
        key = (self._class, tuple(self._servers), repr(sorted(self._options.items())))
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = self._class(self._servers, **self._options)
        return client
