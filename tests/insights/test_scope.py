"""scope_for: the days and tickets an insight reads, and the input it refuses."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from insights.scope import Scope, scope_for
from projects import services as project_services
from projects.models import Sprint
from punt.errors import Invalid
from tests.factories import ProjectFactory, TicketFactory


@pytest.fixture
def project(db):
    return ProjectFactory(key="FLOW")


def fields(exc: Invalid) -> list[str]:
    return [detail["field"] for detail in exc.details]


def test_defaults_are_the_last_90_days_of_every_ticket(project, clock):
    clock.set(datetime(2026, 11, 30, 15, 0, tzinfo=UTC))
    scope = scope_for(project=project)
    # 90 days up to today, both included: Sep 2 .. Nov 30 (29 + 31 + 30 = 90 days).
    assert scope == Scope(project=project, start=date(2026, 9, 2), end=date(2026, 11, 30), tickets=None)
    assert len(scope.days()) == 90
    assert scope.since == datetime(2026, 9, 2, tzinfo=UTC)
    assert scope.until == datetime(2026, 12, 1, tzinfo=UTC)
    assert scope_for(project=project, default_days=7).start == date(2026, 11, 24)


def test_dates_given_as_text_or_dates(project, clock):
    scope = scope_for(project=project, start="2026-10-01", end=date(2026, 10, 31))
    assert (scope.start, scope.end) == (date(2026, 10, 1), date(2026, 10, 31))
    # Only `to`: the 90 days up to it.
    assert scope_for(project=project, end="2026-10-31").start == date(2026, 8, 3)
    # Only `from`: up to today (the clock's Nov 2).
    assert scope_for(project=project, start="2026-10-01").end == date(2026, 11, 2)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"start": "2026-13-01"}, "from"),
        ({"start": "yesterday"}, "from"),
        ({"end": "2026-02-30"}, "to"),
        ({"start": "2026-10-02", "end": "2026-10-01"}, "to"),
        ({"start": "2025-01-01", "end": "2026-01-02"}, "from"),  # 367 days
        ({"type": "chore"}, "type"),
        ({"sprint": "abc"}, "sprint"),
        ({"sprint": 999999}, "sprint"),
        ({"sprint": 2**70}, "sprint"),
    ],
)
def test_bad_input_names_its_field(project, clock, kwargs, field):
    with pytest.raises(Invalid) as caught:
        scope_for(project=project, **kwargs)
    assert fields(caught.value) == [field]


def test_a_range_of_366_days_is_the_longest(project, clock):
    scope = scope_for(project=project, start="2025-01-01", end="2026-01-01")
    assert len(scope.days()) == 366


def test_another_projects_sprint_is_refused(project, clock):
    other = ProjectFactory()
    sprint = project_services.sprint_create(project=other, name="Theirs", by=other.created_by)
    for value in (sprint, sprint.pk, str(sprint.pk)):
        with pytest.raises(Invalid) as caught:
            scope_for(project=project, sprint=value)
        assert fields(caught.value) == ["sprint"]


def test_a_sprint_narrows_tickets_and_days(project, clock):
    owner = project.created_by
    sprint = project_services.sprint_create(
        project=project, name="S1", by=owner, start_date=date(2026, 10, 26), end_date=date(2026, 11, 6)
    )
    inside = TicketFactory(project=project, sprint=sprint)
    TicketFactory(project=project)
    # Running (the clock says Nov 2): its days up to today.
    scope = scope_for(project=project, sprint=str(sprint.pk))
    assert (scope.start, scope.end) == (date(2026, 10, 26), date(2026, 11, 2))
    assert scope.tickets is not None and list(scope.tickets) == [inside]
    # Over: all its days. Dates given win over the sprint's.
    clock.set(datetime(2026, 11, 20, tzinfo=UTC))
    assert (scope_for(project=project, sprint=sprint).end) == date(2026, 11, 6)
    given = scope_for(project=project, sprint=sprint.pk, start="2026-11-01", end="2026-11-03")
    assert (given.start, given.end) == (date(2026, 11, 1), date(2026, 11, 3))


def test_a_sprint_without_dates_uses_when_it_ran_or_the_default(project, clock):
    owner = project.created_by
    planned = project_services.sprint_create(project=project, name="Later", by=owner)
    scope = scope_for(project=project, sprint=planned)
    assert (scope.start, scope.end) == (date(2026, 8, 5), date(2026, 11, 2))
    Sprint.objects.filter(pk=planned.pk).update(
        started_at=datetime(2026, 10, 1, 12, tzinfo=UTC), completed_at=datetime(2026, 10, 14, 12, tzinfo=UTC)
    )
    planned.refresh_from_db()
    scope = scope_for(project=project, sprint=planned)
    assert (scope.start, scope.end) == (date(2026, 10, 1), date(2026, 10, 14))


def test_type_and_a_filter_narrow_the_tickets(project, clock):
    bug = TicketFactory(project=project, type="bug", title="Crash")
    TicketFactory(project=project, type="bug", title="Typo")
    TicketFactory(project=project, type="task", title="Crash report")
    elsewhere = TicketFactory(type="bug", title="Crash")
    scope = scope_for(project=project, type="bug")
    assert scope.tickets is not None and scope.tickets.count() == 2
    # A filter's tickets (a PQL result) are kept to the project's.
    crashes = type(bug).objects.filter(title__startswith="Crash")
    scope = scope_for(project=project, type="bug", tickets=crashes)
    assert scope.tickets is not None and list(scope.tickets) == [bug]
    assert elsewhere not in scope_for(project=project, tickets=crashes).all_tickets()
