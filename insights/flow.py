"""Flow: how many tickets sit in each column category day by day, and how many get done.

Read from tickets.models.Placement with aggregate queries. The number of live tickets in a
category C at an instant t is the rows that entered C by t minus the rows that left C by t,
so a cumulative flow diagram is a count of rows per (day, category entered, category left)
and a running sum over the days, whatever the number of tickets.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.db.models import Case, Count, ExpressionWrapper, F, IntegerField, QuerySet, Value, When
from django.utils import timezone

from insights.scope import Scope, day_start
from projects.models import Column, Project, Sprint
from punt.errors import invalid
from tickets.completions import completed, completion_dates, entered_done_at
from tickets.models import Event, Placement, Ticket

__all__ = ["CATEGORIES", "completion_dates", "cumulative_flow", "throughput", "velocity"]

CATEGORIES: list[str] = list(Column.Category.values)  # board order: backlog ... done
PERIODS = ("week", "day")


def _placements(scope: Scope) -> QuerySet[Placement]:
    rows = Placement.objects.filter(project=scope.project)
    if scope.tickets is not None:
        rows = rows.filter(ticket__in=scope.tickets.order_by().values("pk"))
    return rows


def cumulative_flow(scope: Scope) -> dict[str, Any]:
    """Live tickets per column category at the end of each day of the scope.

    {"categories": [...], "days": [{"date", "counts": {category: int}}]}. Counted from whichever
    end of the history is nearer, so a range near today reads only its own rows and the rows
    since (three queries), and an old range only the rows up to its end.
    """
    rows = _placements(scope)
    return _flow_backward(scope, rows) if _nearer_now(scope, rows) else _flow_forward(scope, rows)


def _nearer_now(scope: Scope, rows: QuerySet[Placement]) -> bool:
    """Whether the first day is nearer now than the start of the history (both ends give the same counts)."""
    first = rows.order_by("at").values_list("at", flat=True).first()
    return first is not None and scope.since - first > timezone.now() - scope.since


def _flow_forward(scope: Scope, rows: QuerySet[Placement]) -> dict[str, Any]:
    """From the start: the rows before the first day, then each day's rows."""
    counts = dict.fromkeys(CATEGORIES, 0)
    before = rows.filter(at__lt=scope.since).order_by().values_list("category", "from_category").annotate(n=Count("*"))
    for entered, left, n in before:
        _apply(counts, entered, left, n)
    changes = _changes_per_day(scope, rows.filter(at__gte=scope.since, at__lt=scope.until))
    days = []
    for index, day in enumerate(scope.days()):
        for entered, left, n in changes.get(index, ()):
            _apply(counts, entered, left, n)
        days.append({"date": day, "counts": dict(counts)})
    return {"categories": CATEGORIES, "days": days}


def _flow_backward(scope: Scope, rows: QuerySet[Placement]) -> dict[str, Any]:
    """From now: the live tickets per category, undoing each day's rows back to the first day."""
    column_counts = (
        scope.all_tickets().filter(deleted_at__isnull=True).order_by().values_list("column_id").annotate(n=Count("*"))
    )
    categories = dict(scope.project.columns.values_list("pk", "category"))
    counts = dict.fromkeys(CATEGORIES, 0)
    for column_id, n in column_counts:
        counts[categories[column_id]] += n
    days = scope.days()
    changes = _changes_per_day(scope, rows.filter(at__gte=scope.since))
    result = []
    for index in range(len(days), -1, -1):
        if index < len(days):
            result.append({"date": days[index], "counts": dict(counts)})
        for entered, left, n in changes.get(index, ()):
            _apply(counts, entered, left, -n)
    return {"categories": CATEGORIES, "days": result[::-1]}


def _apply(counts: dict[str, int], entered: str | None, left: str | None, n: int) -> None:
    if entered in counts:
        counts[entered] += n
    if left in counts:
        counts[left] -= n


def _changes_per_day(scope: Scope, rows: QuerySet[Placement]) -> dict[int, list[tuple[str | None, str | None, int]]]:
    """{day index: [(category entered, category left, rows)]}; index len(days): after the last day.

    The day is found in the database by comparing `at` with the days' ends (a balanced tree of
    CASEs, a few comparisons a row), not by converting each timestamp to a local date: that
    conversion is a Python function per row on SQLite, and cost most of a 90-day diagram.
    """
    ends = [day_start(day + timedelta(days=1)) for day in scope.days()]

    def day_of(low: int, high: int) -> Any:
        if low == high:
            return Value(low)
        middle = (low + high) // 2
        return Case(When(at__lt=ends[middle], then=day_of(low, middle)), default=day_of(middle + 1, high))

    per_day = (
        rows.annotate(day=ExpressionWrapper(day_of(0, len(ends)), output_field=IntegerField()))
        .order_by()
        .values_list("day", "category", "from_category")
        .annotate(n=Count("*"))
    )
    changes: dict[int, list[tuple[str | None, str | None, int]]] = defaultdict(list)
    for day, entered, left, n in per_day:
        changes[day].append((entered, left, n))
    return changes


