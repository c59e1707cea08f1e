"""The Insights charts as inline SVG drawn on the server (no chart library, no script), like
web/burndown.py: a cumulative flow diagram, a cycle time scatter plot and bar charts.

Each function takes what insights/ computes and returns markup ready for a template. Every
chart is an `<svg role="img">` with an aria-label saying what it shows, and `<title>`s
(tooltips) on its marks; colours come from CSS classes (static/css/punt.css), so a chart
follows the light and the dark theme. The viewBox scales the chart to its container's width
on a phone. The page puts the same numbers in a table after each chart for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 480, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 24, 12, 30
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
BOTTOM_Y = TOP + PLOT_H

# Column categories in board order, with the names people read; the CFD stacks "done" lowest.
CATEGORY_NAMES = {
    "backlog": "Backlog",
    "todo": "To do",
    "in_progress": "In progress",
    "in_review": "In review",
    "done": "Done",
}


def day_label(day: date) -> str:
    return f"{day:%b} {day.day}"


def _empty(text: str) -> SafeString:
    return format_html('<p class="muted small chart-empty">{}</p>', text)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _number(value: float) -> str:
    """A value for a label: whole numbers without a point, others with at most one decimal."""
    return f"{round(value, 1):g}"


def _y(value: float, top: float) -> float:
    return round(TOP + PLOT_H * (1 - value / top), 1)


def _frame(top: float, unit: str = "") -> SafeString:
    """The axes, and the y axis' top, middle and zero labels."""
    labels = format_html_join(
        "",
        '<text class="tick" x="{}" y="{}" text-anchor="end">{}</text>',
        ((LEFT - 6, _y(value, top) + 4, _number(value) + unit) for value in (top, top / 2, 0)),
    )
    return format_html(
        '<line class="axis" x1="{l}" y1="{t}" x2="{l}" y2="{b}"/>'
        '<line class="axis" x1="{l}" y1="{b}" x2="{r}" y2="{b}"/>'
        '<line class="grid" x1="{l}" y1="{m}" x2="{r}" y2="{m}"/>{labels}',
        l=LEFT,
        t=TOP,
        b=BOTTOM_Y,
        r=LEFT + PLOT_W,
        m=_y(top / 2, top),
        labels=labels,
    )


