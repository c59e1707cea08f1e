"""Cumulative flow, throughput and velocity of a small project whose history is made through the
services at chosen instants (the `clock` fixture), checked against counts worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from insights.flow import CATEGORIES, completion_dates, cumulative_flow, throughput, velocity
from insights.scope import scope_for
from projects import services as project_services
from punt.errors import Invalid
from tests.factories import ProjectFactory
from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def on(day: int, month: int = 11, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def board_columns(project):
    return SimpleNamespace(**{c.category: c for c in project.columns.order_by("order")})


def board():
    """A project with the five categories' columns: To Do, In Progress, Done (the defaults), Backlog, Review."""
    project = ProjectFactory()
    owner = project.created_by
    project_services.column_create(project=project, name="Backlog", category="backlog", by=owner)
    project_services.column_create(project=project, name="Review", category="in_review", by=owner)
    return project, owner, board_columns(project)


@pytest.fixture
def week(clock):
    """A week of history, Mon Nov 2 .. Sun Nov 8, and a ticket done the week before.

    Counts at the end of each day (backlog, todo, in_progress, in_review, done):
      Oct 31 F done (created Oct 30)                        0 0 0 0 1
      Nov 2  A, B to do; C backlog; D in progress           1 2 1 0 1
      Nov 3  A -> progress; B -> progress -> review;
             D reordered above A (no change)                1 0 2 1 1
      Nov 4  B, D -> done; E created in to do               1 1 1 0 3
      Nov 5  C and E deleted                                0 0 1 0 3
      Nov 6  C restored; D reopened (-> To Do)              1 1 1 0 2
      Nov 7  nothing                                        1 1 1 0 2
      Nov 8  D -> progress; A -> done                       1 0 1 0 3
      Nov 10 D -> done (the week after)
    """
    project, owner, cols = board()
    create = lambda title, column, estimate=None: services.ticket_create(  # noqa: E731
        project=project, by=owner, title=title, column=column, estimate=estimate
    )
    move = lambda ticket, column, **kw: services.ticket_move(ticket=ticket, column=column, by=owner, **kw)  # noqa: E731
    t = SimpleNamespace()
    clock.set(on(30, 10))
    t.f = create("F", cols.todo, 2)
    clock.set(on(31, 10, 18))
    move(t.f, cols.done)
    clock.set(on(2))
    t.a = create("A", cols.todo, 3)
    t.b = create("B", cols.todo, 5)
    t.c = create("C", cols.backlog)
    t.d = create("D", cols.in_progress, 8)
    clock.set(on(3))
    t.a = move(t.a, cols.in_progress)
    t.b = move(t.b, cols.in_progress)
    clock.advance(hours=2)
    t.b = move(t.b, cols.in_review)
    t.d = move(t.d, cols.in_progress, before_id=t.a.pk)
    clock.set(on(4, hour=23))  # late in the day still counts for that day
    t.b = move(t.b, cols.done)
    t.d = move(t.d, cols.done)
    t.e = create("E", cols.todo)
    clock.set(on(5))
    services.ticket_delete(ticket=t.c, by=owner)
    services.ticket_delete(ticket=t.e, by=owner)
    clock.set(on(6))
    t.c = services.ticket_restore(ticket=Ticket.objects.get(pk=t.c.pk), by=owner)
    t.d = services.ticket_reopen(ticket=t.d, by=owner)
    clock.set(on(8, hour=20))
    t.d = move(t.d, cols.in_progress)
    t.a = move(t.a, cols.done)
    clock.set(on(10))
    t.d = move(t.d, cols.done)
    return SimpleNamespace(project=project, owner=owner, cols=cols, t=t)


def counts(flow):
    return [(day["date"].day, *(day["counts"][c] for c in CATEGORIES)) for day in flow["days"]]


@pytest.fixture(params=["from the start", "from now"])
def either_end(request, monkeypatch):
    """Both ways of counting give the hand-worked numbers: from the start of the history, and back from now."""
    monkeypatch.setattr("insights.flow._nearer_now", lambda scope, rows: request.param == "from now")


