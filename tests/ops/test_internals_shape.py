"""The Django, asgiref and Channels internals PUNT overrides or leans on still have the shape we wrote against.

`punt/asgi_handler.py`, `punt/realtime/layers.py`, `punt/realtime/fanout.py` and `punt/cache.py`
subclass library classes and replace or call methods that are not public API. An upgrade
that changes them would not fail loudly: requests would quietly stop using the pool, slots
would leak, a sweep would stop sweeping. So each method we replace or call is checked here:
its signature, and where our override copies the parent's logic (or depends on how the
parent's body is written), a hash of the parent's source. When a check fails after an
upgrade, read the parent's new code, carry its change into our override (or confirm it does
not matter), then update the expected value below.
"""

from __future__ import annotations

import hashlib
import inspect
from typing import Any

import asgiref
import channels
import django
import pytest
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from channels.layers import BaseChannelLayer
from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer
from channels_redis.core import RedisChannelLayer
from django.core.cache.backends.redis import RedisCache
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler

from punt.asgi_handler import PooledThreadASGIHandler
from punt.cache import SharedRedisCache
from punt.realtime.layers import InMemoryChannelLayer

VERSIONS = f"Django {django.__version__}, asgiref {asgiref.__version__}, channels {channels.__version__}"


def unwrapped(function: Any) -> Any:
    return getattr(function, "func", function)  # a cached_property's function


def plain_signature(function: Any) -> str:
    """The parameters, their kinds and defaults; annotations left out (they render differently per Python)."""
    signature = inspect.signature(function)
    parameters = [parameter.replace(annotation=inspect.Parameter.empty) for parameter in signature.parameters.values()]
    return str(signature.replace(parameters=parameters, return_annotation=inspect.Signature.empty))


def source_hash(function: Any) -> str:
    return hashlib.sha256(inspect.getsource(unwrapped(function)).encode()).hexdigest()[:16]


# (what, expected signature, what to re-check in our code if it changed)
SIGNATURES = [
    (ASGIHandler.__call__, "(self, scope, receive, send)", "PooledThreadASGIHandler.__call__ replaces it"),
    (ASGIHandler.handle, "(self, scope, receive, send)", "PooledThreadASGIHandler.__call__ calls it"),
    (ASGIHandler.run_get_response, "(self, request)", "PooledThreadASGIHandler.run_get_response replaces it"),
    (BaseHandler.__init__, "(self, /, *args, **kwargs)", "PooledThreadASGIHandler.__init__ calls it"),
    (BaseHandler.load_middleware, "(self, is_async=False)", "PooledThreadASGIHandler.__init__ builds the sync chain"),
    (BaseHandler.get_response, "(self, request)", "PooledThreadASGIHandler._get_response_timed calls it"),
    (ThreadSensitiveContext.__init__, "(self, *, executor=None)", "PooledThreadASGIHandler: a context per thread"),
    (
        sync_to_async,
        "(func=None, *, thread_sensitive=True, executor=None, context=None)",
        "the view runs through it on the request's thread",
    ),
    (
        ChannelsInMemoryChannelLayer.__init__,
        "(self, expiry=60, group_expiry=86400, capacity=100, channel_capacity=None, **kwargs)",
        "InMemoryChannelLayer.__init__ passes everything on",
    ),
    (ChannelsInMemoryChannelLayer._clean_expired, "(self)", "InMemoryChannelLayer._clean_expired wraps it"),
    (ChannelsInMemoryChannelLayer.receive, "(self, channel)", "InMemoryChannelLayer.receive replaces it"),
    (ChannelsInMemoryChannelLayer.group_send, "(self, group, message)", "InMemoryChannelLayer.group_send replaces it"),
    (BaseChannelLayer.get_capacity, "(self, channel)", "InMemoryChannelLayer._queue sizes queues with it"),
    (BaseChannelLayer.require_valid_channel_name, "(self, name, receive=False)", "InMemoryChannelLayer.receive"),
    (BaseChannelLayer.require_valid_group_name, "(self, name)", "InMemoryChannelLayer.group_send"),
    (RedisCache.__init__, "(self, server, params)", "SharedRedisCache._cache reads what it stores"),
]

