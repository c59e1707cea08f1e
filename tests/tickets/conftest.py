from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from punt import events
from tickets import services
from tickets.models import Ticket


@pytest.fixture
def columns(personas):
    """The BLOG board's columns: todo, doing, done."""
    todo, doing, done = personas.project.columns.order_by("order")
    return todo, doing, done


@pytest.fixture
def make_card(personas, columns) -> Callable[..., Ticket]:
    """Create a card through the service, as `by` (default mary, the member)."""

    def make(title: str = "A card", *, by: Any = None, column: Any = None, **fields: Any) -> Ticket:
        return services.ticket_create(
            project=personas.project, by=by or personas.member, title=title, column=column or columns[0], **fields
        )

    return make


@pytest.fixture
def published(monkeypatch) -> list[dict[str, Any]]:
    """Every punt.events.publish call the tickets services make: [{event, payload, project_id, user_ids, ...}]."""
    calls: list[dict[str, Any]] = []

    def record(event: str, payload: dict[str, Any], **kwargs: Any) -> None:
        calls.append({"event": event, "payload": payload, **kwargs, "user_ids": list(kwargs.get("user_ids", ()))})

    # The services call `events.publish` (looked up at call time); apps that import `publish`
    # by name (notifications, projects) keep theirs, as before.
    monkeypatch.setattr(events, "publish", record)
    return calls