def test_cumulative_flow_over_a_week(week, clock, either_end):
    flow = cumulative_flow(scope_for(project=week.project, start="2026-11-02", end="2026-11-08"))
    assert flow["categories"] == ["backlog", "todo", "in_progress", "in_review", "done"]
    assert [day["date"] for day in flow["days"]] == [date(2026, 11, n) for n in range(2, 9)]
    assert counts(flow) == [
        (2, 1, 2, 1, 0, 1),
        (3, 1, 0, 2, 1, 1),
        (4, 1, 1, 1, 0, 3),
        (5, 0, 0, 1, 0, 3),
        (6, 1, 1, 1, 0, 2),
        (7, 1, 1, 1, 0, 2),
        (8, 1, 0, 1, 0, 3),
    ]
    # The last day of a range started later still sees everything before it.
    assert counts(cumulative_flow(scope_for(project=week.project, start="2026-11-07", end="2026-11-10"))) == [
        (7, 1, 1, 1, 0, 2),
        (8, 1, 0, 1, 0, 3),
        (9, 1, 0, 1, 0, 3),
        (10, 1, 0, 0, 0, 4),
    ]


def test_cumulative_flow_of_some_tickets(week, clock, either_end):
    t = week.t
    some = Ticket.objects.filter(pk__in=[t.b.pk, t.c.pk, t.d.pk])
    flow = cumulative_flow(scope_for(project=week.project, start="2026-11-02", end="2026-11-08", tickets=some))
    assert counts(flow) == [
        (2, 1, 1, 1, 0, 0),  # C backlog, B to do, D in progress
        (3, 1, 0, 1, 1, 0),
        (4, 1, 0, 0, 0, 2),
        (5, 0, 0, 0, 0, 2),
        (6, 1, 1, 0, 0, 1),
        (7, 1, 1, 0, 0, 1),
        (8, 1, 0, 1, 0, 1),
    ]


def test_cumulative_flow_days_follow_the_site_time_zone(week, clock, settings, either_end):
    # In Honolulu (UTC-10) the creations of 09:00 UTC Nov 2 happen at 23:00 on Nov 1, A and B's
    # starts of 09:00 UTC Nov 3 at 23:00 on Nov 2, B's review (11:00 UTC) on Nov 3, and C and
    # E's deletes of 09:00 UTC Nov 5 at 23:00 on Nov 4, after the moves of 13:00 that day.
    settings.TIME_ZONE = "Pacific/Honolulu"
    flow = cumulative_flow(scope_for(project=week.project, start="2026-11-01", end="2026-11-04"))
    assert counts(flow) == [(1, 1, 2, 1, 0, 1), (2, 1, 0, 3, 0, 1), (3, 1, 0, 2, 1, 1), (4, 0, 0, 1, 0, 3)]
    # In Tokyo (UTC+9) 23:00 UTC Nov 4 is 08:00 on Nov 5: B and D are done, and E created, a day
    # later, the same day C and E are deleted (18:00 there).
    settings.TIME_ZONE = "Asia/Tokyo"
    flow = cumulative_flow(scope_for(project=week.project, start="2026-11-04", end="2026-11-05"))
    assert counts(flow) == [(4, 1, 0, 2, 1, 1), (5, 0, 0, 1, 0, 3)]


def test_completion_dates_are_last_entries_into_done(week, clock):
    t = week.t
    # D: done Nov 4, reopened Nov 6, done again Nov 10: its last entry counts. E (deleted) and
    # C (backlog) are not done.
    assert completion_dates(Ticket.objects.filter(project=week.project)) == {
        t.f.pk: on(31, 10, 18),
        t.b.pk: on(4, hour=23),
        t.a.pk: on(8, hour=20),
        t.d.pk: on(10),
    }


def test_completion_survives_a_delete_and_restore_and_a_move_between_done_columns(clock):
    project, owner, cols = board()
    shipped = project_services.column_create(project=project, name="Shipped", category="done", by=owner)
    clock.set(on(2))
    ticket = services.ticket_create(project=project, by=owner, title="X", column=cols.todo)
    clock.set(on(3))
    ticket = services.ticket_move(ticket=ticket, column=cols.done, by=owner)
    clock.set(on(4))
    services.ticket_delete(ticket=ticket, by=owner)
    clock.set(on(5))
    ticket = services.ticket_restore(ticket=Ticket.objects.get(pk=ticket.pk), by=owner)
    clock.set(on(6))
    services.ticket_move(ticket=ticket, column=shipped, by=owner)
    straight = services.ticket_create(project=project, by=owner, title="Done at once", column=cols.done)
    assert completion_dates(Ticket.objects.filter(project=project)) == {ticket.pk: on(3), straight.pk: on(6)}
    # Created straight into done, then deleted and restored: still done at its creation.
    clock.set(on(7))
    services.ticket_delete(ticket=straight, by=owner)
    services.ticket_restore(ticket=Ticket.objects.get(pk=straight.pk), by=owner)
    assert completion_dates(Ticket.objects.filter(pk=straight.pk)) == {straight.pk: on(6)}
    # A column turned into a done column completes what it holds, then.
    waiting = services.ticket_create(project=project, by=owner, title="Waiting", column=cols.in_review)
    clock.set(on(8))
    project_services.column_update(column=cols.in_review, category="done", by=owner)
    assert completion_dates(Ticket.objects.filter(pk=waiting.pk)) == {waiting.pk: on(8)}
    # From Nov 4: the restores into done (Nov 5, Nov 7) and the move to Shipped (Nov 6) complete
    # nothing: Done at once (Nov 6) and Waiting (Nov 8) count.
    later = throughput(scope_for(project=project, start="2026-11-04", end="2026-11-08"))
    assert later["periods"] == [{"start": date(2026, 11, 4), "end": date(2026, 11, 8), "tickets": 2, "points": 0}]


