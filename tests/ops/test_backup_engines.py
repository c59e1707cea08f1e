"""An archive made on one database engine restores on another, and back.

The test database (SQLite in the embedded run, PostgreSQL in CI's second run) is backed up,
restored by `punt_restore` in a separate process on a fresh SQLite file, backed up there by
`punt_backup`, and that archive restored here: every row and every API read must survive
both trips. In the PostgreSQL run that is PostgreSQL -> SQLite -> PostgreSQL.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection

from tests.ops.conftest import as_user
from tests.ops.test_backup import api_reads, download, dump_all, empty_database, portable, restore, seed_site

OTHER_ENGINE = Path(__file__).with_name("other_engine.py")
ROOT = Path(__file__).resolve().parents[2]


def vendor(archive: Path) -> str:
    with zipfile.ZipFile(archive) as zf:
        return json.loads(zf.read("manifest.json"))["database_vendor"]


def run_on_fresh_sqlite(tmp_path: Path, archive_in: Path, archive_out: Path, files: dict) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "PUNT_TEST_DB_NAME", "PROMETHEUS_MULTIPROC_DIR", "DEBUG"}
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'other.sqlite3'}",
        MEDIA_ROOT=str(tmp_path / "other-media"),
        PUNT_TESTING="1",
        ALLOWED_HOSTS="testserver",
    )
    done = subprocess.run(
        [sys.executable, str(OTHER_ENGINE), str(archive_in), str(archive_out), json.dumps(files)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_an_archive_crosses_database_engines_and_comes_back(staff, personas, tmp_path):
    files = seed_site(personas)
    owner = as_user(personas.owner)
    before = {"reads": api_reads(owner, "blog", files), "rows": dump_all()}
    archive_in, archive_out = tmp_path / "here.zip", tmp_path / "there.zip"
    archive_in.write_bytes(download(as_user(staff.site_admin)))

    there = run_on_fresh_sqlite(tmp_path, archive_in, archive_out, files)
    assert there == portable(before)
    assert (tmp_path / "other-media" / files["attachment"]).read_bytes() == b"hello notes"
    assert vendor(archive_in) == connection.vendor
    assert vendor(archive_out) == "sqlite"

    empty_database()
    shutil.rmtree(settings.MEDIA_ROOT)
    response = restore(as_user(staff.site_admin), archive_out.read_bytes())
    assert response.status_code == 200, response.content
    assert dump_all() == before["rows"]
    assert api_reads(owner, "blog", files) == before["reads"]
    assert default_storage.open(files["attachment"]).read() == b"hello notes"
