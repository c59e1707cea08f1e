"""Django's Redis cache with one client (and connection pool) per process, that outlives Redis.

Django keeps a cache backend per async context, and under daphne each request runs in a
context of its own: every request built a new client, a new pool and a new connection to
Redis for the rate limiter (~2 ms of CPU a request, and a socket left to the garbage
collector). The client and its pool are thread-safe, so one serves them all.

While Redis is unreachable every operation is served by a cache in this process's memory
instead (punt.redis_outage): the rate limits and cached settings keep working, per process,
rather than every request failing with a 500.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

from punt import redis_outage
from punt.ops import metrics

_clients: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()
T = TypeVar("T")
FALLBACK_MAX_ENTRIES = 20_000


class SharedRedisCache(RedisCache):
    # Set by RedisCache.__init__ (not in django-stubs): tests/ops/test_internals_shape.py checks them.
    _class: Any
    _servers: list[str]
    _options: dict[str, Any]

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._params = params

    @cached_property
    def _cache(self) -> Any:
        key = (self._class, tuple(self._servers), repr(sorted(self._options.items())))
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = self._class(self._servers, **self._options)
        return client

    @cached_property
    def fallback(self) -> LocMemCache:
        """The cache used while Redis is down: one per process and location (LocMemCache shares
        its storage by name), with the same key prefix, version and timeout."""
        params = {name: value for name, value in self._params.items() if name != "OPTIONS"}
        # Room for a rate-limit counter per active user and address (the default, 300, would
        # evict counters and so loosen the limits).
        params["OPTIONS"] = {"MAX_ENTRIES": FALLBACK_MAX_ENTRIES}
        return LocMemCache(f"punt-redis-fallback:{','.join(self._servers)}", params)

    def _either(self, part: Callable[[], T], fallback: Callable[[], T]) -> T:
        if redis_outage.outage.should_try():
            try:
                result = part()
            except redis_outage.ERRORS as error:
                redis_outage.outage.failed(error, "cache")
            else:
                redis_outage.outage.succeeded()
                return result
        metrics.record_redis_fallback("cache")
        return fallback()

    def clear(self) -> None:
        # Both: whatever was cached during an outage must not come back after the next one.
        self.fallback.clear()
        self._either(lambda: super(SharedRedisCache, self).clear(), lambda: None)


# The operations Django and PUNT use (get_or_set and the like are built on these): each goes to
# Redis, or to the fallback while Redis is away.
FALLBACK_OPERATIONS = ("add", "get", "set", "touch", "delete", "get_many", "has_key", "incr", "set_many", "delete_many")


def _redis_or_fallback(name: str) -> Callable[..., Any]:
    redis_operation = getattr(RedisCache, name)

    def operation(self: SharedRedisCache, *args: Any, **kwargs: Any) -> Any:
        return self._either(
            lambda: redis_operation(self, *args, **kwargs),
            lambda: getattr(self.fallback, name)(*args, **kwargs),
        )

    operation.__name__ = operation.__qualname__ = name
    return operation


for _name in FALLBACK_OPERATIONS:
    setattr(SharedRedisCache, _name, _redis_or_fallback(_name))
