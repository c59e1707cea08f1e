"""Settings come from the environment and fail loudly on bad values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from punt.env import envbool, envint, envlist

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "PUNT_TESTING", "ALLOWED_HOSTS"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_envbool_accepts_the_usual_words(monkeypatch):
    for raw, expected in [("1", True), ("yes", True), ("On", True), ("0", False), ("false", False), ("", False)]:
        monkeypatch.setenv("PUNT_X", raw)
        assert envbool("PUNT_X", not expected) is expected


def test_envbool_refuses_nonsense(monkeypatch):
    monkeypatch.setenv("PUNT_X", "maybe")
    with pytest.raises(ImproperlyConfigured, match="PUNT_X must be a boolean"):
        envbool("PUNT_X", False)


def test_envint_refuses_nonsense_and_out_of_range(monkeypatch):
    monkeypatch.setenv("PUNT_X", "ten")
    with pytest.raises(ImproperlyConfigured, match="PUNT_X must be an integer"):
        envint("PUNT_X", 1)
    monkeypatch.setenv("PUNT_X", "-3")
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        envint("PUNT_X", 1, minimum=0)
    monkeypatch.setenv("PUNT_X", "42")
    assert envint("PUNT_X", 1) == 42


def test_envlist_splits_on_commas(monkeypatch):
    monkeypatch.setenv("PUNT_X", "a.example, b.example,,")
    assert envlist("PUNT_X", []) == ["a.example", "b.example"]


def test_production_without_secret_key_refuses_to_start():
    result = run_manage("check", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_boolean_refuses_to_start():
    result = run_manage("check", DEBUG="sometimes")
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="x7" * 30 + "-production-secret-with-enough-entropy",
        ALLOWED_HOSTS="punt.example.com",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


SHOW_BACKENDS = (
    "from django.conf import settings as s; "
    "print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], "
    "s.CHANNEL_LAYERS['default']['BACKEND'], s.CACHES['default']['BACKEND'], s.MEDIA_ROOT)"
)


def test_embedded_defaults_without_database_or_redis_urls(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "MEDIA_ROOT"}}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SHOW_BACKENDS],
        cwd=ROOT,
        env={**env, "DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    engine, name, layer, cache, media = result.stdout.strip().splitlines()[-1].split()
    assert (engine, Path(name)) == ("django.db.backends.sqlite3", ROOT / "db.sqlite3")
    assert layer == "punt.realtime.layers.InMemoryChannelLayer"
    assert cache == "django.core.cache.backends.locmem.LocMemCache"
    assert Path(media) == ROOT / "media"


def test_database_and_redis_urls_switch_to_the_scale_out_backends(tmp_path):
    result = run_manage(
        "shell",
        "-c",
        SHOW_BACKENDS,
        DEBUG="1",
        DATABASE_URL="postgres://punt:secret@db.example.com:5432/punt",
        REDIS_URL="redis://cache.example.com:6379/2",
        MEDIA_ROOT=str(tmp_path / "uploads"),
    )
    assert result.returncode == 0, result.stderr
    engine, name, layer, cache, media = result.stdout.strip().splitlines()[-1].split()
    assert (engine, name) == ("punt.postgresql", "punt")  # Django's, with the pool's restart fix
    assert layer == "channels_redis.core.RedisChannelLayer"
    assert cache == "punt.cache.SharedRedisCache"  # Django's RedisCache, one client per process
    assert Path(media) == tmp_path / "uploads"


def test_sqlite_queues_on_one_sync_thread_and_keeps_connections_postgresql_spreads_over_four(tmp_path):
    show = (
        'from django.conf import settings; print(f"{settings.PUNT_SYNC_THREADS}/{settings.PUNT_SYNC_SPILL_MS}/'
        "{settings.DATABASES['default']['CONN_MAX_AGE']}\")"
    )
    sqlite = f"sqlite:///{tmp_path / 'punt.sqlite3'}"
    runs = [
        run_manage("shell", "-c", show, DEBUG="1", DATABASE_URL=sqlite),
        run_manage("shell", "-c", show, DEBUG="1", DATABASE_URL="postgres://punt@db.example.com:5432/punt"),
        run_manage(
            "shell", "-c", show, DEBUG="1", DATABASE_URL=sqlite, PUNT_SYNC_THREADS="3", DATABASE_CONN_MAX_AGE="0"
        ),
    ]
    outputs = [run.stdout.strip().splitlines()[-1] for run in runs]
    assert outputs == ["2/200/60", "4/0/0", "3/200/0"], [run.stderr for run in runs]


def test_postgresql_pools_connections_sized_from_the_sync_threads_and_sqlite_does_not(tmp_path):
    show = (
        "from django.conf import settings; db = settings.DATABASES['default']; "
        'print(db["CONN_MAX_AGE"], db["OPTIONS"].get("pool"), "statement_timeout" in db["OPTIONS"].get("options", ""))'
    )
    postgres = "postgres://punt@db.example.com:5432/punt"
    cases = [
        ({"DATABASE_URL": postgres}, "0 {'min_size': 5, 'max_size': 8, 'timeout': 10} True"),
        ({"DATABASE_URL": postgres, "PUNT_SYNC_THREADS": "6"}, "0 {'min_size': 7, 'max_size': 10, 'timeout': 10} True"),
        ({"DATABASE_URL": postgres, "PUNT_SYNC_THREADS": "0"}, "0 {'min_size': 5, 'max_size': 12, 'timeout': 10} True"),
        (
            {
                "DATABASE_URL": postgres,
                "DATABASE_POOL_MIN_SIZE": "2",
                "DATABASE_POOL_MAX_SIZE": "20",
                "DATABASE_POOL_TIMEOUT": "3",
            },
            "0 {'min_size': 2, 'max_size': 20, 'timeout': 3} True",
        ),
        ({"DATABASE_URL": postgres, "DATABASE_POOL": "0"}, "0 None True"),
        # Connections kept by Django instead: the pool stays off unless asked for.
        ({"DATABASE_URL": postgres, "DATABASE_CONN_MAX_AGE": "60"}, "60 None True"),
        ({"DATABASE_URL": f"sqlite:///{tmp_path / 'punt.sqlite3'}", "DATABASE_POOL": "1"}, "60 None False"),
    ]
    for env, expected in cases:
        run = run_manage("shell", "-c", show, DEBUG="1", **env)
        assert run.stdout.strip().splitlines()[-1:] == [expected], (env, run.stderr)


def test_a_pool_with_kept_connections_or_a_max_below_its_min_refuses_to_start():
    postgres = "postgres://punt@db.example.com:5432/punt"
    kept = run_manage("check", DEBUG="1", DATABASE_URL=postgres, DATABASE_POOL="1", DATABASE_CONN_MAX_AGE="60")
    assert kept.returncode != 0 and "DATABASE_CONN_MAX_AGE=0" in kept.stderr
    small = run_manage(
        "check", DEBUG="1", DATABASE_URL=postgres, DATABASE_POOL_MIN_SIZE="6", DATABASE_POOL_MAX_SIZE="3"
    )
    assert small.returncode != 0 and "DATABASE_POOL_MAX_SIZE" in small.stderr
