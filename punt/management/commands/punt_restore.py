"""`manage.py punt_restore FILE`: the same as POST /api/v1/admin/restore."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from punt.ops import backup


class Command(BaseCommand):
    help = "Replace all data and uploaded files with a backup archive's (all or nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="A .zip made by punt_backup or POST /api/v1/admin/backup.")
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Do not ask for confirmation.",
        )

    def handle(self, *args: Any, archive: str, interactive: bool = True, **options: Any) -> None:
        path = Path(archive).expanduser()
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        if interactive:
            answer = input("This replaces ALL data and uploaded files with the archive's. Type 'yes' to go on: ")
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled.")
        try:
            with path.open("rb") as stream:
                result = backup.restore_archive(stream)
        except backup.BackupError as exc:
            raise CommandError(f"Refused {path}: {exc} Nothing was changed.") from exc
        rows = sum(result.objects.values())
        self.stdout.write(f"Restored {rows} rows and {result.files} files from the backup made at {result.created_at}.")
