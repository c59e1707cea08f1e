"""`manage.py audit_prune`: delete audit entries older than PUNT_AUDIT_RETENTION_DAYS, for cron."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from audit.services import audit_prune


class Command(BaseCommand):
    help = "Delete audit log entries older than PUNT_AUDIT_RETENTION_DAYS (0 keeps them forever)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, default=None, help="Keep this many days instead of PUNT_AUDIT_RETENTION_DAYS."
        )

    def handle(self, *args: Any, days: int | None = None, **options: Any) -> None:
        keep = settings.PUNT_AUDIT_RETENTION_DAYS if days is None else days
        if keep <= 0:
            self.stdout.write("Retention is 0 (keep forever): nothing deleted.")
            return
        deleted = audit_prune(days=keep)
        self.stdout.write(f"Deleted {deleted} audit entries older than {keep} days.")
