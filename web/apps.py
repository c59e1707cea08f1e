from __future__ import annotations

from django.apps import AppConfig


class WebConfig(AppConfig):
    """Server-rendered pages (Django templates + htmx + SortableJS); no models of its own."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "web"
