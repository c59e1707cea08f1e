from __future__ import annotations

from django.apps import AppConfig


class PuntConfig(AppConfig):
    """The project package as an app: shared management commands, templates and static files."""

    name = "punt"
    verbose_name = "PUNT"
