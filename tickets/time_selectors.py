"""Reads for time tracking: time entries, the time report, the weekly timesheet, estimates.

One rule decides which time anyone may read: entries on live (not deleted) tickets in the
projects the caller can see, archived projects included (their history still counts).
Site admins see every project. Each report is one aggregate query whatever its size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from projects.models import Project
from projects.permissions import check_role, visible_projects
from punt.errors import NotFound
from punt.ranges import as_id
from tickets.models import Ticket, TimeEntry
from tickets.selectors import CARD_KEY_RE

GROUP_BY = ("project", "user", "ticket", "day")


def _id_is(field: str, text: str) -> Q:
    """`field` equals the id `text`; an id no row can have ("²", 2^63) matches nothing."""
    pk = as_id(text)
    return Q(**{field: pk}) if pk is not None else Q(pk__in=[])


def _visible(user: Any) -> Q:
    if user.is_staff:
        return Q(ticket__deleted_at__isnull=True)
    projects = visible_projects(user, include_archived=True).values("pk")
    return Q(ticket__deleted_at__isnull=True, ticket__project__in=projects)


def ticket_for_time(*, user: Any, ref: str | int, needed: str) -> Ticket:
    """The live ticket `ref` (its id, or its key like "BLOG-3") if `user` has `needed` in its project.

    Outsiders get 404 (as if it did not exist), members below `needed` 403.
    """
    text = str(ref).strip()
    queryset = Ticket.objects.select_related("project").filter(deleted_at__isnull=True)
    match = CARD_KEY_RE.match(text)
    pk = as_id(text)
    if pk is not None:
        ticket = queryset.filter(pk=pk).first()
    elif match:
        ticket = queryset.filter(project__key=match.group(1).upper(), number=int(match.group(2))).first()
    else:
        ticket = None
    if ticket is None:
        raise NotFound("Ticket not found.")
    try:
        check_role(user, ticket.project, needed)
    except NotFound:
        # An outsider learns nothing, not even that the project exists.
        raise NotFound("Ticket not found.") from None
    return ticket


def time_entries_visible(*, user: Any) -> QuerySet[TimeEntry]:
    """Every entry `user` may read, with what the entry JSON shows."""
    return (
        TimeEntry.objects.filter(_visible(user))
        .select_related("ticket", "ticket__project", "user")
        .order_by("-date", "-id")
    )


def time_entry_get(*, user: Any, pk: int) -> TimeEntry:
    entry = time_entries_visible(user=user).filter(pk=pk).first() if as_id(str(pk)) is not None else None
    if entry is None:
        raise NotFound("Time entry not found.")
    return entry


@dataclass(frozen=True)
class TimeFilter:
    """The filters every time read shares; None = not filtered."""

    date_from: date | None = None
    date_to: date | None = None
    project: Project | None = None
    user: str | None = None  # user name or id
    ticket: str | None = None  # ticket id or key

    def q(self) -> Q:
        q = Q()
        if self.date_from is not None:
            q &= Q(date__gte=self.date_from)
        if self.date_to is not None:
            q &= Q(date__lte=self.date_to)
        if self.project is not None:
            q &= Q(ticket__project=self.project)
        if self.user:
            text = self.user.strip()
            q &= _id_is("user_id", text) if text.isdigit() else Q(user__username__iexact=text)
        if self.ticket:
            text = self.ticket.strip()
            match = CARD_KEY_RE.match(text)
            if text.isdigit():
                q &= _id_is("ticket_id", text)
            elif match:
                q &= Q(ticket__project__key=match.group(1).upper(), ticket__number=int(match.group(2)))
            else:
                q &= Q(pk__in=[])
        return q


def time_entries_own(*, user: Any, filters: TimeFilter) -> QuerySet[TimeEntry]:
    return time_entries_visible(user=user).filter(filters.q(), user=user)


def _hours(minutes: int) -> float:
    return round(minutes / 60, 2)


def time_report(*, user: Any, group_by: str, filters: TimeFilter) -> dict[str, Any]:
    """Minutes and entry counts over the visible entries matching `filters`, one row per group.

    Rows: project (by name), user (by user name), ticket (by key; with its estimate), day
    (by date). Only groups with time appear.
    """
    if group_by not in GROUP_BY:
        raise ValueError(group_by)
    entries = TimeEntry.objects.filter(_visible(user), filters.q()).order_by()
    fields = {
        "project": ("ticket__project_id", "ticket__project__key", "ticket__project__slug", "ticket__project__name"),
        "user": ("user_id", "user__username", "user__display_name"),
        "ticket": (
            "ticket_id",
            "ticket__project__key",
            "ticket__number",
            "ticket__title",
            "ticket__estimate",
            "ticket__state",
        ),
        "day": ("date",),
    }[group_by]
    ordering = {
        "project": ("ticket__project__name", "ticket__project_id"),
        "user": ("user__username",),
        "ticket": ("ticket__project__key", "ticket__number"),
        "day": ("date",),
    }[group_by]
    groups = entries.values(*fields).annotate(minutes=Sum("minutes"), entries=Count("id")).order_by(*ordering)
    rows = [_report_row(group_by, group) for group in groups]
    total = sum(row["minutes"] for row in rows)
    return {
        "group_by": group_by,
        "from": filters.date_from,
        "to": filters.date_to,
        "total_minutes": total,
        "total_hours": _hours(total),
        "total_entries": sum(row["entries"] for row in rows),
        "rows": rows,
    }


def _report_row(group_by: str, group: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any]
    if group_by == "project":
        row = {
            "project": {
                "id": group["ticket__project_id"],
                "key": group["ticket__project__key"],
                "slug": group["ticket__project__slug"],
                "name": group["ticket__project__name"],
            }
        }
    elif group_by == "user":
        name = group["user__display_name"] or group["user__username"]
        row = {"user": {"id": group["user_id"], "username": group["user__username"], "name": name}}
    elif group_by == "ticket":
        row = {
            "ticket": {
                "id": group["ticket_id"],
                "key": f"{group['ticket__project__key']}-{group['ticket__number']}",
                "title": group["ticket__title"],
                "state": group["ticket__state"],
            },
            "estimate": group["ticket__estimate"],
        }
    else:
        row = {"date": group["date"]}
    row["minutes"] = group["minutes"]
    row["hours"] = _hours(group["minutes"])
    row["entries"] = group["entries"]
    return row


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"  # four digits: what the week parameter accepts


def timesheet(*, user: Any, monday: date) -> dict[str, Any]:
    """The user's own visible time from `monday` to the Sunday after, per ticket and day."""
    sunday = monday + timedelta(days=6)
    groups = (
        TimeEntry.objects.filter(_visible(user), user=user, date__gte=monday, date__lte=sunday)
        .order_by()
        .values("ticket_id", "ticket__project__key", "ticket__number", "ticket__title", "date")
        .annotate(minutes=Sum("minutes"))
        .order_by("ticket__project__key", "ticket__number", "date")
    )
    days = [monday + timedelta(days=offset) for offset in range(7)]
    per_day = [0] * 7
    rows: dict[int, dict[str, Any]] = {}
    for group in groups:
        row = rows.setdefault(
            group["ticket_id"],
            {
                "ticket": {
                    "id": group["ticket_id"],
                    "key": f"{group['ticket__project__key']}-{group['ticket__number']}",
                    "title": group["ticket__title"],
                },
                "minutes": [0] * 7,
                "total": 0,
            },
        )
        offset = (group["date"] - monday).days
        row["minutes"][offset] += group["minutes"]
        row["total"] += group["minutes"]
        per_day[offset] += group["minutes"]
    return {
        "week": iso_week(monday),
        "start": monday,
        "end": sunday,
        "previous_week": iso_week(monday - timedelta(days=7)),
        "next_week": iso_week(monday + timedelta(days=7)),
        "days": [
            {"date": day, "weekday": day.strftime("%a"), "minutes": minutes}
            for day, minutes in zip(days, per_day, strict=True)
        ],
        "rows": list(rows.values()),
        "total_minutes": sum(per_day),
    }


