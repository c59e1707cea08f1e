"""ASGI entry point: Django for HTTP (punt/asgi_handler.py), Channels' router for WebSockets."""

from __future__ import annotations

import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "punt.settings")
django.setup(set_prefix=False)

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from punt import http_limits  # noqa: E402
from punt.asgi_handler import PooledThreadASGIHandler  # noqa: E402
from punt.routing import websocket_urlpatterns  # noqa: E402

django_asgi_app = (
    PooledThreadASGIHandler(
        settings.PUNT_SYNC_THREADS,
        spill_after=settings.PUNT_SYNC_SPILL_MS / 1000,
        stuck_after=settings.PUNT_SYNC_STUCK_MS / 1000,
    )
    if settings.PUNT_SYNC_THREADS
    else ASGIHandler()
)

# daphne would drop a request whose URL or a header is over 16 KB without an answer.
http_limits.install()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# What is loaded by now lives as long as the process. Frozen, the garbage collector's full
# passes skip it, so a request that allocates a lot (a 1,000-card board) does not pay for
# walking the whole heap. The URL map is loaded first, which imports every view.
_ = get_resolver().url_patterns
gc.collect()
gc.freeze()
