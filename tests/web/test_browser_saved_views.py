"""Saved views in a real headless Chromium: the switcher narrows the board (htmx, URL kept), and
"Save view" saves what the search box holds now (not what the page was drawn with)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest

from tests.web.live import CHROMIUM, PASSWORD, LiveApp, serve, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing: apt-get install chromium"),
]

SEED = f"""
from django.contrib.auth import get_user_model
from projects import services as ps
from tickets import services as ts
User = get_user_model()
alice = User.objects.create_user("alice", "alice@example.com", {PASSWORD!r}, display_name="Alice Archer")
project = ps.project_create(name="Demo", key="DEMO", by=alice, description="Browser tests")
ts.ticket_create(project=project, by=alice, title="Set up CI", priority="high")
ts.ticket_create(project=project, by=alice, title="Fix login redirect", priority="low")
ts.ticket_create(project=project, by=alice, title="Write the docs", priority="low")
ts.saved_view_create(project=project, by=alice, name="High", query="priority >= high", shared=True)
print("seeded")
"""

BOARD = "/projects/alice/demo/"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    yield from serve(tmp_path_factory, "views", SEED)


def test_switch_view_and_save_the_current_search(browser, app: LiveApp):
    context, page = sign_in(browser, app, "alice")
    try:
        page.goto(BOARD)
        cards = page.locator("#board .ticket-card")
        cards.first.wait_for()
        assert cards.count() == 3
        page.select_option("select[name=view]", label="High (shared) · 1 open")
        page.wait_for_url(re.compile(r"view=[0-9]+"))
        page.locator("#board .ticket-card", has_text="Fix login redirect").wait_for(state="detached")
        assert cards.count() == 1 and "Set up CI" in cards.first.inner_text()
        page.select_option("select[name=view]", value="")
        page.locator("#board .ticket-card", has_text="Fix login redirect").wait_for()
        # Typed after the page was drawn: htmx sends the box's current text with the save.
        page.locator("input[name=q]").press_sequentially("login")
        page.locator("#board .ticket-card", has_text="Write the docs").wait_for(state="detached")
        page.click("details.save-view summary")
        page.fill("details.save-view input[name=name]", "Login work")
        page.click("details.save-view button[type=submit]")
        page.wait_for_url(re.compile(r"view=[0-9]+$"))
        page.locator("#board .ticket-card").first.wait_for()
        assert cards.count() == 1 and "Fix login redirect" in cards.first.inner_text()
        assert "Login work" in page.locator("select[name=view] option:checked").inner_text()
    finally:
        context.close()
