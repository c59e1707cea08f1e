"""The board's history as Placement rows, written beside the timeline events that tell it.

Every writer that puts a ticket somewhere on its board (create, move, reorder, delete, restore,
a column re-categorised or deleted, a renumbered column, an import) calls these in its own
transaction, so the rows always agree with the tickets (tests/insights/test_placements.py
replays the timelines against them).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone

from projects.models import Column
from tickets.models import Placement, Ticket


def placement_add(
    *, ticket: Ticket, column: Column | None, from_category: str | None, at: datetime | None = None
) -> None:
    """`ticket` now sits in `column` at its current rank (None: it left the board)."""
    Placement.objects.create(
        ticket_id=ticket.pk,
        project_id=ticket.project_id,
        column=column,
        category=column.category if column is not None else None,
        from_category=from_category,
        rank=ticket.rank,
        at=at or timezone.now(),
    )


def placements_add(
    *,
    tickets: Iterable[Ticket],
    column: Column,
    from_category: str | None,
    category: str | None = None,
    at: datetime | None = None,
) -> None:
    """Many tickets landing in one column at once (a column deleted, re-categorised or renumbered);
    `category` is the column's new one when it is being re-categorised."""
    at = at or timezone.now()
    Placement.objects.bulk_create(
        (
            Placement(
                ticket_id=ticket.pk,
                project_id=column.project_id,
                column=column,
                category=category or column.category,
                from_category=from_category,
                rank=ticket.rank,
                at=at,
            )
            for ticket in tickets
        ),
        batch_size=500,
    )
