"""What lives in a project's columns and sprints, as the projects app sees it: a hook.

Tickets live in columns and sprints, so deleting a column, changing its category, completing
a sprint or deleting a project changes tickets, and a few reads count or list them. But the
tickets app depends on projects, never the other way round (tests/test_dependencies.py). So
projects states here what it needs from whatever a board holds, and the tickets app registers
its implementation (tickets/services/board.py) from TicketsConfig.ready(), the way projects
registers its organization slugs with accounts (accounts.services.username_claim_register).

Each method runs inside the caller's transaction; the caller holds the locks its docstring
names and publishes the events.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from django.db.models import QuerySet, Subquery

if TYPE_CHECKING:
    from projects.models import Column, Project, Sprint


class BoardContents(Protocol):
    def column_empty(self, *, column: Column, target: Column | None, by: Any) -> list[int]:
        """Move everything in `column` (about to be deleted) to the end of `target`, keeping order.

        Raises Invalid when live tickets are there and `target` is None. The caller holds the
        project row lock. Returns the ids of the live tickets moved.
        """
        ...

    def column_recategorised(self, *, column: Column, category: str, by: Any) -> None:
        """`column` is about to change category (still the old one, in memory and stored): its cards
        move with it, and open or close when it moves out of or into the done category."""
        ...

    def sprint_carry_over(self, *, sprint: Sprint, move_to: Sprint | None, by: Any) -> list[int]:
        """Move the unfinished tickets of `sprint` (being closed) to `move_to` or the backlog.

        The caller holds the project row lock. Returns the ids of the tickets moved.
        """
        ...

    def project_empty(self, *, project: Project) -> None:
        """Delete everything in `project` that would keep its columns from being deleted."""
        ...

    def open_ticket_count(self) -> Subquery:
        """The number of open tickets of the project `OuterRef("pk")` (no row when there are none)."""
        ...

    def sprint_tickets(self, *, sprint: Sprint) -> QuerySet[Any]:
        """The live tickets of `sprint`, in board order, with project, column and assignee loaded."""
        ...

    def sprint_estimates(self, *, sprint: Sprint) -> list[tuple[int | None, datetime | None]]:
        """(estimate, done at) of each live ticket of `sprint`, for the burndown.

        "Done at" is the ticket's completion (its last entry into done), None unless it is done now.
        """
        ...


_registered: BoardContents | None = None


def board_contents_register(contents: BoardContents) -> None:
    """Install what a board holds (the tickets app does, from its AppConfig.ready())."""
    global _registered
    _registered = contents


def board_contents() -> BoardContents:
    if _registered is None:
        raise RuntimeError("No board contents registered: is the tickets app in INSTALLED_APPS?")
    return _registered
