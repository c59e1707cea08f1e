"""The sprint burndown as an inline SVG drawn on the server (no chart library, no script)."""

from __future__ import annotations

from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 480, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 28, 14, 34


def burndown_svg(data: dict[str, Any]) -> SafeString:
    """`data` is projects.selectors.sprint_burndown's result: days with remaining and ideal points."""
    days = data.get("days") or []
    if not days:
        return mark_safe('<p class="muted small">The burndown appears once the sprint has start and end dates.</p>')
    total = max(
        [float(data.get("total_estimate") or 0)]
        + [float(d["remaining"] or 0) for d in days]
        + [float(d["ideal"] or 0) for d in days]
    )
    top = total if total > 0 else 1.0
    span = max(len(days) - 1, 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return round(LEFT + plot_w * i / span, 1)

    def y(value: float) -> float:
        return round(TOP + plot_h * (1 - value / top), 1)

    ideal = " ".join(f"{x(i)},{y(float(d['ideal']))}" for i, d in enumerate(days))
    actual = " ".join(f"{x(i)},{y(float(d['remaining']))}" for i, d in enumerate(days) if d["remaining"] is not None)
    step = max(1, (len(days) + 4) // 5)  # about five date labels, whatever the sprint length
    ticks = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="middle">{}</text>',
        ((x(i), HEIGHT - 12, f"{d['date']:%b} {d['date'].day}") for i, d in enumerate(days) if i % step == 0),
    )
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="2.5" class="actual"><title>{}: {} points left</title></circle>',
        (
            (x(i), y(float(d["remaining"])), d["date"].isoformat(), d["remaining"])
            for i, d in enumerate(days)
            if d["remaining"] is not None
        ),
    )
    return format_html(
        '<svg class="burndown" viewBox="0 0 {w} {h}" role="img" aria-label="Burndown: {total} points at the start">'
        '<line class="axis" x1="{l}" y1="{t}" x2="{l}" y2="{b}"/>'
        '<line class="axis" x1="{l}" y1="{b}" x2="{r}" y2="{b}"/>'
        '<text x="{lt}" y="{ty}" text-anchor="end">{total_label}</text>'
        '<text x="{lt}" y="{b}" text-anchor="end">0</text>'
        '<polyline class="ideal" points="{ideal}"/><polyline class="actual" points="{actual}"/>{dots}{ticks}</svg>',
        w=WIDTH,
        h=HEIGHT,
        l=LEFT,
        t=TOP,
        b=TOP + plot_h,
        r=LEFT + plot_w,
        lt=LEFT - 6,
        ty=TOP + 8,
        total=data.get("total_estimate") or 0,
        total_label=f"{top:g}",
        ideal=ideal,
        actual=actual,
        dots=dots,
        ticks=ticks,
    )
