"""With REDIS_URL, rate limits count across processes: two `manage.py shell` processes (two
Redis clients, two connection pools) hitting one limit share its count."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (CI's Redis run)")

HITS = r"""
import json
from django.test import RequestFactory
from punt.api.ratelimit import RateLimited, check_rate
request = RequestFactory().get("/")
out = []
for _ in range({hits}):
    try:
        out.append(check_rate(request, group="test.processes", rate="5/h", key="{key}").remaining)
    except RateLimited:
        out.append("limited")
print("HITS" + json.dumps(out))
"""


def hits_in_a_process(key: str, hits: int) -> list[int | str]:
    env = {name: value for name, value in os.environ.items() if name not in {"PUNT_TESTING"}}
    env.update({"DEBUG": "1", "REDIS_PREFIX": "punt-test-ratelimit"})
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", HITS.format(key=key, hits=hits)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.split("HITS", 1)[1])


def test_two_processes_share_one_count():
    key = f"user:{uuid.uuid4().hex}"  # a limit of this run only
    # An hour's window (5/h), so the count cannot restart between the two processes.
    assert hits_in_a_process(key, 3) == [4, 3, 2]
    assert hits_in_a_process(key, 3) == [1, 0, "limited"]