def estimates_report(*, project: Project, sprint_id: int | None = None) -> dict[str, Any]:
    """Per live ticket with an estimate or logged time: estimate (points) against minutes spent.

    Precondition: the caller can see `project`. All time on the ticket counts, whoever logged it.
    """
    spent = (
        TimeEntry.objects.filter(ticket=OuterRef("pk"))
        .order_by()
        .values("ticket")
        .annotate(total=Sum("minutes"))
        .values("total")
    )
    tickets = (
        Ticket.objects.filter(project=project, deleted_at__isnull=True)
        .annotate(spent=Coalesce(Subquery(spent, output_field=IntegerField()), Value(0)))
        .filter(Q(estimate__isnull=False) | Q(spent__gt=0))
        .order_by("number")
        .values("id", "number", "title", "state", "estimate", "spent")
    )
    if sprint_id is not None:
        tickets = tickets.filter(sprint_id=sprint_id)
    rows = [
        {
            "ticket": {
                "id": ticket["id"],
                "key": f"{project.key}-{ticket['number']}",
                "title": ticket["title"],
                "state": ticket["state"],
            },
            "estimate": ticket["estimate"],
            "spent_minutes": ticket["spent"],
            "spent_hours": _hours(ticket["spent"]),
        }
        for ticket in tickets
    ]
    estimated = [row for row in rows if row["estimate"]]
    points = sum(row["estimate"] for row in estimated)
    points_minutes = sum(row["spent_minutes"] for row in estimated)
    return {
        "project": {"id": project.pk, "key": project.key, "slug": project.slug, "name": project.name},
        "total_estimate": sum(row["estimate"] or 0 for row in rows),
        "total_spent_minutes": sum(row["spent_minutes"] for row in rows),
        # How long a point has taken so far, over the estimated tickets (null before any).
        "minutes_per_point": round(points_minutes / points, 1) if points else None,
        "rows": rows,
    }
