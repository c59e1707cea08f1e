"""The Insights tab and the board as of a past date in a real headless Chromium, in the light and
the dark theme and on a phone. Screenshots go under test-output/browser/.

The live server runs on the real clock, so the seed builds six weeks of history through the
services with `timezone.now` patched to instants before today (the history's rows carry
those instants), then lets the clock go.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import pytest

from tests.web.live import CHROMIUM, PASSWORD, LiveApp, output_dir, serve, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing: apt-get install chromium"),
]

PHONE = {"width": 390, "height": 844}
BASE = "/projects/carol/flow"

# Twelve tickets: ticket i starts 38 - 3i days ago; the first nine are done 1 to 4 days later,
# the last three are still in progress (11, 8 and 5 days: longer than most took). Sprint 1 (the
# first four tickets) ran from 39 to 27 days ago; Sprint 2 (the last four) runs since 20 days ago.
SEED = f"""
from datetime import UTC, datetime, time, timedelta
from unittest import mock
from django.contrib.auth import get_user_model
from django.utils import timezone
from projects import services as ps
from tickets import services as ts

today = timezone.localdate()
def day(n, hour=9):
    return datetime.combine(today - timedelta(days=n), time(hour), tzinfo=UTC)

clock = [day(42)]
with mock.patch("django.utils.timezone.now", lambda: clock[0]):
    carol = get_user_model().objects.create_user("carol", "carol@example.com", {PASSWORD!r}, display_name="Carol Chen")
    project = ps.project_create(name="Flow", key="FLOW", by=carol)
    cols = {{c.name: c for c in project.columns.all()}}
    kinds = ["bug", "feature", "task", "story"]
    tickets = [
        ts.ticket_create(project=project, by=carol, title=f"Piece of work {{i}}", type=kinds[i % 4], estimate=1 + i % 3)
        for i in range(12)
    ]
    one = ps.sprint_create(project=project, name="Sprint 1", by=carol,
                           start_date=(today - timedelta(days=39)), end_date=(today - timedelta(days=27)))
    for t in tickets[:4]:
        ts.ticket_update(ticket=t, by=carol, sprint=one.pk)
    clock[0] = day(39, 8)
    ps.sprint_start(sprint=one, by=carol)

    def move(ticket, column):
        ticket.refresh_from_db()
        ts.ticket_move(ticket=ticket, column=cols[column], by=carol)

    steps = []
    for i, t in enumerate(tickets):
        steps.append((day(38 - 3 * i), t, "In Progress"))
        if i < 9:
            steps.append((day(38 - 3 * i - (1 + i % 4), 15), t, "Done"))
    steps.sort(key=lambda step: step[0])
    for when, t, column in steps:
        if when >= day(27, 12) and one.status == "active":
            clock[0] = day(27, 12)
            ps.sprint_complete(sprint=one, by=carol)
            one.refresh_from_db()
        clock[0] = when
        move(t, column)
    two = ps.sprint_create(project=project, name="Sprint 2", by=carol,
                           start_date=(today - timedelta(days=20)), end_date=(today + timedelta(days=8)))
    for t in tickets[8:]:
        t.refresh_from_db()
        ts.ticket_update(ticket=t, by=carol, sprint=two.pk)
    clock[0] = day(20, 8)
    ps.sprint_start(sprint=two, by=carol)
print("seeded")
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    yield from serve(tmp_path_factory, "live-insights", SEED)