# The parent methods whose body our code copies or depends on, with the hash of their source.
SOURCES = [
    (
        ASGIHandler.__call__,
        "f756809e9c9308dc",
        "PooledThreadASGIHandler.__call__ copies its scope check and replaces its ThreadSensitiveContext "
        "with one per pool thread: carry over anything new it does before handle()",
    ),
    (
        ASGIHandler.__init__,
        "41379d4f4b69f900",
        "PooledThreadASGIHandler.__init__ skips it (sync middleware instead of async): carry over any new attribute",
    ),
    (
        ASGIHandler.run_get_response,
        "0234ea5fe09a5777",
        "PooledThreadASGIHandler.run_get_response copies what it does to the response after the view",
    ),
    (
        ASGIHandler.handle,
        "98faeb5bef800331",
        "the thread slot is released in run_get_response and again (once) when __call__ ends; check handle() still "
        "calls run_get_response in a task that shares our context, and sends the response after it",
    ),
    (
        ChannelsInMemoryChannelLayer.receive,
        "e615f8ae40b60e12",
        "InMemoryChannelLayer.receive is a copy that keeps a queue between messages",
    ),
    (
        ChannelsInMemoryChannelLayer.send,
        "a4dab1cd8aff886e",
        "InMemoryChannelLayer.group_send queues (expiry, message) entries the way send() does",
    ),
    (
        ChannelsInMemoryChannelLayer.group_send,
        "693c3172deb6431b",
        "InMemoryChannelLayer.group_send replaces it (one copy per send, straight onto the queues)",
    ),
    (
        ChannelsInMemoryChannelLayer._clean_expired,
        "604032dae1cc01d2",
        "InMemoryChannelLayer._clean_expired runs it at most once a second and drops idle queues (reads _getters)",
    ),
    (
        RedisCache._cache,
        "9ff16af6c04a2401",
        "SharedRedisCache._cache builds the client the same way, shared by the process",
    ),
]


@pytest.mark.parametrize(
    ("function", "expected", "used_by"), SIGNATURES, ids=[entry[0].__qualname__ for entry in SIGNATURES]
)
def test_signatures_of_the_internals_we_call_or_replace(function, expected, used_by):
    assert plain_signature(function) == expected, f"{function.__qualname__} changed ({VERSIONS}): {used_by}"


@pytest.mark.parametrize(
    ("function", "expected", "recheck"), SOURCES, ids=[unwrapped(entry[0]).__qualname__ for entry in SOURCES]
)
def test_parent_code_our_overrides_copy_is_unchanged(function, expected, recheck):
    name = f"{unwrapped(function).__module__}.{unwrapped(function).__qualname__}"
    assert source_hash(function) == expected, (
        f"{name} changed ({VERSIONS}). Re-check: {recheck}. Then set its new hash here."
    )


def test_the_attributes_our_overrides_read_still_exist():
    assert isinstance(ASGIHandler.chunk_size, int)  # run_get_response sets FileResponse.block_size from it
    layer = ChannelsInMemoryChannelLayer()
    # Read and written by InMemoryChannelLayer; LocalFanout only uses the public layer API below.
    assert (layer.channels, layer.groups, layer.expiry) == ({}, {}, 60)
    cache = RedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"db": 0}})
    assert (cache._servers, cache._options) == (["redis://127.0.0.1:1/0"], {"db": 0})
    assert callable(cache._class)


@pytest.mark.parametrize("layer_class", [InMemoryChannelLayer, RedisChannelLayer])
def test_both_layers_offer_what_the_fanout_and_streams_call(layer_class):
    """punt/realtime/fanout.py and sse.py work with either layer through these coroutines."""
    expected = {
        "new_channel": ["self", "prefix"],
        "group_add": ["self", "group", "channel"],
        "group_discard": ["self", "group", "channel"],
        "group_send": ["self", "group", "message"],
        "receive": ["self", "channel"],
    }
    for name, parameters in expected.items():
        method = getattr(layer_class, name)
        assert inspect.iscoroutinefunction(method), name
        assert list(inspect.signature(method).parameters) == parameters, f"{layer_class.__name__}.{name}"


def test_our_overrides_are_the_ones_in_use():
    """The subclasses still override what the checks above pin (a rename on our side would skip them)."""
    assert PooledThreadASGIHandler.__call__ is not ASGIHandler.__call__
    assert PooledThreadASGIHandler.run_get_response is not ASGIHandler.run_get_response
    for name in ("receive", "group_send", "_clean_expired"):
        assert name in vars(InMemoryChannelLayer), name
    assert "_cache" in vars(SharedRedisCache)