def _x_labels(positions: Sequence[tuple[float, str]]) -> SafeString:
    """About five labels under the x axis, whatever the number of points."""
    step = max(1, (len(positions) + 4) // 5)
    return format_html_join(
        "",
        '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>',
        ((x, HEIGHT - 10, text) for i, (x, text) in enumerate(positions) if i % step == 0),
    )


def _svg(css: str, label: str, body: SafeString) -> SafeString:
    return format_html(
        '<svg class="chart {}" viewBox="0 0 {} {}" role="img" aria-label="{}">{}</svg>', css, WIDTH, HEIGHT, label, body
    )


def _nice_top(value: float) -> float:
    """The y axis' top: the largest value rounded up to an even number (1 when nothing)."""
    if value <= 0:
        return 1.0
    rounded = float(int(value) + (0 if value == int(value) else 1))
    return rounded + (rounded % 2)


def cumulative_flow_svg(data: dict[str, Any]) -> SafeString:
    """insights.flow.cumulative_flow's result as stacked areas: one band per column category,
    "done" at the bottom, each day's counts a tooltip."""
    days = data.get("days") or []
    categories = list(reversed(data.get("categories") or list(CATEGORY_NAMES)))  # done first: the bottom band
    if not days or not any(sum(day["counts"].values()) for day in days):
        return _empty("No tickets on the board in this range.")
    totals = [sum(day["counts"].get(c, 0) for c in categories) for day in days]
    top = _nice_top(max(totals))
    span = max(len(days) - 1, 1)

    def x(i: int) -> float:
        return round(LEFT + PLOT_W * i / span, 1)

    below = [0] * len(days)
    bands = []
    for category in categories:
        above = [base + day["counts"].get(category, 0) for base, day in zip(below, days, strict=True)]
        upper = [f"{x(i)},{_y(value, top)}" for i, value in enumerate(above)]
        lower = [f"{x(i)},{_y(value, top)}" for i, value in reversed(list(enumerate(below)))]
        if len(days) == 1:  # one day: a thin bar rather than a line with no area
            upper.append(f"{x(0) + 6},{_y(above[0], top)}")
            lower.insert(0, f"{x(0) + 6},{_y(below[0], top)}")
        bands.append((category, " ".join(upper + lower), CATEGORY_NAMES.get(category, category)))
        below = above
    areas = format_html_join("", '<polygon class="band cat-{}" points="{}"><title>{}</title></polygon>', bands)
    # A transparent strip per day carries that day's numbers as a tooltip.
    strip = PLOT_W / len(days)
    hits = format_html_join(
        "",
        '<rect class="hit" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>',
        (
            (
                round(max(LEFT, x(i) - strip / 2), 1),
                TOP,
                round(strip, 1),
                PLOT_H,
                day_label(day["date"])
                + ": "
                + ", ".join(f"{CATEGORY_NAMES.get(c, c)} {day['counts'].get(c, 0)}" for c in reversed(categories)),
            )
            for i, day in enumerate(days)
        ),
    )
    last = days[-1]
    label = (
        f"Cumulative flow from {day_label(days[0]['date'])} to {day_label(last['date'])}: on the last day "
        + ", ".join(f"{CATEGORY_NAMES.get(c, c)} {last['counts'].get(c, 0)}" for c in reversed(categories))
    )
    ticks = _x_labels([(x(i), day_label(day["date"])) for i, day in enumerate(days)])
    return _svg("cfd", label, format_html("{}{}{}{}", _frame(top), areas, hits, ticks))


def _as_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return value


def cycle_scatter_svg(
    times: list[dict[str, Any]], percentiles: dict[str, Any], *, start: date, end: date
) -> SafeString:
    """insights.cycle.ticket_times' tickets as dots (x: the day done, y: cycle time in days),
    with the 50th, 85th and 95th percentile lines (time_percentiles' "all")."""
    dots = [t for t in times if t.get("cycle_days") is not None]
    if not dots:
        return _empty("No ticket went from started to done in this range.")
    cycle = (percentiles.get("all") or {}).get("cycle") or {}
    lines = [(name, float(cycle[name])) for name in ("p50", "p85", "p95") if cycle.get(name) is not None]
    top = _nice_top(max([float(t["cycle_days"]) for t in dots] + [value for _, value in lines]))
    span = max((end - start).days, 1)

    def x(day: date) -> float:
        return round(LEFT + PLOT_W * min(max((day - start).days, 0), span) / span, 1)

    circles = format_html_join(
        "",
        '<circle class="dot type-dot-{}" cx="{}" cy="{}" r="3.5"><title>{} {}: {} days (done {})</title></circle>',
        (
            (
                t.get("type") or "task",
                x(_as_date(t["done_at"])),
                _y(float(t["cycle_days"]), top),
                t["key"],
                t["title"],
                _number(float(t["cycle_days"])),
                day_label(_as_date(t["done_at"])),
            )
            for t in dots
        ),
    )
    lines_svg = format_html_join(
        "",
        '<line class="pct pct-{}" x1="{}" y1="{}" x2="{}" y2="{}">'
        "<title>{}% of tickets finish within {} days</title></line>",
        (
            (name, LEFT, _y(value, top), LEFT + PLOT_W, _y(value, top), name[1:], _number(value))
            for name, value in lines
        ),
    )
    # One label per height, inside the plot at its right end ("p85 p95 4.2d" when they agree).
    names_at: dict[float, list[str]] = {}
    for name, value in lines:
        names_at.setdefault(value, []).append(name)
    labels = format_html_join(
        "",
        '<text class="pct-label" x="{}" y="{}" text-anchor="end">{} {}d</text>',
        ((LEFT + PLOT_W - 2, _y(value, top) - 4, " ".join(names), _number(value)) for value, names in names_at.items()),
    )
    marks = format_html("{}{}", lines_svg, labels)
    days = [(x(start), day_label(start)), (x(end), day_label(end))]
    middle = start + (end - start) / 2
    if (end - start).days >= 2:
        days.insert(1, (x(middle), day_label(middle)))
    ticks = format_html_join(
        "", '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>', ((px, HEIGHT - 10, t) for px, t in days)
    )
    summary = ", ".join(f"{name} {_number(value)} days" for name, value in lines)
    label = f"Cycle time of {_count(len(dots), 'ticket')} done from {day_label(start)} to {day_label(end)}"
    label += f": {summary}" if summary else ""
    return _svg("scatter", label, format_html("{}{}{}{}", _frame(top, "d"), marks, circles, ticks))


@dataclass(frozen=True)
class Bar:
    """One group of bars: its label under the axis, and one value (with its tooltip) per series."""

    label: str
    values: tuple[float, ...]
    titles: tuple[str, ...]


def bars_svg(bars: list[Bar], *, series: tuple[str, ...], label: str, empty: str) -> SafeString:
    """Grouped bars: for each Bar one bar per series side by side (CSS class bar-<series name>)."""
    if not bars or not any(any(bar.values) for bar in bars):
        return _empty(empty)
    top = _nice_top(max(max(bar.values) for bar in bars))
    slot = PLOT_W / len(bars)
    width = max(slot * 0.7 / len(series), 1.0)
    rects = []
    for i, bar in enumerate(bars):
        left = LEFT + slot * i + slot * 0.15
        for s, (value, title) in enumerate(zip(bar.values, bar.titles, strict=True)):
            y = _y(value, top)
            rects.append((series[s], round(left + width * s, 1), y, round(width, 1), round(BOTTOM_Y - y, 1), title))
    body = format_html_join(
        "", '<rect class="bar bar-{}" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>', rects
    )
    ticks = _x_labels([(round(LEFT + slot * (i + 0.5), 1), bar.label) for i, bar in enumerate(bars)])
    return _svg("bars", label, format_html("{}{}{}", _frame(top), body, ticks))


def throughput_svg(data: dict[str, Any]) -> SafeString:
    """insights.flow.throughput's periods as bars: tickets done per week (or day)."""
    periods = data.get("periods") or []
    unit = "week" if data.get("period", "week") == "week" else "day"
    bars = [
        Bar(
            label=day_label(p["start"]),
            values=(p["tickets"],),
            titles=(
                f"{'Week of ' if unit == 'week' else ''}{day_label(p['start'])}: "
                f"{_count(p['tickets'], 'ticket')} done, {_count(p['points'], 'point')}",
            ),
        )
        for p in periods
    ]
    total = sum(p["tickets"] for p in periods)
    label = f"Throughput: {_count(total, 'ticket')} done over {_count(len(periods), unit)}"
    return bars_svg(bars, series=("tickets",), label=label, empty="No ticket was done in this range.")


def velocity_svg(data: dict[str, Any]) -> SafeString:
    """insights.flow.velocity's sprints as pairs of bars: points committed, points completed."""
    sprints = data.get("sprints") or []
    bars = [
        Bar(
            label=s["name"],
            values=(float(s["committed_points"] or 0), float(s["completed_points"] or 0)),
            titles=(
                f"{s['name']}: {_number(float(s['committed_points'] or 0))} points committed",
                f"{s['name']}: {_number(float(s['completed_points'] or 0))} points completed",
            ),
        )
        for s in sprints
    ]
    average = float(data.get("average_points") or 0)
    label = f"Velocity over {_count(len(sprints), 'sprint')}: {_number(average)} points completed on average"
    return bars_svg(bars, series=("committed", "completed"), label=label, empty="No started or completed sprint yet.")


def legend(items: list[tuple[str, str]]) -> SafeString:
    """A legend under a chart: (CSS class of the swatch, text) pairs."""
    if not items:
        return mark_safe("")
    entries = format_html_join("", '<li><span class="swatch {}" aria-hidden="true"></span>{}</li>', items)
    return format_html('<ul class="chart-legend">{}</ul>', entries)
