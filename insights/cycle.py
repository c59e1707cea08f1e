"""How long tickets take: lead time (created -> done), cycle time (started -> done), aging work.

A ticket's start is its first entry into a started category (in progress, in review) after
its last exit from done: a reopened ticket counts from its new start. Its end is its
completion (tickets.completions). Placement rows of the tickets concerned are read in one
ordered query and walked in Python, a fixed number of queries whatever the number of tickets.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone

from insights.scope import Scope, scope_for
from projects.models import Column, Project
from tickets.completions import completed
from tickets.models import Placement, Ticket

STARTED = (Column.Category.IN_PROGRESS, Column.Category.IN_REVIEW)
DONE = Column.Category.DONE
PERCENTILES = (50, 85, 95)
P85_CACHE_SECONDS = 600


def started_at(rows: Iterable[tuple[str | None, str | None, datetime]]) -> datetime | None:
    """The start of the work the rows end in: (category entered, category left, at), in order.

    Leaving done (reopened, or deleted while done) forgets an earlier start.
    """
    start = None
    for entered, left, at in rows:
        if left == DONE and entered != DONE:
            start = None
        if start is None and entered in STARTED:
            start = at
    return start


def _days(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds() / 86400, 2)


def ticket_times(scope: Scope) -> list[dict[str, Any]]:
    """The tickets of the scope completed within its days, oldest completion first, with their times.

    Two queries: the completed tickets, then their placement rows.
    """
    done = completed(scope.all_tickets(), since=scope.since, until=scope.until)
    tickets = list(
        done.order_by("done_at", "pk").values("pk", "number", "title", "type", "estimate", "created_at", "done_at")
    )
    rows: dict[int, list[tuple[str | None, str | None, datetime]]] = defaultdict(list)
    placements = (
        Placement.objects.filter(ticket__in=done.values("pk"), at__lt=scope.until)
        .order_by("ticket_id", "at", "pk")
        .values_list("ticket_id", "category", "from_category", "at")
    )
    for ticket_id, entered, left, at in placements if tickets else ():
        rows[ticket_id].append((entered, left, at))
    key = scope.project.key
    times = []
    for ticket in tickets:
        done_at = ticket["done_at"]
        start = started_at(row for row in rows[ticket["pk"]] if row[2] <= done_at)
        times.append(
            {
                "id": ticket["pk"],
                "key": f"{key}-{ticket['number']}",
                "title": ticket["title"],
                "type": ticket["type"],
                "estimate": ticket["estimate"],
                "created_at": ticket["created_at"],
                "started_at": start,
                "done_at": done_at,
                "lead_days": _days(ticket["created_at"], done_at),
                "cycle_days": _days(start, done_at) if start is not None else None,
            }
        )
    return times


def _nearest_rank(values: list[float]) -> dict[str, float | None]:
    ordered = sorted(values)
    if not ordered:
        return {f"p{p}": None for p in PERCENTILES}
    return {f"p{p}": round(ordered[math.ceil(p / 100 * len(ordered)) - 1], 2) for p in PERCENTILES}


def _summary(times: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "count": len(times),
        "cycle": _nearest_rank([t["cycle_days"] for t in times if t["cycle_days"] is not None]),
        "lead": _nearest_rank([t["lead_days"] for t in times]),
    }


def time_percentiles(times: list[dict[str, Any]]) -> dict[str, Any]:
    """50th, 85th and 95th nearest-rank percentiles of cycle and lead days, overall and per type."""
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in times:
        by_type[t["type"]].append(t)
    return {"all": _summary(times), "by_type": {name: _summary(by_type[name]) for name in sorted(by_type)}}


def _cycle_p85(project: Project, now: datetime) -> float | None:
    """The 85th percentile of the cycle times of the project's last 90 days up to `now`."""
    scope = scope_for(project=project, end=timezone.localdate(now))
    return time_percentiles(ticket_times(scope))["all"]["cycle"]["p85"]


def _starts(tickets: QuerySet[Ticket]) -> dict[int, tuple[datetime, bool]]:
    """Ticket id -> (its start, known) for `tickets` (in progress now): one query.

    Without a recorded start (history from before placements were kept) the creation stands
    in: the ticket cannot have been in progress longer.
    """
    rows: dict[int, list[tuple[str | None, str | None, datetime]]] = defaultdict(list)
    created: dict[int, datetime] = {}
    values = tickets.order_by("pk", "placements__at", "placements__pk").values_list(
        "pk", "created_at", "placements__category", "placements__from_category", "placements__at"
    )
    for pk, created_at, entered, left, at in values:
        created[pk] = created_at
        if at is not None:
            rows[pk].append((entered, left, at))
    starts = {}
    for pk, created_at in created.items():
        start = started_at(rows[pk])
        starts[pk] = (start, True) if start is not None else (created_at, False)
    return starts


def _in_progress(project: Project) -> QuerySet[Ticket]:
    return Ticket.objects.filter(project=project, deleted_at__isnull=True, column__category__in=STARTED)


def aging_wip(
    *, project: Project, tickets: QuerySet[Ticket] | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The tickets in a started category now, oldest start first, and whether each is older than
    the project's cycle-time p85 of the last 90 days (`over`). A fixed number of queries.
    """
    now = now or timezone.now()
    wip = _in_progress(project)
    if tickets is not None:
        wip = wip.filter(pk__in=tickets.order_by().values("pk"))
    cards = list(wip.order_by().values("pk", "number", "title", "column_id", "column__name", "column__category"))
    starts = _starts(wip) if cards else {}
    p85 = _cycle_p85(project, now)
    listed: list[tuple[datetime, int, dict[str, Any]]] = []
    for card in cards:
        start, known = starts[card["pk"]]
        age = _days(start, now)
        listed.append(
            (
                start,
                card["pk"],
                {
                    "id": card["pk"],
                    "key": f"{project.key}-{card['number']}",
                    "title": card["title"],
                    "column": {
                        "id": card["column_id"],
                        "name": card["column__name"],
                        "category": card["column__category"],
                    },
                    "started_at": start if known else None,
                    "age_days": age,
                    "over": p85 is not None and age > p85,
                },
            )
        )
    listed.sort(key=lambda item: (item[0], item[1]))
    return {"p85_days": p85, "tickets": [row for _start, _pk, row in listed]}


def card_ages(*, project: Project, ticket_ids: list[int]) -> dict[str, Any]:
    """For the board: days in progress of those of `ticket_ids` in a started category, and the p85.

    The p85 is cached per project for P85_CACHE_SECONDS in the default cache. One query, plus
    the p85's two when the cache has none.
    """
    key = f"insights:cycle-p85:{project.pk}"
    missing = object()
    now = timezone.now()
    p85 = cache.get(key, missing)
    if p85 is missing:
        p85 = _cycle_p85(project, now)
        cache.set(key, p85, P85_CACHE_SECONDS)
    starts = _starts(_in_progress(project).filter(pk__in=ticket_ids)) if ticket_ids else {}
    return {"p85_days": p85, "ages": {pk: _days(start, now) for pk, (start, _known) in starts.items()}}
