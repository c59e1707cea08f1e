"""The board's PQL search box in a real headless Chromium against a real daphne: suggestions
at the caret, picked with the keyboard; Enter filters; a refused query is marked inline."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest

from tests.web.live import CHROMIUM, PASSWORD, LiveApp, output_dir, serve, sign_in

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
project = ps.project_create(name="Demo", key="DEMO", by=alice, description="PQL in the browser")
ts.ticket_create(project=project, by=alice, title="Set up CI", priority="high")
ts.ticket_create(project=project, by=alice, title="Fix login redirect", type="bug", priority="low")
ts.ticket_create(project=project, by=alice, title="Ship v0.1", priority="urgent")
print("seeded")
"""

BOARD = "/projects/alice/demo/"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    yield from serve(tmp_path_factory, "live-pql", SEED)


def test_suggest_pick_filter_and_mark_an_error(browser, app: LiveApp):
    context, page = sign_in(browser, app, "alice")
    try:
        page.goto(BOARD)
        box = page.locator("input[name=q]")
        box.click()
        box.press_sequentially("prio", delay=30)
        options = page.locator("[role=listbox] [role=option]")
        options.first.wait_for()
        assert options.first.inner_text().startswith("Priority")
        assert box.get_attribute("aria-expanded") == "true"
        assert box.get_attribute("aria-activedescendant") == options.first.get_attribute("id")
        box.press("Enter")  # picks, does not search
        assert box.input_value() == "priority "
        # A picked field asks for its operators at once; Esc closes the list.
        options.first.wait_for()
        assert options.first.inner_text().startswith("=")
        box.press("Escape")
        page.locator("[role=listbox]").wait_for(state="detached")

        box.press_sequentially(">= h", delay=30)
        page.locator("[role=listbox] [role=option]", has_text="High").wait_for()
        assert options.count() == 1
        box.press("Enter")
        assert box.input_value() == "priority >= high "
        page.locator("[role=listbox]").wait_for(state="detached")
        box.press("Enter")  # the list is closed: this one searches
        page.wait_for_url(re.compile(r"[?&]q=priority%20%3E%3D%20high"))
        page.locator(".ticket-card", has_text="Fix login redirect").wait_for(state="detached")
        assert page.locator(".ticket-card", has_text="Set up CI").count() == 1
        assert page.locator(".ticket-card", has_text="Ship v0.1").count() == 1
        assert page.locator("#pql-error").is_hidden()

        # A refused query: the error under the box with the bad word marked, and no card.
        box.fill("priorty = high")
        box.press("Enter")
        error = page.locator("#pql-error")
        error.wait_for(state="visible")
        assert "Unknown field 'priorty' at 0: did you mean 'priority'?" in error.inner_text()
        assert error.locator("mark").inner_text() == "priorty"
        assert page.locator(".ticket-card").count() == 0
        assert box.get_attribute("aria-invalid") == "true"
        page.screenshot(path=str(output_dir() / "board-pql-error.png"))

        # Fixed: the error goes away.
        box.fill("ship")
        box.press("Enter")
        error.wait_for(state="hidden")
        page.locator(".ticket-card", has_text="Ship v0.1").wait_for()
        assert box.get_attribute("aria-invalid") is None
    finally:
        context.close()
