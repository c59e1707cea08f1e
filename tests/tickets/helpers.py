from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

BASE = "/api/v1/projects/blog"


def url(path: str = "") -> str:
    return f"{BASE}{path}"


def events_named(calls: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [call for call in calls if call["event"] == name]


def postgres_only(test: Any) -> Any:
    """@pytest.mark.postgres, skipped unless the suite runs on PostgreSQL."""
    test = pytest.mark.postgres(test)
    return pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")(test)
