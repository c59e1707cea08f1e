"""Run by test_backup_engines.py in a process of its own, on a fresh SQLite file.

    python tests/ops/other_engine.py ARCHIVE_IN ARCHIVE_OUT FILES_JSON

Migrates the empty database, restores ARCHIVE_IN with `punt_restore`, prints what the API
and the tables then show (as JSON), and writes a new backup of it to ARCHIVE_OUT with
`punt_backup`. DATABASE_URL and MEDIA_ROOT come from the environment.
"""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "punt.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402


def main(archive_in: str, archive_out: str, files: dict[str, str]) -> None:
    from accounts.models import User
    from tests.ops.conftest import as_user
    from tests.ops.test_backup import api_reads, dump_all, portable

    call_command("migrate", verbosity=0, interactive=False)
    call_command("punt_restore", archive_in, interactive=False, stdout=io.StringIO())
    owner = User.objects.get(username="olivia")
    seen = {"reads": api_reads(as_user(owner), "blog", files), "rows": dump_all()}
    call_command("punt_backup", "--output", archive_out, stdout=io.StringIO())
    print(json.dumps(portable(seen)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))
