from __future__ import annotations

from typing import Any


def tab_id(request: Any) -> str | None:
    """The `X-Tab-Id` a browser tab sends so it is not echoed its own changes."""
    value = request.headers.get("X-Tab-Id", "").strip()
    return value[:64] or None