def _period_start(day: date, period: str) -> date:
    return day - timedelta(days=day.weekday()) if period == "week" else day


def throughput(scope: Scope, *, period: str = "week") -> dict[str, Any]:
    """Tickets and points done per week (Monday to Sunday) or per day, by completion date.

    {"period", "periods": [{"start", "end", "tickets", "points"}]}: the first and last weeks
    are cut to the scope's days. One query.
    """
    if period not in PERIODS:
        raise invalid("period", f"Unknown period '{period}': one of {', '.join(PERIODS)}.")
    done = completed(scope.all_tickets(), since=scope.since, until=scope.until).values_list("done_at", "estimate")
    tickets: dict[date, int] = defaultdict(int)
    points: dict[date, int] = defaultdict(int)
    zone = timezone.get_current_timezone()  # once: looking it up per row costs more than the query
    for done_at, estimate in done:
        key = _period_start(done_at.astimezone(zone).date(), period)
        tickets[key] += 1
        points[key] += estimate or 0
    periods = []
    first = _period_start(scope.start, period)
    length = 7 if period == "week" else 1
    for key in (first + timedelta(days=n) for n in range(0, (scope.end - first).days + 1, length)):
        periods.append(
            {
                "start": max(key, scope.start),
                "end": min(key + timedelta(days=length - 1), scope.end),
                "tickets": tickets[key],
                "points": points[key],
            }
        )
    return {"period": period, "periods": periods}


def _day(value: date | None, instant: Any) -> date | None:
    return value or (timezone.localdate(instant) if instant else None)


def velocity(*, project: Project, sprints: int = 6, tickets: QuerySet[Ticket] | None = None) -> dict[str, Any]:
    """Points committed and done in each of the last `sprints` started sprints, oldest first.

    A sprint's tickets are the live ones in it now plus those carried over from it when it was
    completed (sprint_complete's timeline rows): `committed_points` is their points,
    `completed_points`/`completed_tickets` those of its tickets done now (completion_dates'
    rule), `carried_over` the number of tickets carried over to another sprint or the backlog.
    `average_points` is the mean completed points of the closed sprints listed (the active one
    is still running), 0.0 without any. `tickets` narrows the tickets counted. Three queries.
    """
    chosen = list(
        Sprint.objects.filter(project=project, status__in=[Sprint.Status.ACTIVE, Sprint.Status.CLOSED]).order_by(
            F("started_at").desc(nulls_last=True), "-id"
        )[: max(sprints, 0)]
    )
    chosen.reverse()
    ids = [sprint.pk for sprint in chosen]
    live = Ticket.objects.filter(project=project, deleted_at__isnull=True)
    if tickets is not None:
        live = live.filter(pk__in=tickets.order_by().values("pk"))

    estimates: dict[int, int] = {}
    committed: dict[int, set[int]] = defaultdict(set)
    completed_ids: dict[int, set[int]] = defaultdict(set)
    in_sprints = (
        live.filter(sprint__in=ids)
        .order_by()
        .annotate(done_at=entered_done_at())
        .values_list("pk", "sprint_id", "estimate", "column__category", "done_at")
    )
    for pk, sprint_id, estimate, category, done_at in in_sprints:
        estimates[pk] = estimate or 0
        committed[sprint_id].add(pk)
        if category == Column.Category.DONE and done_at is not None:
            completed_ids[sprint_id].add(pk)
    # sprint_complete writes {"old": {"sprint": <id>}, "new": {"sprint": <id or null>}} for
    # each ticket it carries over (an edit of the sprint field names it as an object instead).
    carried: dict[int, set[int]] = defaultdict(set)
    carry_rows = Event.objects.filter(
        kind=Event.Kind.UPDATE, ticket__in=live.values("pk"), data__old__sprint__in=ids
    ).values_list("ticket_id", "data__old__sprint", "ticket__estimate")
    for pk, sprint_id, estimate in carry_rows:
        estimates[pk] = estimate or 0
        carried[sprint_id].add(pk)
        committed[sprint_id].add(pk)

    done_points = {sprint.pk: sum(estimates[pk] for pk in completed_ids[sprint.pk]) for sprint in chosen}
    rows = []
    for sprint in chosen:
        rows.append(
            {
                "id": sprint.pk,
                "name": sprint.name,
                "status": sprint.status,
                "start_date": _day(sprint.start_date, sprint.started_at),
                "end_date": _day(sprint.end_date, sprint.completed_at),
                "committed_points": sum(estimates[pk] for pk in committed[sprint.pk]),
                "completed_points": done_points[sprint.pk],
                "completed_tickets": len(completed_ids[sprint.pk]),
                "carried_over": len(carried[sprint.pk]),
            }
        )
    closed = [done_points[sprint.pk] for sprint in chosen if sprint.status == Sprint.Status.CLOSED]
    average = round(sum(closed) / len(closed), 2) if closed else 0.0
    return {"sprints": rows, "average_points": average}
