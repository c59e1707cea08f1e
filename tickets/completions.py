"""When a ticket was done: one rule for the burndown, throughput, velocity and cycle time.

A ticket's completion is its LAST entry into the done category from another category, read
from its placements (tickets.models.Placement); a ticket that never entered done that way was
created straight into done, and its completion is that creation: its first arrival in done
from off the board (a later one is a restore, which puts a ticket back where it was and
completes nothing). Only a ticket done now has a completion: a live ticket in a done column.
Moving between two done columns or reordering inside one is no new completion.

It lives in tickets, next to the rows it reads, so that the sprint burndown (projects, through
projects.board_contents) and insights (which re-exports `completion_dates`) share it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Exists, Max, Min, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce

from projects.models import Column
from tickets.models import Placement, Ticket

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

DONE = Column.Category.DONE
NOT_DONE = [category for category in Column.Category.values if category != DONE]


def entered_done_at() -> Coalesce:
    """On a Ticket query: the instant of its completion by the rule above (None if it has none).

    Say nothing of whether it is done now: combine with `column__category=DONE`.
    """
    into_done = Q(placements__category=DONE)
    return Coalesce(
        Max("placements__at", filter=into_done & Q(placements__from_category__in=NOT_DONE)),
        Min("placements__at", filter=into_done & Q(placements__from_category__isnull=True)),
    )


class Completion(TypedDict):
    done_at: datetime


def completed(
    tickets: QuerySet[Ticket], *, since: datetime | None = None, until: datetime | None = None
) -> QuerySet[WithAnnotations[Ticket, Completion]]:
    """The tickets among `tickets` done now, annotated `done_at`, optionally done in [since, until).

    One aggregate query; unordered (callers order or group as they need).
    """
    queryset = Ticket.objects.filter(
        pk__in=tickets.order_by().values("pk"), deleted_at__isnull=True, column__category=DONE
    ).order_by()
    if since is not None:
        # A completion at or after `since` is an entry into done then: only tickets with one
        # can have it (the aggregate still reads all their rows).
        queryset = queryset.filter(
            Exists(Placement.objects.filter(ticket=OuterRef("pk"), category=DONE, at__gte=since))
        )
    queryset = queryset.annotate(done_at=entered_done_at()).filter(done_at__isnull=False)
    if since is not None:
        queryset = queryset.filter(done_at__gte=since)
    if until is not None:
        queryset = queryset.filter(done_at__lt=until)
    return queryset


def completion_dates(tickets: QuerySet[Ticket]) -> dict[int, datetime]:
    """Ticket id -> its completion (see the module docstring), for the tickets done now."""
    return dict(completed(tickets).values_list("pk", "done_at"))