# The elements sticking out past the right edge, for the failure message.
WIDEST = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > innerWidth + 1).slice(0, 8)
  .map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))"""


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def past(days: int, hour: int = 10) -> datetime:
    return datetime.combine(datetime.now(UTC).date() - timedelta(days=days), time(hour), tzinfo=UTC)


THEMES = [("light", False, None), ("dark", True, None), ("phone", False, PHONE)]


@pytest.mark.parametrize(("name", "dark", "viewport"), THEMES, ids=[t[0] for t in THEMES])
def test_insights_tab(browser, app: LiveApp, name: str, dark: bool, viewport):
    context, page = sign_in(browser, app, "carol", dark=dark, viewport=viewport)
    try:
        page.goto(f"{BASE}/")
        page.get_by_role("link", name="Insights").click()
        page.wait_for_url(f"{app.url}{BASE}/insights")
        assert page.get_by_role("heading", name="Cumulative flow").is_visible()
        cfd = page.get_by_role("img", name=re.compile(r"^Cumulative flow from "))
        assert cfd.is_visible()
        assert "In progress 3" in (cfd.get_attribute("aria-label") or "")
        scatter = page.get_by_role("img", name=re.compile(r"^Cycle time of 9 tickets done"))
        assert scatter.is_visible()
        assert page.locator("svg.scatter circle.dot").count() == 9
        assert page.get_by_role("img", name=re.compile(r"^Throughput: 9 tickets done")).is_visible()
        assert page.get_by_role("img", name=re.compile(r"^Velocity over 2 sprints")).is_visible()
        forecast = page.locator("#forecast .forecast").inner_text()
        assert re.fullmatch(r"The remaining 3 tickets finish by .+ with 85% confidence\.", forecast), forecast
        aging = page.locator("#aging tbody tr")
        assert aging.count() == 3 and "Piece of work 9" in aging.first.inner_text()
        # The numbers behind a chart are a table one click away (and in the page for screen readers).
        page.locator("#throughput summary").click()
        assert page.locator("#throughput table tbody tr").first.is_visible()
        if viewport:
            assert no_horizontal_scroll(page), page.evaluate(WIDEST)
        page.screenshot(path=str(output_dir() / f"insights-{name}.png"), full_page=True)

        # A type filter and a preset keep working together.
        page.select_option("#id_type", "bug")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url(re.compile(r"type=bug"))
        assert page.get_by_role("img", name=re.compile(r"^Cycle time of 3 tickets done")).is_visible()
    finally:
        context.close()


@pytest.mark.parametrize(("name", "dark", "viewport"), THEMES, ids=[t[0] for t in THEMES])
def test_board_as_of_a_past_date(browser, app: LiveApp, name: str, dark: bool, viewport):
    context, page = sign_in(browser, app, "carol", dark=dark, viewport=viewport)
    try:
        page.goto(f"{BASE}/")
        # Today's board: the three tickets in progress for longer than most took are marked.
        assert page.locator(".ticket-card.card--aging").count() == 3
        title = page.locator(".ticket-card.card--aging").first.get_attribute("title") or ""
        assert re.fullmatch(r"In progress for \d+ days \(85% of tickets finish within [\d.]+\)", title), title
        page.screenshot(path=str(output_dir() / f"board-aging-{name}.png"))

        # 28 days ago at 10:00: tickets 0-2 done (the last 29 days ago), 3 in progress (started 29
        # days ago), the other eight still to do.
        when = past(28)
        if viewport:  # on a phone the picker folds away with the filters
            page.locator("[data-filters-toggle]").click()
        page.fill("#as-of", when.strftime("%Y-%m-%dT%H:%M"))
        page.locator(".as-of-form").get_by_role("button", name="Show").click()
        page.wait_for_url(re.compile(r"as_of="))
        banner = page.locator("#as-of-banner")
        expected = f"Board as of {when:%b} {when.day}, {when.year} 10:00 UTC — read-only."
        assert expected in banner.inner_text()
        assert banner.get_by_role("link", name="Back to the live board").is_visible()

        def titles(column: str) -> list[str]:
            # Text content, not inner text: a phone shows one column at a time.
            cards = page.locator(f'#board section[aria-label="{column}"] .ticket-card a.title')
            return [title.strip() for title in cards.all_text_contents()]

        assert sorted(titles("Done")) == ["Piece of work 0", "Piece of work 1", "Piece of work 2"]
        assert titles("In Progress") == ["Piece of work 3"]
        assert len(titles("To Do")) == 8
        assert page.locator(".quick-add").count() == 0 and page.locator("[aria-roledescription]").count() == 0
        if viewport:
            assert no_horizontal_scroll(page), page.evaluate(WIDEST)
        page.screenshot(path=str(output_dir() / f"board-as-of-{name}.png"), full_page=not viewport)

        banner.get_by_role("link", name="Back to the live board").click()
        page.wait_for_url(f"{app.url}{BASE}/")
        assert page.locator("#as-of-banner").count() == 0
    finally:
        context.close()
