"""Who has a project open, shared by every daphne process.

Each WebSocket connection is one entry (user, channel name) with an expiry; pings and the
consumer's own heartbeat push the expiry forward, so the entries of a process that died
without saying goodbye fade out after PUNT_PRESENCE_TTL_SECONDS. A user is present while
any of their connections is. With REDIS_URL the entries are a sorted set per project
(score = expiry); without it, or while Redis is unreachable, a dict in this process (so during
an outage each process sees only its own connections; they reach Redis again with their next
heartbeat).
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import redis

from punt import redis_outage
from punt.ops import metrics
from punt.realtime import conf
from punt.realtime.backend import reachable_redis, redis_client, rkey


def _member(user_id: int, channel: str) -> str:
    return f"{user_id}|{channel}"


def _user_ids(members: list[bytes] | list[str]) -> set[int]:
    ids = set()
    for member in members:
        text = member.decode() if isinstance(member, bytes) else member
        ids.add(int(text.partition("|")[0]))
    return ids


class PresenceStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._memory: dict[int, dict[str, float]] = {}

    # Each public coroutine runs the blocking work in a worker thread: the Redis client
    # is synchronous (one pool per process) and must not stall the event loop.

    async def join(self, project_id: int, user_id: int, channel: str) -> bool:
        """Record the connection; True if the user was not present before (announce them)."""
        return await asyncio.to_thread(self._join, project_id, user_id, channel)

    async def refresh(self, project_id: int, user_id: int, channel: str) -> None:
        await asyncio.to_thread(self._touch, project_id, user_id, channel)

    async def leave(self, project_id: int, user_id: int, channel: str) -> bool:
        """Forget the connection; True if it was the user's last one (announce the leave)."""
        return await asyncio.to_thread(self._leave, project_id, user_id, channel)

    async def user_ids(self, project_id: int) -> set[int]:
        return await asyncio.to_thread(self._present, project_id)

    def clear(self) -> None:
        """Forget everyone (tests)."""
        client = redis_client()
        if client is not None:
            keys = list(client.scan_iter(match=rkey("presence", "*")))
            if keys:
                client.delete(*keys)
        with self._lock:
            self._memory.clear()

    def _redis(self) -> redis.Redis | None:
        """The shared client; None without Redis or while an outage's back-off runs."""
        try:
            return reachable_redis()
        except redis_outage.Skipped:
            metrics.record_redis_fallback("presence")
            return None

    def _execute(self, pipe: redis.client.Pipeline) -> list[Any] | None:
        """The pipeline's results, or None if Redis did not answer (then use the memory)."""
        try:
            results = pipe.execute()
        except redis_outage.ERRORS as error:
            redis_outage.outage.failed(error, "presence")
            metrics.record_redis_fallback("presence")
            return None
        redis_outage.outage.succeeded()
        return results

    def _join(self, project_id: int, user_id: int, channel: str) -> bool:
        before = user_id in self._present(project_id)
        self._touch(project_id, user_id, channel)
        return not before

    def _leave(self, project_id: int, user_id: int, channel: str) -> bool:
        client = self._redis()
        if client is not None:
            try:
                client.zrem(rkey("presence", project_id), _member(user_id, channel))
            except redis_outage.ERRORS as error:
                redis_outage.outage.failed(error, "presence")
        # Always: the connection may have joined during an outage.
        with self._lock:
            self._memory.get(project_id, {}).pop(_member(user_id, channel), None)
        return user_id not in self._present(project_id)

    def _touch(self, project_id: int, user_id: int, channel: str) -> None:
        ttl = conf.presence_ttl()
        client = self._redis()
        if client is not None:
            key = rkey("presence", project_id)
            pipe = client.pipeline(transaction=False)
            pipe.zadd(key, {_member(user_id, channel): time.time() + ttl})
            pipe.expire(key, int(ttl) + 1)
            if self._execute(pipe) is not None:
                return
        with self._lock:
            self._memory.setdefault(project_id, {})[_member(user_id, channel)] = time.time() + ttl

    def _present(self, project_id: int) -> set[int]:
        now = time.time()
        client = self._redis()
        if client is not None:
            key = rkey("presence", project_id)
            pipe = client.pipeline(transaction=False)
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.zrangebyscore(key, now, "+inf")
            results = self._execute(pipe)
            if results is not None:
                return _user_ids(results[1])
        with self._lock:
            entries = self._memory.get(project_id, {})
            for member in [m for m, expiry in entries.items() if expiry <= now]:
                del entries[member]
            return _user_ids(list(entries))


presence = PresenceStore()
