"""The Insights charts (web/charts.py): well-formed SVG with the marks the data asks for,
titles escaped, and a plain sentence instead of an empty chart."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

from web import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    # The markup has no xmlns (inline SVG in HTML): add it so ElementTree reads it as SVG.
    return ET.fromstring(markup.replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1))


def find(root: ET.Element, tag: str, css: str = "") -> list[ET.Element]:
    return [e for e in root.iter(SVG + tag) if css in (e.get("class") or "").split() or not css]


def titles(elements: list[ET.Element]) -> list[str]:
    return [e.find(SVG + "title").text or "" for e in elements]  # type: ignore[union-attr]


def cfd(days: list[dict[str, int]]) -> dict:
    start = date(2026, 11, 2)
    full = [{c: counts.get(c, 0) for c in charts.CATEGORY_NAMES} for counts in days]
    return {
        "categories": list(charts.CATEGORY_NAMES),
        "days": [{"date": start + timedelta(days=i), "counts": counts} for i, counts in enumerate(full)],
    }


def test_cfd_stacks_one_band_per_category_done_at_the_bottom():
    data = cfd([{"backlog": 2, "todo": 1}, {"backlog": 1, "in_progress": 1, "todo": 1}, {"done": 1, "todo": 2}])
    root = parse(charts.cumulative_flow_svg(data))
    assert root.get("role") == "img"
    assert root.get("viewBox") == f"0 0 {charts.WIDTH} {charts.HEIGHT}"
    assert root.get("aria-label") == (
        "Cumulative flow from Nov 2 to Nov 4: on the last day Backlog 0, To do 2, In progress 0, In review 0, Done 1"
    )
    bands = find(root, "polygon", "band")
    assert [b.get("class") for b in bands] == [
        "band cat-done",
        "band cat-in_review",
        "band cat-in_progress",
        "band cat-todo",
        "band cat-backlog",
    ]
    assert titles(bands) == ["Done", "In review", "In progress", "To do", "Backlog"]
    # Each band: its top edge left to right, then its bottom edge back: 3 days -> 6 points.
    assert all(len((b.get("points") or "").split()) == 6 for b in bands)
    # The top of the stack on day 1 is the total (3 of an axis topped at 4): higher than day 3's bottom band.
    backlog_top_day1 = float((bands[-1].get("points") or "").split()[0].split(",")[1])
    done_top_day3 = float((bands[0].get("points") or "").split()[2].split(",")[1])
    assert backlog_top_day1 < done_top_day3
    hits = find(root, "rect", "hit")
    assert titles(hits)[1] == "Nov 3: Backlog 1, To do 1, In progress 1, In review 0, Done 0"


def test_cfd_of_one_day_still_draws_an_area():
    root = parse(charts.cumulative_flow_svg(cfd([{"todo": 3}])))
    todo = find(root, "polygon", "cat-todo")[0]
    assert len((todo.get("points") or "").split()) == 4


def test_cfd_without_data_says_so():
    assert "No tickets" in charts.cumulative_flow_svg({"categories": [], "days": []})
    assert "<svg" not in charts.cumulative_flow_svg(cfd([{}, {}]))


def _time(key: str, title: str, done: datetime, cycle: float | None, kind: str = "task") -> dict:
    return {"key": key, "title": title, "type": kind, "done_at": done, "cycle_days": cycle, "lead_days": 9.0}


def test_scatter_draws_a_dot_per_started_ticket_and_the_percentile_lines():
    times = [
        _time("BLOG-1", "First", datetime(2026, 11, 3, 10, tzinfo=UTC), 1.5, "bug"),
        _time("BLOG-2", "Second", datetime(2026, 11, 10, 10, tzinfo=UTC), 4.0),
        _time("BLOG-3", "Never started", datetime(2026, 11, 12, 10, tzinfo=UTC), None),
    ]
    percentiles = {"all": {"count": 2, "cycle": {"p50": 1.5, "p85": 4.0, "p95": 4.0}}}
    svg = charts.cycle_scatter_svg(times, percentiles, start=date(2026, 11, 1), end=date(2026, 11, 30))
    root = parse(svg)
    dots = find(root, "circle", "dot")
    assert titles(dots) == ["BLOG-1 First: 1.5 days (done Nov 3)", "BLOG-2 Second: 4 days (done Nov 10)"]
    assert dots[0].get("class") == "dot type-dot-bug"
    assert float(dots[0].get("cx") or 0) < float(dots[1].get("cx") or 0)
    assert float(dots[0].get("cy") or 0) > float(dots[1].get("cy") or 0)  # shorter: lower
    lines = find(root, "line", "pct")
    assert [line.get("class") for line in lines] == ["pct pct-p50", "pct pct-p85", "pct pct-p95"]
    assert titles(lines)[1] == "85% of tickets finish within 4 days"
    # Equal percentiles share one label.
    assert [t.text for t in find(root, "text", "pct-label")] == ["p50 1.5d", "p85 p95 4d"]
    assert (
        root.get("aria-label")
        == "Cycle time of 2 tickets done from Nov 1 to Nov 30: p50 1.5 days, p85 4 days, p95 4 days"
    )


def test_scatter_titles_are_escaped():
    times = [_time("BLOG-1", '<script>alert("x")</script> & co', datetime(2026, 11, 3, tzinfo=UTC), 2.0)]
    svg = str(charts.cycle_scatter_svg(times, {"all": {"cycle": {}}}, start=date(2026, 11, 1), end=date(2026, 11, 5)))
    assert "<script>" not in svg
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in svg
    assert titles(find(parse(svg), "circle"))[0] == 'BLOG-1 <script>alert("x")</script> & co: 2 days (done Nov 3)'


def test_scatter_without_started_tickets_says_so():
    times = [_time("BLOG-1", "x", datetime(2026, 11, 3, tzinfo=UTC), None)]
    assert "<svg" not in charts.cycle_scatter_svg(times, {}, start=date(2026, 11, 1), end=date(2026, 11, 5))
    assert "No ticket" in charts.cycle_scatter_svg([], {}, start=date(2026, 11, 1), end=date(2026, 11, 5))


def test_throughput_bars_are_as_tall_as_their_counts():
    data = {
        "period": "week",
        "periods": [
            {"start": date(2026, 11, 2), "end": date(2026, 11, 8), "tickets": 2, "points": 5},
            {"start": date(2026, 11, 9), "end": date(2026, 11, 15), "tickets": 0, "points": 0},
            {"start": date(2026, 11, 16), "end": date(2026, 11, 22), "tickets": 1, "points": 1},
        ],
    }
    root = parse(charts.throughput_svg(data))
    bars = find(root, "rect", "bar")
    assert titles(bars) == [
        "Week of Nov 2: 2 tickets done, 5 points",
        "Week of Nov 9: 0 tickets done, 0 points",
        "Week of Nov 16: 1 ticket done, 1 point",
    ]
    heights = [float(b.get("height") or 0) for b in bars]
    assert heights[1] == 0 and heights[0] == 2 * heights[2]
    assert root.get("aria-label") == "Throughput: 3 tickets done over 3 weeks"


def test_throughput_without_tickets_says_so():
    data = {
        "period": "week",
        "periods": [{"start": date(2026, 11, 2), "end": date(2026, 11, 8), "tickets": 0, "points": 0}],
    }
    assert "<svg" not in charts.throughput_svg(data)
    assert "<svg" not in charts.throughput_svg({"period": "week", "periods": []})


def test_velocity_pairs_committed_and_completed_and_escapes_sprint_names():
    data = {
        "sprints": [
            {"name": "S1 <b>", "committed_points": 10, "completed_points": 8},
            {"name": "S2", "committed_points": 6, "completed_points": None},
        ],
        "average_points": 4.0,
    }
    svg = str(charts.velocity_svg(data))
    assert "<b>" not in svg and "S1 &lt;b&gt;" in svg
    root = parse(svg)
    bars = find(root, "rect", "bar")
    assert [b.get("class") for b in bars] == ["bar bar-committed", "bar bar-completed"] * 2
    assert titles(bars) == [
        "S1 <b>: 10 points committed",
        "S1 <b>: 8 points completed",
        "S2: 6 points committed",
        "S2: 0 points completed",
    ]
    assert root.get("aria-label") == "Velocity over 2 sprints: 4 points completed on average"


def test_velocity_without_sprints_says_so():
    assert "No started or completed sprint" in charts.velocity_svg({"sprints": [], "average_points": 0})


def test_legend_lists_swatches():
    html = str(charts.legend([("cat-done", "Done"), ("cat-todo", "To <do>")]))
    assert 'class="swatch cat-done"' in html and "To &lt;do&gt;" in html
    assert charts.legend([]) == ""
