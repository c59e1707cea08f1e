"""The Redis cache keeps one client (and connection pool) per process, whatever the context."""

from __future__ import annotations

import asyncio

from asgiref.sync import sync_to_async

from punt.cache import SharedRedisCache


def test_backends_for_one_location_share_one_client():
    first = SharedRedisCache("redis://127.0.0.1:6379/0", {})
    second = SharedRedisCache("redis://127.0.0.1:6379/0", {})
    other = SharedRedisCache("redis://127.0.0.1:6379/1", {})
    assert first._cache is second._cache
    assert other._cache is not first._cache


def test_each_request_context_gets_the_same_client():
    # Django keeps a cache backend per async context; under daphne each request is one. (With
    # REDIS_URL set, as in the second CI run, this is the Redis cache.)
    def client_in_this_context():
        from django.core.cache import caches

        return getattr(caches["default"], "_cache", None)

    async def two_requests():
        return await asyncio.gather(*(sync_to_async(client_in_this_context)() for _ in range(2)))

    first, second = asyncio.run(two_requests())
    assert first is second
