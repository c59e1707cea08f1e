from __future__ import annotations

from django.apps import AppConfig


class DialectsConfig(AppConfig):
    """The seed APIs other than /api/v1/ (PUNT, AgentsMesh, GitHub-v3-style): thin adapters over the services."""

    name = "dialects"
    default_auto_field = "django.db.models.BigAutoField"
