"""Django's `migrate`, with the long statement timeout: a migration may rewrite a large table."""

from __future__ import annotations

from typing import Any

from django.core.management.commands import migrate

from punt import db


class Command(migrate.Command):
    def handle(self, *args: Any, **options: Any) -> Any:
        with db.long_statements():
            return super().handle(*args, **options)
