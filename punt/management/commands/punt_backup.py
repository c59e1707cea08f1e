"""`manage.py punt_backup --output FILE`: the same archive as POST /api/v1/admin/backup, for cron."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from punt.ops import backup


class Command(BaseCommand):
    help = "Write a backup archive (data, uploaded files, manifest with checksums) to a zip file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", "-o", required=True, help="Where to write the .zip archive.")

    def handle(self, *args: Any, output: str, **options: Any) -> None:
        target = Path(output).expanduser().resolve()
        if not target.parent.is_dir():
            raise CommandError(f"The folder {target.parent} does not exist.")
        # Written beside the target and renamed at the end, so a cron job that dies half-way
        # never leaves a truncated archive under the expected name.
        fd, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as stream:
                summary = backup.backup_write(stream)
            os.replace(partial, target)
        except backup.BackupError as exc:
            Path(partial).unlink(missing_ok=True)
            raise CommandError(str(exc)) from exc
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        rows = sum(summary.objects.values())
        self.stdout.write(f"Wrote {target}: {rows} rows, {summary.files} files, made at {summary.created_at}.")
        for name in summary.missing_files:
            self.stderr.write(f"Warning: {name} is referenced by a row but missing from storage; not included.")
