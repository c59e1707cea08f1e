"""Delete for good the custom fields deleted more than 30 days ago; safe to run from cron daily."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tickets.services.custom_fields import custom_fields_purge


class Command(BaseCommand):
    help = "Delete custom fields (with their options and values) soft-deleted more than 30 days ago."

    def handle(self, *args: Any, **options: Any) -> None:
        count = custom_fields_purge()
        self.stdout.write(f"Purged {count} custom field{'' if count == 1 else 's'}.")
