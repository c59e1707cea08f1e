"""WebSocket routes. Apps append their consumers' paths here (see the real-time issue)."""

from __future__ import annotations

from django.urls import URLPattern

websocket_urlpatterns: list[URLPattern] = []
