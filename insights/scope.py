"""What an insight looks at: a project's tickets (all, or a sprint's, a type's, a filter's) over days.

Days are dates in the site time zone (settings.TIME_ZONE); a day's instants run from its
start to the start of the next day in that zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from projects.models import Project, Sprint
from punt.errors import invalid
from tickets.models import Ticket

MAX_DAYS = 366  # the longest range, both ends included


@dataclass(frozen=True)
class Scope:
    project: Project
    start: date  # first day, inclusive
    end: date  # last day, inclusive
    # Restricts the tickets (a sprint's, a type's, a filter's); None: all of the project's,
    # soft-deleted ones too (their history is the board's history).
    tickets: QuerySet[Ticket] | None = None

    def all_tickets(self) -> QuerySet[Ticket]:
        """The tickets in scope, soft-deleted ones included."""
        return self.tickets if self.tickets is not None else Ticket.objects.filter(project=self.project)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    @property
    def since(self) -> datetime:
        """The first instant of the first day."""
        return day_start(self.start)

    @property
    def until(self) -> datetime:
        """The end of the last day: the first instant after the range."""
        return day_start(self.end + timedelta(days=1))


def day_start(day: date) -> datetime:
    """The first instant of `day` in the current time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def _as_date(field: str, value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise invalid(field, "Give a date as YYYY-MM-DD.") from None


def _sprint(project: Project, value: Any) -> Sprint | None:
    if value is None or value == "":
        return None
    if isinstance(value, Sprint):
        if value.project_id != project.pk:
            raise invalid("sprint", "No such sprint in this project.")
        return value
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise invalid("sprint", "Give a sprint id (a whole number).") from None
    sprint = Sprint.objects.filter(project=project, pk=pk).first() if 0 < pk < 2**63 else None
    if sprint is None:
        raise invalid("sprint", "No such sprint in this project.")
    return sprint


def _sprint_days(sprint: Sprint, today: date) -> tuple[date | None, date | None]:
    """The sprint's days as far as they are known: planned dates, else when it ran (or runs to today)."""
    start = sprint.start_date or (timezone.localdate(sprint.started_at) if sprint.started_at else None)
    end = sprint.end_date or (timezone.localdate(sprint.completed_at) if sprint.completed_at else None)
    if start is not None and start <= today and (end is None or end > today):
        end = today  # the days ahead have no history yet
    return start, end


def scope_for(
    *,
    project: Project,
    start: date | str | None = None,
    end: date | str | None = None,
    sprint: Sprint | int | str | None = None,
    type: str | None = None,
    tickets: QuerySet[Ticket] | None = None,
    default_days: int = 90,
) -> Scope:
    """The scope an insight reads, from what a caller asked; raises Invalid naming from/to/sprint/type.

    `end` defaults to today, `start` to `default_days` days up to `end`. A sprint narrows to
    its tickets and, when neither end is given, to its days (up to today while it runs). `type`
    narrows to one ticket type; `tickets` (a filter's tickets) to those. Ranges are at most
    MAX_DAYS days, `end` not before `start`.
    """
    start_day = _as_date("from", start)
    end_day = _as_date("to", end)
    sprint_obj = _sprint(project, sprint)
    if type not in (None, "") and type not in Ticket.Type.values:
        raise invalid("type", f"Unknown type '{type}': one of {', '.join(Ticket.Type.values)}.")
    today = timezone.localdate()
    if sprint_obj is not None and start_day is None and end_day is None:
        start_day, end_day = _sprint_days(sprint_obj, today)
    end_day = end_day or (today if start_day is None or start_day <= today else start_day)
    start_day = start_day or end_day - timedelta(days=default_days - 1)
    if end_day < start_day:
        raise invalid("to", "The end of the range cannot be before its start.")
    if (end_day - start_day).days + 1 > MAX_DAYS:
        raise invalid("from", f"A range covers at most {MAX_DAYS} days.")

    narrowed = tickets
    if sprint_obj is not None or type:
        narrowed = narrowed if narrowed is not None else Ticket.objects.filter(project=project)
        if sprint_obj is not None:
            narrowed = narrowed.filter(sprint=sprint_obj)
        if type:
            narrowed = narrowed.filter(type=type)
    if narrowed is not None:
        narrowed = narrowed.filter(project=project)
    return Scope(project=project, start=start_day, end=end_day, tickets=narrowed)
