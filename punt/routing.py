"""WebSocket routes (seed 004). punt.asgi wraps them in origin checks and session auth."""

from __future__ import annotations

from django.urls import URLPattern, re_path

from punt.realtime.consumers import ProjectConsumer, UserConsumer

websocket_urlpatterns: list[URLPattern] = [
    # First: "user" would otherwise read as a project slug.
    re_path(r"^api/v1/ws/user/?$", UserConsumer.as_asgi()),
    # A project's URL slug (projects.services.SLUG_RE; any case, the lookup lowercases it).
    re_path(r"^api/v1/ws/(?P<project_slug>[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*)/?$", ProjectConsumer.as_asgi()),
]
