"""When a ticket was done: one rule for the burndown, throughput, velocity and cycle time.

A ticket's completion is its LAST entry into the done category, from another category or
straight from creation, read from its placements (tickets.models.Placement), and only a
ticket done now has one: a live ticket in a done column. A restore puts a ticket back where
it was, so a restored done ticket keeps the completion it had: a row coming from off the
board counts only when it is the ticket's first (its creation). Moving between two done
columns or reordering inside one is no new completion.

It lives in tickets, next to the rows it reads, so that the sprint burndown (projects, through
projects.board_contents) and insights (which re-exports `completion_dates`) share it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Max, OuterRef, Q, QuerySet, Subquery

from projects.models import Column
from tickets.models import Placement, Ticket

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

DONE = Column.Category.DONE
NOT_DONE = [category for category in Column.Category.values if category != DONE]


def entered_done_at() -> Max:
    """On a Ticket query: the instant of its last entry into done (None if it never entered).

    Say nothing of whether it is done now: combine with `column__category=DONE`.
    """
    first_at = Subquery(Placement.objects.filter(ticket=OuterRef("pk")).order_by("at", "pk").values("at")[:1])
    entered = Q(placements__category=DONE) & (
        Q(placements__from_category__in=NOT_DONE) | Q(placements__from_category__isnull=True, placements__at=first_at)
    )
    return Max("placements__at", filter=entered)


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
        # The last entry into done is at or after `since` exactly when some entry is, so the
        # aggregate needs only those rows (a filter before annotate() narrows its join).
        queryset = queryset.filter(placements__category=DONE, placements__at__gte=since)
    queryset = queryset.annotate(done_at=entered_done_at()).filter(done_at__isnull=False)
    if until is not None:
        queryset = queryset.filter(done_at__lt=until)
    return queryset


def completion_dates(tickets: QuerySet[Ticket]) -> dict[int, datetime]:
    """Ticket id -> its completion (see the module docstring), for the tickets done now."""
    return dict(completed(tickets).values_list("pk", "done_at"))
