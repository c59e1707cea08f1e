"""When the remaining tickets finish: a Monte Carlo forecast from the recent daily throughput.

Each run draws a day of the sample window at random (uniformly, with replacement) for every
day from the start, adds up the tickets done those days until the remaining ones are done,
and notes the day that happened (drawn in an equivalent, faster way: see _finish_day). The
50th/85th/95th percentile of those days over all runs are the dates "with 50/85/95%
confidence". A run that would take longer than CAP_DAYS stops
there: a percentile that lands on such runs has no date.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left
from collections import Counter
from datetime import date, timedelta
from itertools import accumulate
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from insights.scope import day_start
from projects.models import Column, Project
from punt.errors import invalid
from tickets.completions import completed
from tickets.models import Ticket

CAP_DAYS = 5 * 365  # about five years
CONFIDENCES = (50, 85, 95)
MAX_RUNS = 100_000
MAX_WEEKS = 52


def _hopeless(sample: list[int], remaining: int, runs: int) -> bool:
    """True when no run can be expected to finish within CAP_DAYS (Hoeffding's bound on the
    sum of CAP_DAYS draws: the chance that any of the runs does is below one in a million).

    Saves drawing CAP_DAYS days per run when the pace is far too slow.
    """
    mean = sum(sample) / len(sample)
    spread = max(sample) - min(sample)
    shortfall = remaining - CAP_DAYS * mean
    if shortfall <= 0 or spread == 0:
        return shortfall > 0
    return runs * math.exp(-2 * shortfall**2 / (CAP_DAYS * spread**2)) < 1e-6


def _finish_day(rng: random.Random, busy: list[int], share: float, remaining: int, chunk: int) -> int | None:
    """The day (1 = the first) on which one run's drawn throughput reaches `remaining`, or None.

    Drawing a day of the sample is drawing whether it is busy (some ticket done, with the
    chance `share`), then, if so, which of the busy days it is. So a run draws the busy days'
    throughput until the remaining tickets are done, then how many days it took to meet that
    many busy days (geometric gaps): the same chances as drawing every day, and no work spent
    on the quiet days of a slow sample.
    """
    done = 0
    busy_days = 0
    while True:
        totals = list(accumulate(rng.choices(busy, k=chunk), initial=done))
        reached = bisect_left(totals, remaining, lo=1)
        if reached < len(totals):
            busy_days += reached
            break
        done = totals[-1]
        busy_days += chunk
        if busy_days >= CAP_DAYS:
            return None
    if share >= 1:
        return busy_days if busy_days <= CAP_DAYS else None
    per_log = 1 / math.log(1 - share)
    draw, log = rng.random, math.log
    # Each gap: 1 + the quiet days before the next busy one, P(k quiet) = (1 - share)^k * share
    # (the logs are both negative: int() is the floor).
    day = busy_days + sum(int(log(1.0 - draw()) * per_log) for _ in range(busy_days))
    return day if day <= CAP_DAYS else None


def monte_carlo(
    *, daily_throughput: list[int], remaining: int, start: date, runs: int = 10000, seed: int | None = None
) -> dict[str, Any]:
    """Finish dates of `remaining` tickets from `start` at the pace of `daily_throughput`.

    {"remaining", "runs", "dates": {"50", "85", "95"}}: the day by which that share of the
    runs had finished (`start` itself when nothing remains); None when the sample has no
    throughput at all or that share of runs takes more than CAP_DAYS. Deterministic for a
    given `seed`.
    """
    if runs < 1 or runs > MAX_RUNS:
        raise invalid("runs", f"Give between 1 and {MAX_RUNS} runs.")
    dates: dict[str, date | None] = dict.fromkeys((str(c) for c in CONFIDENCES), None)
    result = {"remaining": remaining, "runs": runs, "dates": dates}
    if remaining <= 0:
        dates.update(dict.fromkeys(dates, start))
        return result
    if not any(daily_throughput) or _hopeless(daily_throughput, remaining, runs):
        return result
    rng = random.Random(seed)  # noqa: S311 - a simulation, not secrets
    busy = [n for n in daily_throughput if n > 0]
    share = len(busy) / len(daily_throughput)
    if share >= 0.5:
        # Quiet days are few: drawing every day costs less than drawing the gaps.
        busy, share = list(daily_throughput), 1.0
    # Draw about the busy days a run needs at once (choices and accumulate run in C).
    chunk = min(CAP_DAYS, math.ceil(remaining / (sum(busy) / len(busy)) * 1.25) + 7)
    finished = Counter(_finish_day(rng, busy, share, remaining, chunk) for _ in range(runs))
    never = finished.pop(None, 0)
    by_day = sorted((day, count) for day, count in finished.items() if day is not None)
    for confidence in CONFIDENCES:
        rank = math.ceil(confidence / 100 * runs)  # nearest rank
        if rank > runs - never:
            continue
        seen = 0
        for day, count in by_day:
            seen += count
            if seen >= rank:
                dates[str(confidence)] = start + timedelta(days=day - 1)
                break
    return result


def _when(day: date, today: date) -> str:
    return f"{day:%b} {day.day}" if day.year == today.year else f"{day:%b} {day.day}, {day.year}"


def _sentence(remaining: int, weeks: int, dates: dict[str, date | None], sample_total: int, today: date) -> str:
    if remaining == 0:
        return "Nothing remains: every ticket is done."
    subject = "The remaining ticket" if remaining == 1 else f"The remaining {remaining} tickets"
    if sample_total == 0:
        return f"No ticket was done in the last {weeks} weeks, so there is no pace to forecast from."
    by = dates["85"]
    if by is None:
        return f"{subject} would take more than five years at the pace of the last {weeks} weeks."
    verb = "finishes" if remaining == 1 else "finish"
    return f"{subject} {verb} by {_when(by, today)} with 85% confidence."


def forecast_remaining(
    *,
    project: Project,
    tickets: QuerySet[Ticket],
    weeks: int = 8,
    today: date | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """When the open tickets among `tickets` finish, at the project's pace of the last `weeks` weeks.

    The pace is the project's daily throughput (tickets done per day, completion_dates' rule)
    over the `weeks` * 7 days before today; the simulation starts today. Two queries.
    {"remaining", "weeks", "sample_days", "dates": {"50", "85", "95"}, "sentence"}.
    """
    if weeks < 1 or weeks > MAX_WEEKS:
        raise invalid("weeks", f"Give between 1 and {MAX_WEEKS} weeks.")
    today = today or timezone.localdate()
    first = today - timedelta(days=weeks * 7)
    remaining = (
        Ticket.objects.filter(pk__in=tickets.order_by().values("pk"), deleted_at__isnull=True)
        .exclude(column__category=Column.Category.DONE)
        .count()
    )
    done = completed(Ticket.objects.filter(project=project), since=day_start(first), until=day_start(today))
    zone = timezone.get_current_timezone()
    per_day = Counter(done_at.astimezone(zone).date() for done_at in done.values_list("done_at", flat=True))
    sample = [per_day[first + timedelta(days=n)] for n in range(weeks * 7)]
    dates = monte_carlo(daily_throughput=sample, remaining=remaining, start=today, seed=seed)["dates"]
    return {
        "remaining": remaining,
        "weeks": weeks,
        "sample_days": len(sample),
        "dates": dates,
        "sentence": _sentence(remaining, weeks, dates, sum(sample), today),
    }