def test_throughput_per_week_and_per_day(week, clock):
    # Completions: F Oct 31 (2 points), B Nov 4 (5), A Nov 8 (3), D Nov 10 (8; its Nov 4 entry
    # does not count, it was reopened). Weeks start on Monday: Oct 26, Nov 2, Nov 9, cut to
    # the range Oct 28 .. Nov 11.
    result = throughput(scope_for(project=week.project, start="2026-10-28", end="2026-11-11"))
    assert result == {
        "period": "week",
        "periods": [
            {"start": date(2026, 10, 28), "end": date(2026, 11, 1), "tickets": 1, "points": 2},
            {"start": date(2026, 11, 2), "end": date(2026, 11, 8), "tickets": 2, "points": 8},
            {"start": date(2026, 11, 9), "end": date(2026, 11, 11), "tickets": 1, "points": 8},
        ],
    }
    by_day = throughput(scope_for(project=week.project, start="2026-11-03", end="2026-11-05"), period="day")
    assert by_day == {
        "period": "day",
        "periods": [
            {"start": date(2026, 11, 3), "end": date(2026, 11, 3), "tickets": 0, "points": 0},
            {"start": date(2026, 11, 4), "end": date(2026, 11, 4), "tickets": 1, "points": 5},
            {"start": date(2026, 11, 5), "end": date(2026, 11, 5), "tickets": 0, "points": 0},
        ],
    }
    bugs = throughput(scope_for(project=week.project, start="2026-11-02", end="2026-11-08", type="bug"))
    assert bugs["periods"] == [{"start": date(2026, 11, 2), "end": date(2026, 11, 8), "tickets": 0, "points": 0}]
    with pytest.raises(Invalid) as caught:
        throughput(scope_for(project=week.project), period="month")
    assert caught.value.details == [{"field": "period", "message": "Unknown period 'month': one of week, day."}]


@pytest.fixture
def sprints(clock):
    """Three sprints run through the services, and a planned one.

    S0 (Oct 26 .. Oct 30): U (1 point) done; nothing carried over.
    S1 (Nov 2 .. Nov 6): P 3, Q 5, R 8, S (no estimate), V 13 (deleted: not counted), W 2 (a bug).
        Q done Nov 4, P done Nov 5, W done Nov 5; completed Nov 6, R and S carried over to S2.
        committed 3 + 5 + 8 + 0 + 2 = 18, completed 3 + 5 + 2 = 10 (3 tickets), carried 2.
    S2 (from Nov 9, active): R, S carried in, T 2 added; R done Nov 10.
        committed 8 + 0 + 2 = 10, completed 8 (1 ticket), carried 0.
    S3: planned, not listed.
    """
    project, owner, cols = board()
    sprint = lambda name: project_services.sprint_create(project=project, name=name, by=owner)  # noqa: E731
    create = lambda title, sprint, estimate=None, type="task": services.ticket_create(  # noqa: E731
        project=project, by=owner, title=title, column=cols.todo, sprint=sprint, estimate=estimate, type=type
    )
    done = lambda ticket: services.ticket_move(ticket=ticket, column=cols.done, by=owner)  # noqa: E731
    s = SimpleNamespace()
    clock.set(on(26, 10))
    s.s0 = sprint("S0")
    u = create("U", s.s0, 1)
    s.s0 = project_services.sprint_start(sprint=s.s0, by=owner)
    clock.set(on(28, 10))
    done(u)
    clock.set(on(30, 10))
    project_services.sprint_complete(sprint=s.s0, by=owner)
    s.s1, s.s2, s.s3 = sprint("S1"), sprint("S2"), sprint("S3")
    p, q, r = create("P", s.s1, 3), create("Q", s.s1, 5), create("R", s.s1, 8)
    create("S", s.s1)
    v = create("V", s.s1, 13)
    w = create("W", s.s1, 2, type="bug")
    clock.set(on(2))
    project_services.sprint_start(sprint=s.s1, by=owner)
    clock.set(on(4))
    done(q)
    services.ticket_delete(ticket=v, by=owner)
    clock.set(on(5))
    done(p)
    done(w)
    clock.set(on(6))
    project_services.sprint_complete(sprint=s.s1, by=owner, move_to=s.s2)
    clock.set(on(9))
    create("T", s.s2, 2)
    project_services.sprint_start(sprint=s.s2, by=owner)
    clock.set(on(10))
    done(Ticket.objects.get(pk=r.pk))
    s.project = project
    return s


