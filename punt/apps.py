from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _on_connection_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    from punt import db

    db.install_statement_timeout(connection)


class PuntConfig(AppConfig):
    """The project package as an app: shared management commands, templates and static files."""

    name = "punt"
    verbose_name = "PUNT"

    def ready(self) -> None:
        connection_created.connect(_on_connection_created, dispatch_uid="punt.statement_timeout")
