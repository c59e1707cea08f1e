"""GET /api/v1/projects/<slug>/insights/<name>: JSON and CSV against numbers worked out by hand,
permissions, API key scope, query parameters and query counts.

The history (BLOG, built through the services on the controlled clock; "today" is Tue Nov 10 12:00 UTC):

    Mon Nov 2  09:00 A (task, 3 pts) and B (bug, 5 pts) created in To Do; 10:00 C (task, 2) in Backlog
               and E (task, 1) in To Do
    Tue Nov 3  09:00 A, B -> In Progress; 12:00 E -> In Progress
    Wed Nov 4  09:00 A -> Review
    Thu Nov 5  09:00 B -> Done; 12:00 D (feature, 8) created in To Do; 21:00 A -> Done
    Fri Nov 6  09:00 B -> To Do (reopened); 15:00 D deleted
    Sat Nov 7  09:00 B -> In Progress
    Mon Nov 9  06:00 C -> In Progress; 09:00 B -> Done

A: lead 3.5 days, cycle 2.5 (Nov 3 09:00 -> Nov 5 21:00); B: lead 7.0, cycle 2.0 (from its last start,
Nov 7 09:00). Sprint 1 (Nov 2-8: A, B, E) closes Fri Nov 6 18:00 with B and E carried to sprint 2
(Nov 9-15), started Mon Nov 9 08:00.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import api_key_create
from projects.models import Column, Project
from projects.services.columns import column_create
from projects.services.sprints import sprint_complete, sprint_create, sprint_start
from tests.factories import ProjectFactory, UserFactory
from tickets.models import Ticket
from tickets.services import ticket_create, ticket_delete, ticket_move

pytestmark = pytest.mark.django_db

NAMES = ["cumulative-flow", "cycle-time", "throughput", "velocity", "forecast", "aging-wip"]
TODAY = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def url(project: Project, name: str, query: str = "") -> str:
    return f"/api/v1/projects/{project.slug}/insights/{name}" + (f"?{query}" if query else "")


def csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode())))


class History:
    def __init__(self, personas: Any, clock: Any) -> None:
        self.p = personas
        self.project = project = personas.project
        by = self.owner = personas.owner
        columns = {column.category: column for column in project.columns.all()}
        clock.set(at(1, 12))
        columns[Column.Category.BACKLOG] = column_create(
            project=project, name="Backlog", by=by, category=Column.Category.BACKLOG
        )
        columns[Column.Category.IN_REVIEW] = column_create(
            project=project, name="Review", by=by, category=Column.Category.IN_REVIEW
        )
        self.columns = columns
        todo, doing, review, done = (columns[c] for c in ("todo", "in_progress", "in_review", "done"))
        self.sprint1 = sprint_create(
            project=project, name="Sprint 1", by=by, start_date=date(2026, 11, 2), end_date=date(2026, 11, 8)
        )
        self.sprint2 = sprint_create(
            project=project, name="Sprint 2", by=by, start_date=date(2026, 11, 9), end_date=date(2026, 11, 15)
        )

        clock.set(at(2, 8))
        sprint_start(sprint=self.sprint1, by=by)
        clock.set(at(2, 9))
        self.a = self.create("Write the post", "task", 3, todo, sprint=self.sprint1)
        self.b = self.create("Fix the feed", "bug", 5, todo, sprint=self.sprint1)
        clock.set(at(2, 10))
        self.c = self.create("Pick a theme", "task", 2, columns[Column.Category.BACKLOG])
        self.e = self.create("=Tweet it", "task", 1, todo, sprint=self.sprint1)  # a formula-like title

        clock.set(at(3, 9))
        self.move(self.a, doing)
        self.move(self.b, doing)
        clock.set(at(3, 12))
        self.move(self.e, doing)

        clock.set(at(4, 9))
        self.move(self.a, review)

        clock.set(at(5, 9))
        self.move(self.b, done)
        clock.set(at(5, 12))
        self.d = self.create("Comments", "feature", 8, todo)
        clock.set(at(5, 21))
        self.move(self.a, done)

        clock.set(at(6, 9))
        self.move(self.b, todo)
        clock.set(at(6, 15))
        ticket_delete(ticket=Ticket.objects.get(pk=self.d.pk), by=by)
        clock.set(at(6, 18))
        sprint_complete(sprint=self.sprint1, by=by, move_to=self.sprint2)
        clock.set(at(7, 9))
        self.move(self.b, doing)

        clock.set(at(9, 8))
        sprint_start(sprint=self.sprint2, by=by)
        clock.set(at(9, 6))
        self.move(self.c, doing)
        clock.set(at(9, 9))
        self.move(self.b, done)

        clock.set(TODAY)

    def create(self, title: str, type: str, estimate: int, column: Column, sprint: Any = None) -> Ticket:
        return ticket_create(
            project=self.project, by=self.owner, title=title, type=type, estimate=estimate, column=column, sprint=sprint
        )

    def move(self, ticket: Ticket, column: Column) -> None:
        ticket_move(ticket=Ticket.objects.get(pk=ticket.pk), column=column, by=self.owner)

    def get(self, name: str, query: str = "", role: str = "viewer", **headers: str) -> Any:
        return self.p.client(role).get(url(self.project, name, query), **headers)


@pytest.fixture
def history(personas, clock) -> History:
    return History(personas, clock)


def counts(backlog: int, todo: int, in_progress: int, in_review: int, done: int) -> dict[str, int]:
    return {"backlog": backlog, "todo": todo, "in_progress": in_progress, "in_review": in_review, "done": done}


# Tickets per category at the end of Nov 2 ... Nov 10 (see the history above).
FLOW = [
    ("2026-11-02", counts(1, 3, 0, 0, 0)),
    ("2026-11-03", counts(1, 0, 3, 0, 0)),
    ("2026-11-04", counts(1, 0, 2, 1, 0)),
    ("2026-11-05", counts(1, 1, 1, 0, 2)),
    ("2026-11-06", counts(1, 1, 1, 0, 1)),
    ("2026-11-07", counts(1, 0, 2, 0, 1)),
    ("2026-11-08", counts(1, 0, 2, 0, 1)),
    ("2026-11-09", counts(0, 0, 2, 0, 2)),
    ("2026-11-10", counts(0, 0, 2, 0, 2)),
]


# --------------------------------------------------------------------------- cumulative flow


def test_cumulative_flow(history):
    response = history.get("cumulative-flow", "from=2026-11-02&to=2026-11-10")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "from": "2026-11-02",
        "to": "2026-11-10",
        "categories": ["backlog", "todo", "in_progress", "in_review", "done"],
        "days": [{"date": day, "counts": day_counts} for day, day_counts in FLOW],
    }


def test_cumulative_flow_defaults_to_the_last_90_days(history):
    body = history.get("cumulative-flow").json()
    assert (body["from"], body["to"], len(body["days"])) == ("2026-08-13", "2026-11-10", 90)
    assert body["days"][0]["counts"] == counts(0, 0, 0, 0, 0)
    assert [day["counts"] for day in body["days"][-9:]] == [day_counts for _, day_counts in FLOW]


def test_cumulative_flow_as_csv(history):
    rows = csv_rows(history.get("cumulative-flow", "from=2026-11-02&to=2026-11-10&format=csv"))
    assert rows[0] == ["date", "backlog", "todo", "in_progress", "in_review", "done"]
    assert rows[1:] == [[day, *(str(n) for n in day_counts.values())] for day, day_counts in FLOW]
    response = history.get("cumulative-flow", "from=2026-11-02&to=2026-11-10", HTTP_ACCEPT="text/csv")
    assert csv_rows(response) == rows
    assert response["Content-Disposition"] == 'attachment; filename="BLOG-cumulative-flow-2026-11-02-to-2026-11-10.csv"'


def test_cumulative_flow_of_a_sprint_and_a_type(history):
    # Sprint 1's tickets (A, B, E; sprint 2 has B and E now, so sprint 1 keeps A) over its own days.
    body = history.get("cumulative-flow", f"sprint={history.sprint1.pk}").json()
    assert (body["from"], body["to"]) == ("2026-11-02", "2026-11-08")
    assert [day["counts"] for day in body["days"]] == [
        counts(0, 1, 0, 0, 0),
        counts(0, 0, 1, 0, 0),
        counts(0, 0, 0, 1, 0),
        counts(0, 0, 0, 0, 1),
        counts(0, 0, 0, 0, 1),
        counts(0, 0, 0, 0, 1),
        counts(0, 0, 0, 0, 1),
    ]
    bugs = history.get("cumulative-flow", "type=bug&from=2026-11-04&to=2026-11-06").json()
    assert [day["counts"] for day in bugs["days"]] == [
        counts(0, 0, 1, 0, 0),
        counts(0, 0, 0, 0, 1),
        counts(0, 1, 0, 0, 0),
    ]


def test_cumulative_flow_with_a_pql_filter(history):
    body = history.get("cumulative-flow", "from=2026-11-05&to=2026-11-05&q=estimate >= 5").json()
    # B (5, done) and D (8, in To Do until its deletion the next day).
    assert body["days"] == [{"date": "2026-11-05", "counts": counts(0, 1, 0, 0, 1)}]


# --------------------------------------------------------------------------- cycle time


def _time(ticket: Ticket, started: str, done: str, lead: float, cycle: float) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "key": ticket.key,
        "title": ticket.title,
        "type": ticket.type,
        "estimate": ticket.estimate,
        "created_at": timezone.localtime(ticket.created_at).isoformat().replace("+00:00", "Z"),
        "started_at": started,
        "done_at": done,
        "lead_days": lead,
        "cycle_days": cycle,
    }


def stats(count: int, cycle: tuple[float, float, float], lead: tuple[float, float, float]) -> dict[str, Any]:
    return {
        "count": count,
        "cycle": dict(zip(("p50", "p85", "p95"), cycle, strict=True)),
        "lead": dict(zip(("p50", "p85", "p95"), lead, strict=True)),
    }


def test_cycle_time(history):
    response = history.get("cycle-time", "from=2026-11-02&to=2026-11-10")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "from": "2026-11-02",
        "to": "2026-11-10",
        "tickets": [
            _time(history.a, "2026-11-03T09:00:00Z", "2026-11-05T21:00:00Z", 3.5, 2.5),
            _time(history.b, "2026-11-07T09:00:00Z", "2026-11-09T09:00:00Z", 7.0, 2.0),
        ],
        "percentiles": {
            "all": stats(2, (2.0, 2.5, 2.5), (3.5, 7.0, 7.0)),
            "by_type": {
                "task": stats(1, (2.5, 2.5, 2.5), (3.5, 3.5, 3.5)),
                "bug": stats(1, (2.0, 2.0, 2.0), (7.0, 7.0, 7.0)),
            },
        },
    }


def test_cycle_time_as_csv(history):
    response = history.get("cycle-time", "from=2026-11-02&to=2026-11-10&format=csv")
    assert response["Content-Disposition"] == 'attachment; filename="BLOG-cycle-time-2026-11-02-to-2026-11-10.csv"'
    assert csv_rows(response) == [
        ["key", "title", "type", "estimate", "created_at", "started_at", "done_at", "lead_days", "cycle_days"],
        ["BLOG-1", "Write the post", "task", "3", "2026-11-02T09:00:00+00:00", "2026-11-03T09:00:00+00:00",
         "2026-11-05T21:00:00+00:00", "3.5", "2.5"],
        ["BLOG-2", "Fix the feed", "bug", "5", "2026-11-02T09:00:00+00:00", "2026-11-07T09:00:00+00:00",
         "2026-11-09T09:00:00+00:00", "7.0", "2.0"],
    ]  # fmt: skip


def test_cycle_time_counts_tickets_done_in_the_range(history):
    body = history.get("cycle-time", "from=2026-11-06&to=2026-11-10").json()
    assert [t["key"] for t in body["tickets"]] == ["BLOG-2"]
    assert history.get("cycle-time", "from=2026-11-02&to=2026-11-10&type=task").json()["percentiles"]["by_type"] == {
        "task": stats(1, (2.5, 2.5, 2.5), (3.5, 3.5, 3.5))
    }


# --------------------------------------------------------------------------- throughput


def test_throughput_by_week_and_by_day(history):
    weekly = history.get("throughput", "from=2026-11-02&to=2026-11-15")
    assert weekly.status_code == 200, weekly.content
    assert weekly.json() == {
        "from": "2026-11-02",
        "to": "2026-11-15",
        "period": "week",
        "periods": [
            {"start": "2026-11-02", "end": "2026-11-08", "tickets": 1, "points": 3},  # A (B was reopened)
            {"start": "2026-11-09", "end": "2026-11-15", "tickets": 1, "points": 5},  # B
        ],
    }
    daily = history.get("throughput", "from=2026-11-04&to=2026-11-09&period=day").json()
    assert daily["period"] == "day"
    assert [(p["start"], p["end"], p["tickets"], p["points"]) for p in daily["periods"]] == [
        ("2026-11-04", "2026-11-04", 0, 0),
        ("2026-11-05", "2026-11-05", 1, 3),
        ("2026-11-06", "2026-11-06", 0, 0),
        ("2026-11-07", "2026-11-07", 0, 0),
        ("2026-11-08", "2026-11-08", 0, 0),
        ("2026-11-09", "2026-11-09", 1, 5),
    ]


def test_throughput_as_csv(history):
    response = history.get("throughput", "from=2026-11-02&to=2026-11-15&format=csv")
    assert response["Content-Disposition"] == 'attachment; filename="BLOG-throughput-2026-11-02-to-2026-11-15.csv"'
    assert csv_rows(response) == [
        ["start", "end", "tickets", "points"],
        ["2026-11-02", "2026-11-08", "1", "3"],
        ["2026-11-09", "2026-11-15", "1", "5"],
    ]


# --------------------------------------------------------------------------- velocity


def test_velocity(history):
    response = history.get("velocity")
    assert response.status_code == 200, response.content
    sprint1, sprint2 = history.sprint1, history.sprint2
    assert response.json() == {
        "sprints": [
            {
                "id": sprint1.pk,
                "name": "Sprint 1",
                "status": "closed",
                "start_date": "2026-11-02",
                "end_date": "2026-11-08",
                "committed_points": 9,
                "completed_points": 3,
                "completed_tickets": 1,
                "carried_over": 2,
            },
            {
                "id": sprint2.pk,
                "name": "Sprint 2",
                "status": "active",
                "start_date": "2026-11-09",
                "end_date": "2026-11-15",
                "committed_points": 6,
                "completed_points": 5,
                "completed_tickets": 1,
                "carried_over": 0,
            },
        ],
        "average_points": 3.0,
    }


def test_velocity_of_one_type(history):
    # Only B: carried over from sprint 1, done in sprint 2.
    body = history.get("velocity", "type=bug").json()
    assert [
        (row["name"], row["committed_points"], row["completed_points"], row["completed_tickets"], row["carried_over"])
        for row in body["sprints"]
    ] == [("Sprint 1", 5, 0, 0, 1), ("Sprint 2", 5, 5, 1, 0)]
    assert body["average_points"] == 0.0


def test_velocity_as_csv(history):
    response = history.get("velocity", "sprints=1", HTTP_ACCEPT="text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="BLOG-velocity-2026-11-10.csv"'
    assert csv_rows(response) == [
        [
            "sprint_id",
            "name",
            "status",
            "start_date",
            "end_date",
            "committed_points",
            "completed_points",
            "completed_tickets",
            "carried_over",
        ],
        [str(history.sprint2.pk), "Sprint 2", "active", "2026-11-09", "2026-11-15", "6", "5", "1", "0"],
    ]


# --------------------------------------------------------------------------- aging work in progress


def test_aging_wip(history):
    response = history.get("aging-wip")
    assert response.status_code == 200, response.content
    in_progress = {"id": history.columns["in_progress"].pk, "name": "In Progress", "category": "in_progress"}
    assert response.json() == {
        "p85_days": 2.5,
        "tickets": [
            {
                "id": history.e.pk,
                "key": "BLOG-4",
                "title": "=Tweet it",
                "column": in_progress,
                "started_at": "2026-11-03T12:00:00Z",
                "age_days": 7.0,
                "over": True,
            },
            {
                "id": history.c.pk,
                "key": "BLOG-3",
                "title": "Pick a theme",
                "column": in_progress,
                "started_at": "2026-11-09T06:00:00Z",
                "age_days": 1.25,
                "over": False,
            },
        ],
    }
    only_sprint2 = history.get("aging-wip", f"sprint={history.sprint2.pk}").json()
    assert [t["key"] for t in only_sprint2["tickets"]] == ["BLOG-4"]


def test_aging_wip_as_csv_keeps_formulas_as_text(history):
    response = history.get("aging-wip", "format=csv")
    assert response["Content-Disposition"] == 'attachment; filename="BLOG-aging-wip-2026-11-10.csv"'
    assert csv_rows(response) == [
        ["key", "title", "column", "category", "started_at", "age_days", "over", "p85_days"],
        ["BLOG-4", "'=Tweet it", "In Progress", "in_progress", "2026-11-03T12:00:00+00:00", "7.0", "true", "2.5"],
        ["BLOG-3", "Pick a theme", "In Progress", "in_progress", "2026-11-09T06:00:00+00:00", "1.25", "false", "2.5"],
    ]


# --------------------------------------------------------------------------- forecast


class Steady:
    """STDY: one ticket done each day of the week before today (Fri Nov 6 .. Thu Nov 12; today
    is Fri Nov 13), and an epic with four open sub-tickets, one of them a bug in sprint "Now"."""

    def __init__(self, clock: Any) -> None:
        self.owner = UserFactory(username="sally")
        self.project = project = ProjectFactory(owner_user=self.owner, name="Steady", key="STDY")
        by = self.owner
        todo, done = (project.columns.get(category=c) for c in ("todo", "done"))
        clock.set(at(1, 9))
        self.sprint = sprint_create(project=project, name="Now", by=by)
        self.epic = ticket_create(project=project, by=by, title="Launch", type="epic", column=todo)
        self.parts = [
            ticket_create(project=project, by=by, title=f"Part {n}", column=todo, parent=self.epic) for n in range(3)
        ]
        self.parts.append(
            ticket_create(
                project=project, by=by, title="Bug", type="bug", column=todo, parent=self.epic, sprint=self.sprint
            )
        )
        for day in range(6, 13):
            clock.set(at(day, 10))
            ticket = ticket_create(project=project, by=by, title=f"Done {day}", column=todo)
            ticket_move(ticket=ticket, column=done, by=by)
        clock.set(at(13, 18))

    def get(self, query: str = "") -> Any:
        client = APIClient()
        client.force_authenticate(self.owner)
        return client.get(url(self.project, "forecast", query))


def test_forecast_of_an_epic_with_steady_throughput(clock):
    steady = Steady(clock)
    response = steady.get(f"epic={steady.epic.key}&weeks=1")
    assert response.status_code == 200, response.content
    body = response.json()
    # One a day, every day: four tickets take four days (today and the next three) whatever the draws.
    assert body["remaining"] == 4
    assert (body["weeks"], body["sample_days"]) == (1, 7)
    assert body["dates"] == {"50": "2026-11-16", "85": "2026-11-16", "95": "2026-11-16"}
    assert body["sentence"] == "The remaining 4 tickets finish by Nov 16 with 85% confidence."
    assert steady.get(f"epic={steady.epic.pk}&weeks=1").json() == body


def test_forecast_of_a_sprint_a_type_a_filter_or_everything(clock):
    steady = Steady(clock)
    assert steady.get(f"sprint={steady.sprint.pk}&weeks=1").json()["remaining"] == 1
    assert steady.get("type=bug&weeks=1").json()["remaining"] == 1
    assert steady.get('q=title ~ "Part"&weeks=1').json()["remaining"] == 3
    # Together they all apply.
    assert steady.get(f"epic={steady.epic.key}&type=bug&weeks=1").json()["remaining"] == 1
    assert steady.get(f'epic={steady.epic.key}&q=title ~ "Part"&weeks=1').json()["remaining"] == 3
    # Every open ticket: the epic itself too.
    assert steady.get("weeks=1").json()["remaining"] == 5


def test_forecast_as_csv(clock):
    steady = Steady(clock)
    client = APIClient()
    client.force_authenticate(steady.owner)
    response = client.get(url(steady.project, "forecast", f"epic={steady.epic.key}&weeks=1&format=csv"))
    assert response["Content-Disposition"] == 'attachment; filename="STDY-forecast-2026-11-13.csv"'
    assert csv_rows(response) == [
        ["confidence", "date", "remaining", "weeks", "sample_days"],
        ["50", "2026-11-16", "4", "1", "7"],
        ["85", "2026-11-16", "4", "1", "7"],
        ["95", "2026-11-16", "4", "1", "7"],
    ]


def test_forecast_without_throughput_has_no_dates(personas, clock):
    personas.project.columns.first()
    ticket_create(project=personas.project, by=personas.owner, title="Lonely")
    body = personas.client("viewer").get(url(personas.project, "forecast")).json()
    assert body["remaining"] == 1
    assert body["dates"] == {"50": None, "85": None, "95": None}


# --------------------------------------------------------------------------- permissions


@pytest.mark.parametrize("name", NAMES)
def test_viewers_and_up_read_insights(personas, name):
    statuses = personas.matrix("GET", url(personas.project, name))
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 200, "member": 200, "admin": 200, "owner": 200}


@pytest.mark.parametrize("name", NAMES)
def test_an_unknown_project_is_a_404(personas, name):
    response = personas.client("owner").get(f"/api/v1/projects/nope/insights/{name}")
    assert response.status_code == 404
    assert response.json() == {"error": "Project not found."}


def test_an_unknown_insight_is_a_404(personas):
    response = personas.client("owner").get(url(personas.project, "burnup"))
    assert response.status_code == 404


@pytest.mark.parametrize("name", NAMES)
def test_an_archived_project_still_reads(personas, name):
    Project.objects.filter(pk=personas.project.pk).update(archived_at=timezone.now())
    assert personas.client("viewer").get(url(personas.project, name)).status_code == 200
    assert personas.client("viewer").get(url(personas.project, name, "format=csv")).status_code == 200


@pytest.mark.parametrize("name", NAMES)
def test_an_api_key_needs_the_tickets_read_scope(personas, name):
    _, without = api_key_create(user=personas.viewer, name="projects only", scopes=["projects:read"])
    _, with_scope = api_key_create(user=personas.viewer, name="tickets", scopes=["tickets:read"])
    client = APIClient()
    response = client.get(url(personas.project, name), HTTP_X_API_KEY=without)
    assert response.status_code == 403
    assert response.json() == {"error": "This API key lacks the 'tickets:read' scope."}
    assert client.get(url(personas.project, name), HTTP_X_API_KEY=with_scope).status_code == 200


def test_an_outsider_learns_nothing_from_bad_parameters(personas):
    response = personas.client("outsider").get(url(personas.project, "cumulative-flow", "from=nope"))
    assert response.status_code == 404


# --------------------------------------------------------------------------- bad parameters


def _fields(response: Any) -> list[str]:
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"error", "details"} and body["error"]
    return [detail["field"] for detail in body["details"]]


@pytest.mark.parametrize(
    ("name", "query", "field"),
    [
        ("cumulative-flow", "from=2026-13-01", "from"),
        ("cumulative-flow", "to=yesterday", "to"),
        ("cumulative-flow", "from=2026-11-10&to=2026-11-01", "to"),
        ("cumulative-flow", "from=2024-01-01&to=2026-01-01", "from"),
        ("cumulative-flow", "type=saga", "type"),
        ("cumulative-flow", "sprint=abc", "sprint"),
        ("cumulative-flow", "sprint=999999", "sprint"),
        ("cumulative-flow", "sprint=99999999999999999999", "sprint"),
        ("cumulative-flow", "q=status ==", "q"),
        ("cycle-time", "from=11/02/2026", "from"),
        ("throughput", "period=month", "period"),
        ("velocity", "sprints=0", "sprints"),
        ("velocity", "sprints=53", "sprints"),
        ("velocity", "q=nosuchfield = 1", "q"),
        ("forecast", "weeks=0", "weeks"),
        ("forecast", "weeks=53", "weeks"),
        ("forecast", "weeks=many", "weeks"),
        ("forecast", "epic=BLOG-999", "epic"),
        ("forecast", "epic=OTHER-1", "epic"),
        ("forecast", "sprint=0", "sprint"),
        ("aging-wip", "type=nope", "type"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(personas, name, query, field):
    response = personas.client("viewer").get(url(personas.project, name, query))
    assert _fields(response) == [field]
    # Also when CSV was asked for: errors stay JSON.
    response = personas.client("viewer").get(url(personas.project, name, f"{query}&format=csv"))
    assert response["Content-Type"] == "application/json"
    assert _fields(response) == [field]


def test_another_projects_sprint_is_refused(personas):
    other = ProjectFactory(owner_user=personas.owner)
    sprint = sprint_create(project=other, name="Theirs", by=personas.owner)
    for name in ("cumulative-flow", "forecast", "aging-wip"):
        response = personas.client("owner").get(url(personas.project, name, f"sprint={sprint.pk}"))
        assert _fields(response) == ["sprint"]


# --------------------------------------------------------------------------- query counts


# The project with the caller's role (one query), then the computation's own aggregates (the
# cumulative flow: where the history starts, then from there the rows before the range and the days').
QUERIES = {
    "cumulative-flow": ("from=2026-11-02&to=2026-11-10&type=task&q=estimate >= 1", 4),
    "cycle-time": ("from=2026-11-02&to=2026-11-10&q=estimate >= 1", 3),
    "throughput": ("from=2026-11-02&to=2026-11-10&period=day", 2),
    "velocity": ("q=estimate >= 1", 4),
    "forecast": ("q=estimate >= 1&weeks=2", 3),
    "aging-wip": ("type=task", 5),
}


@pytest.mark.parametrize("name", NAMES)
def test_query_counts_do_not_grow_with_tickets(history, clock, name, django_assert_max_num_queries):
    query, most = QUERIES[name]
    with django_assert_max_num_queries(most) as small:
        assert history.get(name, query).status_code == 200
    # A CSV download is an export: on PostgreSQL it first lifts the statement timeout (one more statement).
    with django_assert_max_num_queries(most + 1):
        assert history.get(name, query + "&format=csv").status_code == 200
    # Ten more tickets with their own history, across the same days.
    columns = history.columns
    for n in range(10):
        clock.set(at(2, 11))
        ticket = history.create(f"More {n}", "task", 2, columns["todo"], sprint=history.sprint2 if n % 2 else None)
        clock.set(at(3 + n % 6, 10))
        history.move(ticket, columns["in_progress"])
        if n % 3:
            clock.set(at(4 + n % 6, 10))
            history.move(ticket, columns["done"])
    clock.set(TODAY)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert history.get(name, query).status_code == 200