def test_velocity_per_sprint_with_carry_over(sprints, clock):
    row = lambda sprint, status, start, end, committed, points, tickets, carried: {  # noqa: E731
        "id": sprint.pk,
        "name": sprint.name,
        "status": status,
        "start_date": start,
        "end_date": end,
        "committed_points": committed,
        "completed_points": points,
        "completed_tickets": tickets,
        "carried_over": carried,
    }
    s0 = row(sprints.s0, "closed", date(2026, 10, 26), date(2026, 10, 30), 1, 1, 1, 0)
    s1 = row(sprints.s1, "closed", date(2026, 11, 2), date(2026, 11, 6), 18, 10, 3, 2)
    s2 = row(sprints.s2, "active", date(2026, 11, 9), None, 10, 8, 1, 0)
    # The average is over the closed sprints: (1 + 10) / 2.
    assert velocity(project=sprints.project) == {"sprints": [s0, s1, s2], "average_points": 5.5}
    assert velocity(project=sprints.project, sprints=2) == {"sprints": [s1, s2], "average_points": 10.0}
    # Only the bugs: W in S1.
    bugs = Ticket.objects.filter(type="bug")
    assert [
        (r["name"], r["committed_points"], r["completed_points"])
        for r in velocity(project=sprints.project, tickets=bugs)["sprints"]
    ] == [("S0", 0, 0), ("S1", 2, 2), ("S2", 0, 0)]


# --------------------------------------------------------------------------- query counts


def grow(project, owner, cols, clock, n):
    """`n` more tickets with a history each: created, started, reviewed, done (some reopened)."""
    for i in range(n):
        ticket = services.ticket_create(project=project, by=owner, title=f"More {i}", column=cols.todo, estimate=1)
        clock.advance(hours=1)
        ticket = services.ticket_move(ticket=ticket, column=cols.in_progress, by=owner)
        ticket = services.ticket_move(ticket=ticket, column=cols.in_review, by=owner)
        ticket = services.ticket_move(ticket=ticket, column=cols.done, by=owner)
        if i % 2:
            ticket = services.ticket_reopen(ticket=ticket, by=owner)


def test_query_counts_do_not_grow_with_tickets(week, sprints, clock, django_assert_num_queries):
    calls = {
        # From the start of the history (3: where it starts, the rows before, the days' rows) ...
        "cumulative_flow": (3, lambda: cumulative_flow(scope_for(project=week.project, start="2026-11-01"))),
        # ... and back from now (4: where it starts, live tickets per column, the columns, the days' rows).
        "cumulative_flow, recent": (4, lambda: cumulative_flow(scope_for(project=week.project, start="2026-11-09"))),
        "throughput": (1, lambda: throughput(scope_for(project=week.project, start="2026-11-01"))),
        "completion_dates": (1, lambda: completion_dates(Ticket.objects.filter(project=week.project))),
        "velocity": (3, lambda: velocity(project=sprints.project)),
    }
    for expected, call in calls.values():
        with django_assert_num_queries(expected):
            call()
    clock.set(on(12))
    grow(week.project, week.owner, week.cols, clock, 8)
    grow(sprints.project, sprints.s2.project.created_by, board_columns(sprints.project), clock, 4)
    Ticket.objects.filter(project=sprints.project, sprint__isnull=True).update(sprint=sprints.s2)
    results = {}
    for name, (expected, call) in calls.items():
        with django_assert_num_queries(expected):
            results[name] = call()
    # B, A, D, and the four of the eight new tickets left done.
    assert sum(period["tickets"] for period in results["throughput"]["periods"]) == 7
    assert results["velocity"]["sprints"][-1]["completed_tickets"] == 1 + 2
