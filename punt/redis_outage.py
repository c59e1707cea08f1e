"""Whether this process can reach Redis, so that an outage degrades the service instead of failing it.

With REDIS_URL set, Redis holds the cache (rate-limit counters), the channel layer, presence
and the replay buffer. While it is unreachable:

- the cache serves from a cache in this process's memory (rate limits become per process);
- presence is kept in this process's memory, the replay buffer is skipped;
- published events are dropped, each counted (punt_events_dropped_total) and logged;
- `/healthz` answers 200 with `"status": "degraded"`.

The first failure is logged once per outage; parts that have a local fallback stop trying
Redis for PUNT_REDIS_RETRY_SECONDS (1 s), so a down Redis does not cost every request a
connection attempt. Any call that gets through again ends the outage.
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from django.conf import settings

from punt.ops import metrics

logger = logging.getLogger("punt.redis")


class Skipped(redis.exceptions.ConnectionError):
    """Not tried: Redis was unreachable moments ago and the back-off has not ended."""


# What an unreachable, restarting or overloaded Redis raises (Skipped included).
ERRORS: tuple[type[Exception], ...] = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def retry_seconds() -> float:
    return float(getattr(settings, "PUNT_REDIS_RETRY_SECONDS", 1.0))


class Outage:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since: float | None = None
        self._retry_at = 0.0

    @property
    def down(self) -> bool:
        return self._since is not None

    def should_try(self) -> bool:
        """False while an outage's back-off runs; then True for one caller, who probes Redis."""
        if self._since is None:
            return True
        with self._lock:
            now = time.monotonic()
            if now < self._retry_at:
                return False
            self._retry_at = now + retry_seconds()
            return True

    def check(self) -> None:
        """Raise Skipped unless Redis should be tried now."""
        if not self.should_try():
            raise Skipped("Redis was unreachable moments ago")

    def failed(self, error: Exception, part: str) -> None:
        """Redis did not answer `part` (cache, channel_layer, presence, replay, healthz)."""
        if isinstance(error, Skipped):
            return
        with self._lock:
            now = time.monotonic()
            self._retry_at = now + retry_seconds()
            if self._since is not None:
                return
            self._since = now
        metrics.record_redis_outage()
        logger.warning(
            "Redis is unreachable (%s: %s): the cache and rate limits fall back to this process "
            "and events are dropped until it answers again",
            part,
            error,
        )

    def forget(self) -> None:
        with self._lock:
            self._since = None
            self._retry_at = 0.0

    def succeeded(self) -> None:
        if self._since is None:
            return
        with self._lock:
            since, self._since = self._since, None
        if since is not None:
            logger.warning("Redis answers again after %.1f s", time.monotonic() - since)


outage = Outage()


def reset() -> None:
    """Forget any outage (tests that stop a Redis of their own)."""
    outage.forget()
