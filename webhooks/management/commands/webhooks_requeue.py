"""Queue again outgoing deliveries whose task was lost; safe to run from cron every few minutes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from webhooks.services import deliveries_requeue


class Command(BaseCommand):
    help = "Re-enqueue outgoing webhook deliveries stuck in 'sending' or overdue in 'pending'."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--minutes", type=int, default=10, help="How old a stuck delivery must be (default 10).")

    def handle(self, *args: Any, minutes: int, **options: Any) -> None:
        count = deliveries_requeue(stale_after=timedelta(minutes=max(1, minutes)))
        self.stdout.write(f"Queued {count} deliver{'y' if count == 1 else 'ies'} again.")
