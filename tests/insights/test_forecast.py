"""The Monte Carlo forecast: finish dates of the remaining tickets at the recent pace."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from insights.forecast import CAP_DAYS, forecast_remaining, monte_carlo
from punt.errors import Invalid
from tests.factories import ProjectFactory
from tickets import services
from tickets.models import Ticket

DEC_1 = date(2026, 12, 1)


def dates(*days: int | None) -> dict[str, date | None]:
    """The 50/85/95 dates as days after Dec 1 (0 = Dec 1)."""
    return {
        key: None if n is None else DEC_1 + timedelta(days=n) for key, n in zip(("50", "85", "95"), days, strict=True)
    }


def test_constant_pace_gives_an_exact_date():
    # One ticket a day, five remaining: done on the fifth day, Dec 1 being the first: Dec 5.
    result = monte_carlo(daily_throughput=[1] * 56, remaining=5, start=DEC_1, runs=200, seed=1)
    assert result == {"remaining": 5, "runs": 200, "dates": dates(4, 4, 4)}
    # Two a day: 2, 4, 6 -> the third day.
    assert monte_carlo(daily_throughput=[2] * 14, remaining=5, start=DEC_1, seed=7)["dates"] == dates(2, 2, 2)


def test_nothing_remaining_finishes_at_the_start():
    assert monte_carlo(daily_throughput=[0] * 7, remaining=0, start=DEC_1)["dates"] == dates(0, 0, 0)


def test_no_throughput_cannot_forecast():
    assert monte_carlo(daily_throughput=[0] * 56, remaining=3, start=DEC_1)["dates"] == dates(None, None, None)
    assert monte_carlo(daily_throughput=[], remaining=3, start=DEC_1)["dates"] == dates(None, None, None)


def test_busy_days_drawn_one_by_one():
    # Three days in five do two tickets, two do none; two remain, so a run ends on its first
    # busy day: P(done by day d) = 1 - 0.4^d = 0.6, 0.84, 0.936, 0.974. 50% -> day 1, 85% ->
    # day 3, 95% -> day 4 (10,000 runs: the shares land within half a percent of these).
    result = monte_carlo(daily_throughput=[0, 0, 2, 2, 2], remaining=2, start=DEC_1, seed=2026)
    assert result["dates"] == dates(0, 2, 3)


def test_quiet_days_drawn_as_gaps():
    # One day in four does a ticket (the sample is mostly quiet, the gaps between busy days are
    # drawn). One remains: P(done by day d) = 1 - 0.75^d = .25, .44, .58, .68, .76, .82, .87,
    # .90, .92, .944, .958: 50% -> day 3, 85% -> day 7, 95% -> day 11.
    result = monte_carlo(daily_throughput=[0, 0, 0, 1] * 14, remaining=1, start=DEC_1, seed=2026)
    assert result["dates"] == dates(2, 6, 10)
    # Four remain at one ticket per busy day: the sum of four such gaps, mean 16 days.
    four = monte_carlo(daily_throughput=[0, 0, 0, 1] * 14, remaining=4, start=DEC_1, seed=3)["dates"]
    assert four["50"] is not None and date(2026, 12, 12) <= four["50"] <= date(2026, 12, 17)


def test_a_seed_repeats_the_forecast():
    sample = [0, 1, 3, 0, 2, 0, 0] * 8
    first = monte_carlo(daily_throughput=sample, remaining=40, start=DEC_1, seed=11)
    assert monte_carlo(daily_throughput=sample, remaining=40, start=DEC_1, seed=11) == first
    d50, d85, d95 = (first["dates"][key] for key in ("50", "85", "95"))
    assert d50 is not None and d85 is not None and d95 is not None
    # 6/7 tickets a day on average: 40 take about 47 days.
    assert date(2027, 1, 10) <= d50 <= d85 <= d95 <= date(2027, 2, 10)


def test_beyond_five_years_has_no_date():
    # One ticket in 56 days, 1,000 remaining: about 150 years.
    slow = [0] * 55 + [1]
    assert monte_carlo(daily_throughput=slow, remaining=1000, start=DEC_1)["dates"] == dates(None, None, None)
    # One a day, exactly the cap: the last day still counts; one more is beyond.
    last_day = DEC_1 + timedelta(days=CAP_DAYS - 1)
    on_cap = monte_carlo(daily_throughput=[1], remaining=CAP_DAYS, start=DEC_1, runs=3)["dates"]
    assert on_cap == {"50": last_day, "85": last_day, "95": last_day}
    assert monte_carlo(daily_throughput=[1], remaining=CAP_DAYS + 1, start=DEC_1, runs=3)["dates"] == dates(
        None, None, None
    )


@pytest.mark.parametrize("runs", [0, 100_001])
def test_runs_are_bounded(runs):
    with pytest.raises(Invalid):
        monte_carlo(daily_throughput=[1], remaining=1, start=DEC_1, runs=runs)


# --------------------------------------------------------------------------- forecast_remaining


@pytest.fixture
def steady(db, clock):
    """One ticket done every day from Mon Nov 2 to Sun Dec 27 (56 days: 8 weeks), then on Mon Dec
    28: five open tickets of an epic, one of its tickets deleted, one done that morning."""
    project = ProjectFactory(key="PACE")
    owner = project.created_by
    done = project.columns.get(category="done")
    for n in range(56):
        clock.set(datetime(2026, 11, 2, 9, tzinfo=UTC) + timedelta(days=n))
        ticket = services.ticket_create(project=project, by=owner, title=f"Day {n}")
        clock.advance(hours=1)
        services.ticket_move(ticket=ticket, column=done, by=owner)
    clock.set(datetime(2026, 12, 28, 9, tzinfo=UTC))
    epic = [services.ticket_create(project=project, by=owner, title=f"Epic {n}") for n in range(7)]
    services.ticket_delete(ticket=epic[5], by=owner)
    services.ticket_move(ticket=epic[6], column=done, by=owner)
    return project, Ticket.objects.filter(pk__in=[ticket.pk for ticket in epic])


def test_forecast_at_a_constant_pace(steady, django_assert_num_queries):
    project, epic = steady
    # 1 ticket a day, 5 remaining, from today Dec 28: done on the fifth day, Jan 1.
    with django_assert_num_queries(2):
        result = forecast_remaining(project=project, tickets=epic, seed=1)
    new_year = date(2027, 1, 1)
    assert result == {
        "remaining": 5,
        "weeks": 8,
        "sample_days": 56,
        "dates": {"50": new_year, "85": new_year, "95": new_year},
        "sentence": "The remaining 5 tickets finish by Jan 1, 2027 with 85% confidence.",
    }
    three = forecast_remaining(project=project, tickets=epic.filter(title__in=["Epic 0", "Epic 1", "Epic 2"]))
    assert three["sentence"] == "The remaining 3 tickets finish by Dec 30 with 85% confidence."
    one = forecast_remaining(project=project, tickets=epic.filter(title="Epic 4"), weeks=1)
    assert (one["sample_days"], one["sentence"]) == (7, "The remaining ticket finishes by Dec 28 with 85% confidence.")
    nothing = forecast_remaining(project=project, tickets=epic.filter(title__in=["Epic 5", "Epic 6"]))
    assert nothing["remaining"] == 0
    assert nothing["dates"] == {"50": date(2026, 12, 28), "85": date(2026, 12, 28), "95": date(2026, 12, 28)}
    assert nothing["sentence"] == "Nothing remains: every ticket is done."


def test_forecast_without_recent_throughput(steady):
    project, epic = steady
    # Eight weeks before Mar 1: Jan 4 .. Feb 28, when nothing was done.
    result = forecast_remaining(project=project, tickets=epic, today=date(2027, 3, 1))
    assert result["dates"] == {"50": None, "85": None, "95": None}
    assert result["sentence"] == "No ticket was done in the last 8 weeks, so there is no pace to forecast from."


@pytest.mark.parametrize("weeks", [0, 53])
def test_forecast_weeks_are_bounded(db, weeks):
    project = ProjectFactory()
    with pytest.raises(Invalid) as caught:
        forecast_remaining(project=project, tickets=Ticket.objects.filter(project=project), weeks=weeks)
    assert [detail["field"] for detail in caught.value.details] == ["weeks"]
