"""Shared state for real-time delivery: Redis when REDIS_URL is set, process memory otherwise.

Two things need to be shared between daphne processes: the replay buffer behind SSE's
`Last-Event-ID` (with its event-id sequence) and presence. Both use a plain synchronous
redis-py client with short socket timeouts, so a slow Redis costs a request at most a
fraction of a second and is never waited on forever. Async callers reach it through a
worker thread (see presence.py), which keeps one client and one connection pool for the
whole process instead of one per event loop.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import redis
from django.core.serializers.json import DjangoJSONEncoder

from punt import redis_outage
from punt.realtime import conf

REDIS_SOCKET_TIMEOUT = 0.5


@lru_cache(maxsize=4)
def _client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_timeout=REDIS_SOCKET_TIMEOUT,
        socket_connect_timeout=REDIS_SOCKET_TIMEOUT,
        health_check_interval=30,
    )


def redis_client() -> redis.Redis | None:
    url = conf.redis_url()
    return _client_for(url) if url else None


def reachable_redis() -> redis.Redis | None:
    """The client, or None without Redis; raises punt.redis_outage.Skipped while an outage's
    back-off runs, so callers go to their fallback without waiting on a connection."""
    client = redis_client()
    if client is not None:
        redis_outage.outage.check()
    return client


def rkey(*parts: object) -> str:
    return ":".join([conf.redis_prefix(), *(str(p) for p in parts)])


class ReplayBuffer:
    """The last few events of each group, so an SSE client can resume after a reconnect.

    Event ids come from one sequence (Redis INCR, or a process counter seeded from the
    clock so ids still grow across restarts): a stream that listens to several groups
    merges their buffers by id.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counter = itertools.count(int(time.time() * 1000))
        self._memory: dict[str, deque[tuple[float, dict[str, Any]]]] = {}

    def next_id(self) -> int:
        client = reachable_redis()
        if client is not None:
            return int(client.incr(rkey("seq")))
        with self._lock:
            return next(self._counter)

    def append(self, groups: Iterable[str], record: dict[str, Any]) -> None:
        groups = list(groups)
        size, ttl = conf.replay_size(), conf.replay_ttl()
        if size <= 0 or not groups:
            return
        client = reachable_redis()
        if client is not None:
            data = json.dumps(record, cls=DjangoJSONEncoder)
            pipe = client.pipeline(transaction=False)
            for group in groups:
                key = rkey("replay", group)
                pipe.rpush(key, data)
                pipe.ltrim(key, -size, -1)
                pipe.expire(key, ttl)
            pipe.execute()
            return
        now = time.monotonic()
        # A JSON round trip gives readers their own copy, as the Redis path does.
        copy = json.loads(json.dumps(record, cls=DjangoJSONEncoder))
        with self._lock:
            for group in groups:
                buffer = self._memory.get(group)
                if buffer is None or buffer.maxlen != size:
                    buffer = self._memory[group] = deque(buffer or (), maxlen=size)
                buffer.append((now, copy))

    def since(self, groups: Iterable[str], after_id: int) -> list[dict[str, Any]]:
        """Events of `groups` with an id above `after_id`, oldest first, each once."""
        found: dict[int, dict[str, Any]] = {}
        client = reachable_redis()
        if client is not None:
            pipe = client.pipeline(transaction=False)
            for group in groups:
                pipe.lrange(rkey("replay", group), 0, -1)
            for items in pipe.execute():
                for raw in items:
                    record = json.loads(raw)
                    if int(record["id"]) > after_id:
                        found[int(record["id"])] = record
        else:
            oldest = time.monotonic() - conf.replay_ttl()
            with self._lock:
                for group in groups:
                    for stamp, record in self._memory.get(group, ()):
                        if stamp >= oldest and int(record["id"]) > after_id:
                            found[int(record["id"])] = record
        return [found[key] for key in sorted(found)]

    def clear(self) -> None:
        """Forget everything (tests)."""
        client = redis_client()
        if client is not None:
            keys = list(client.scan_iter(match=rkey("replay", "*")))
            if keys:
                client.delete(*keys)
        with self._lock:
            self._memory.clear()


replay_buffer = ReplayBuffer()
