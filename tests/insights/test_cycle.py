"""Lead and cycle times, their percentiles, and aging work in progress, from a history made through
the services at chosen instants (the `clock` fixture), checked against times worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from insights.cycle import aging_wip, card_ages, ticket_times, time_percentiles
from insights.scope import scope_for
from projects import services as project_services
from tests.factories import ProjectFactory
from tickets import services
from tickets.models import Placement, Ticket

pytestmark = pytest.mark.django_db


def on(day: int, hour: int = 9, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def history(clock):
    """Tickets and their moves (all times UTC, November unless said):

    T1 task  created 2 09:00 to do; 3 09:00 progress; 4 09:00 review; 5 21:00 done.
             lead 3.5 days, cycle 2.5 (from 3 09:00).
    T2 bug   created 2 09:00; 2 15:00 progress; 3 09:00 done; 4 09:00 reopened (to do);
             6 09:00 progress; 6 21:00 review; 7 09:00 done.
             lead 5.0, cycle 1.0: from its last start, 6 09:00.
    T3 task  created 3 09:00; 4 03:00 done without starting: lead 0.75, no cycle time.
    T4 bug   created 4 09:00 in progress; 4 15:00 back to to do; 5 09:00 progress; 6 09:00 done.
             lead 2.0, cycle 2.0: moving back to to do is not leaving done, the first start stays.
    T8 task  created 2 09:00; 3 09:00 progress; 4 09:00 deleted; 5 09:00 restored; 6 21:00 done.
             lead 4.5, cycle 3.5.
    T6 task  created Oct 19 09:00; Oct 19 21:00 progress; Oct 20 09:00 done: cycle 0.5, lead 1.0
             (before Nov 2).
    T7 task  created 2 09:00; 3 09:00 done; 4 09:00 deleted: not done any more.
    In progress on Nov 8 09:00:
    T5       created 1 09:00; 5 09:00 progress: 3.0 days.
    T9       created 7 09:00; 7 21:00 progress; 8 03:00 review: 0.5 days (from 7 21:00).
    T10      created 1 09:00; 1 21:00 progress; 2 09:00 done; 3 09:00 back to progress: 5.0 days.
    """
    project = ProjectFactory(key="CYC")
    owner = project.created_by
    project_services.column_create(project=project, name="Review", category="in_review", by=owner)
    cols = SimpleNamespace(**{c.category: c for c in project.columns.all()})
    t: dict[str, Ticket] = {}

    def at(when, name, action, **kw):
        clock.set(when)
        if action == "create":
            column = getattr(cols, kw.pop("column", "todo"))
            t[name] = services.ticket_create(project=project, by=owner, title=name, column=column, **kw)
        elif action == "delete":
            services.ticket_delete(ticket=t[name], by=owner)
        elif action == "restore":
            t[name] = services.ticket_restore(ticket=Ticket.objects.get(pk=t[name].pk), by=owner)
        else:
            t[name] = services.ticket_move(ticket=t[name], column=getattr(cols, action), by=owner)

    at(on(19, month=10), "T6", "create")
    at(on(19, 21, month=10), "T6", "in_progress")
    at(on(20, month=10), "T6", "done")
    at(on(1), "T5", "create")
    at(on(1), "T10", "create")
    at(on(1, 21), "T10", "in_progress")
    at(on(2), "T1", "create", estimate=3)
    at(on(2), "T2", "create", type="bug", estimate=5)
    at(on(2), "T8", "create")
    at(on(2), "T7", "create")
    at(on(2), "T10", "done")
    at(on(2, 15), "T2", "in_progress")
    at(on(3), "T1", "in_progress")
    at(on(3), "T2", "done")
    at(on(3), "T3", "create")
    at(on(3), "T8", "in_progress")
    at(on(3), "T7", "done")
    at(on(3), "T10", "in_progress")
    at(on(4, 3), "T3", "done")
    at(on(4), "T1", "in_review")
    at(on(4), "T2", "todo")
    at(on(4), "T4", "create", type="bug", column="in_progress")
    at(on(4), "T8", "delete")
    at(on(4), "T7", "delete")
    at(on(4, 15), "T4", "todo")
    at(on(5), "T4", "in_progress")
    at(on(5), "T8", "restore")
    at(on(5), "T5", "in_progress")
    at(on(5, 21), "T1", "done")
    at(on(6), "T2", "in_progress")
    at(on(6), "T4", "done")
    at(on(6, 21), "T2", "in_review")
    at(on(6, 21), "T8", "done")
    at(on(7), "T2", "done")
    at(on(7), "T9", "create")
    at(on(7, 21), "T9", "in_progress")
    at(on(8, 3), "T9", "in_review")
    clock.set(on(8))
    return SimpleNamespace(project=project, owner=owner, cols=cols, t=t)


def test_ticket_times(history):
    t = history.t
    times = ticket_times(scope_for(project=history.project, start="2026-11-02", end="2026-11-08"))
    expected = [
        # name, type, estimate, created, started, done, lead, cycle
        ("T3", "task", None, on(3), None, on(4, 3), 0.75, None),
        ("T1", "task", 3, on(2), on(3), on(5, 21), 3.5, 2.5),
        ("T4", "bug", None, on(4), on(4), on(6), 2.0, 2.0),
        ("T8", "task", None, on(2), on(3), on(6, 21), 4.5, 3.5),
        ("T2", "bug", 5, on(2), on(6), on(7), 5.0, 1.0),
    ]
    assert times == [
        {
            "id": t[name].pk,
            "key": f"CYC-{t[name].number}",
            "title": name,
            "type": type_,
            "estimate": estimate,
            "created_at": created,
            "started_at": started,
            "done_at": done,
            "lead_days": lead,
            "cycle_days": cycle,
        }
        for name, type_, estimate, created, started, done, lead, cycle in expected
    ]
    # The days bound the completions: T6 (Oct 20) is in October's.
    october = ticket_times(scope_for(project=history.project, start="2026-10-01", end="2026-10-31"))
    assert [(row["title"], row["lead_days"], row["cycle_days"]) for row in october] == [("T6", 1.0, 0.5)]
    # A type narrows them.
    bugs = ticket_times(scope_for(project=history.project, start="2026-11-02", end="2026-11-08", type="bug"))
    assert [row["title"] for row in bugs] == ["T4", "T2"]


def test_time_percentiles_nearest_rank(history):
    times = ticket_times(scope_for(project=history.project, start="2026-11-02", end="2026-11-08"))
    # All: lead 0.75 2.0 3.5 4.5 5.0 -> ranks ceil(.5*5)=3, ceil(.85*5)=5, ceil(.95*5)=5;
    #      cycle 1.0 2.0 2.5 3.5 (T3 never started) -> ranks 2, 4, 4.
    # Bugs: lead 2.0 5.0 -> ranks 1, 2, 2; cycle 1.0 2.0 -> 1, 2, 2.
    # Tasks: lead 0.75 3.5 4.5 -> ranks 2, 3, 3; cycle 2.5 3.5 -> 1, 2, 2.
    assert time_percentiles(times) == {
        "all": {
            "count": 5,
            "cycle": {"p50": 2.0, "p85": 3.5, "p95": 3.5},
            "lead": {"p50": 3.5, "p85": 5.0, "p95": 5.0},
        },
        "by_type": {
            "bug": {
                "count": 2,
                "cycle": {"p50": 1.0, "p85": 2.0, "p95": 2.0},
                "lead": {"p50": 2.0, "p85": 5.0, "p95": 5.0},
            },
            "task": {
                "count": 3,
                "cycle": {"p50": 2.5, "p85": 3.5, "p95": 3.5},
                "lead": {"p50": 3.5, "p85": 4.5, "p95": 4.5},
            },
        },
    }


def test_time_percentiles_without_data():
    none = {"p50": None, "p85": None, "p95": None}
    assert time_percentiles([]) == {"all": {"count": 0, "cycle": none, "lead": none}, "by_type": {}}


def test_percentiles_round_to_two_places():
    times = [{"type": "task", "lead_days": 1 / 3, "cycle_days": None}]
    assert time_percentiles(times)["all"]["lead"] == {"p50": 0.33, "p85": 0.33, "p95": 0.33}


def test_aging_wip(history):
    t = history.t
    # The cycle p85 of the 90 days up to Nov 8: 0.5 (T6) 1.0 2.0 2.5 3.5 -> rank 5: 3.5 days.
    result = aging_wip(project=history.project)
    review = history.cols.in_review
    progress = history.cols.in_progress

    def row(name, column, started, age, over):
        return {
            "id": t[name].pk,
            "key": f"CYC-{t[name].number}",
            "title": name,
            "column": {"id": column.pk, "name": column.name, "category": column.category},
            "started_at": started,
            "age_days": age,
            "over": over,
        }

    assert result == {
        "p85_days": 3.5,
        "tickets": [
            row("T10", progress, on(3), 5.0, True),
            row("T5", progress, on(5), 3.0, False),
            row("T9", review, on(7, 21), 0.5, False),
        ],
    }
    # Later, and for some of the tickets only.
    later = aging_wip(project=history.project, tickets=Ticket.objects.filter(title="T5"), now=on(9, 21))
    assert later["tickets"] == [row("T5", progress, on(5), 4.5, True)]


def test_aging_without_a_recorded_start_counts_from_creation(history):
    # History from before placements were kept: T5 (created Nov 1 09:00) has no rows.
    t = history.t
    Placement.objects.filter(ticket=t["T5"]).delete()
    first = aging_wip(project=history.project)["tickets"][0]
    assert (first["title"], first["started_at"], first["age_days"], first["over"]) == ("T5", None, 7.0, True)
    assert card_ages(project=history.project, ticket_ids=[t["T5"].pk])["ages"] == {t["T5"].pk: 7.0}


def test_card_ages_cache_the_p85(history, clock, django_assert_num_queries):
    t = history.t
    ids = [t[name].pk for name in ("T1", "T5", "T9", "T10")]
    with django_assert_num_queries(3):  # the ages, and the p85's two
        ages = card_ages(project=history.project, ticket_ids=ids)
    # T1 is done: no age.
    assert ages == {"p85_days": 3.5, "ages": {t["T5"].pk: 3.0, t["T9"].pk: 0.5, t["T10"].pk: 5.0}}
    # A slow ticket done now would move the p85 to 7.0 days, but the cached one stands.
    clock.set(on(1, month=11))
    slow = services.ticket_create(project=history.project, by=history.owner, title="Slow", column=history.cols.todo)
    slow = services.ticket_move(ticket=slow, column=history.cols.in_progress, by=history.owner)
    clock.set(on(8))
    services.ticket_move(ticket=slow, column=history.cols.done, by=history.owner)
    with django_assert_num_queries(1):
        assert card_ages(project=history.project, ticket_ids=ids)["p85_days"] == 3.5
    assert aging_wip(project=history.project)["p85_days"] == 7.0
    assert card_ages(project=history.project, ticket_ids=[]) == {"p85_days": 3.5, "ages": {}}


def test_query_counts_do_not_grow_with_tickets(history, clock, django_assert_num_queries):
    scope = scope_for(project=history.project, start="2026-11-02", end="2026-11-20")
    with django_assert_num_queries(2):
        assert len(ticket_times(scope)) == 5
    with django_assert_num_queries(4):
        assert len(aging_wip(project=history.project)["tickets"]) == 3
    cols = history.cols
    for i in range(6):
        clock.set(on(10 + i))
        ticket = services.ticket_create(project=history.project, by=history.owner, title=f"More {i}")
        ticket = services.ticket_move(ticket=ticket, column=cols.in_progress, by=history.owner)
        clock.advance(hours=6)
        ticket = services.ticket_move(ticket=ticket, column=cols.in_review, by=history.owner)
        if i % 2:
            services.ticket_move(ticket=ticket, column=cols.done, by=history.owner)
    with django_assert_num_queries(2):
        assert len(ticket_times(scope)) == 5 + 3
    with django_assert_num_queries(4):
        assert len(aging_wip(project=history.project)["tickets"]) == 3 + 3
    ids = list(Ticket.objects.filter(project=history.project).values_list("pk", flat=True))
    with django_assert_num_queries(3):
        assert len(card_ages(project=history.project, ticket_ids=ids)["ages"]) == 6
