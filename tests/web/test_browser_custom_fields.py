"""Custom fields in a real headless Chromium against a real daphne (issue 21): a select edited
in place on the ticket page shows its colour chip there and on the board's card; a bad number
is refused with the service's message; an option renamed in Settings keeps the value.
Screenshots go to test-output/browser/."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.web.live import CHROMIUM, PASSWORD, LiveApp, output_dir, serve, sign_in
from tests.web.test_browser_board import card

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
ts.custom_field_create(
    project=project, by=alice, name="Severity", type="select", show_on_card=True,
    options=[{{"name": "Low", "color": "#16a34a"}}, {{"name": "High", "color": "#dc2626"}}],
)
ts.custom_field_create(project=project, by=alice, name="Effort", type="number", unit="h")
ts.ticket_create(project=project, by=alice, title="Set up CI")
print("seeded")
"""

BOARD = "/projects/alice/demo/"
TICKET = "/projects/alice/demo/tickets/1"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    yield from serve(tmp_path_factory, "live-custom-fields", SEED)


def test_select_edited_in_place_shows_its_chip_on_the_board(browser, app: LiveApp):
    ctx, page = sign_in(browser, app, "alice")
    try:
        page.goto(TICKET)
        section = page.locator("#ticket-custom")
        section.locator("#cf-severity").select_option("High")
        chip = page.locator("#ticket-custom [data-cf-chip]", has_text="High")
        chip.wait_for()
        assert "#dc2626" in (chip.get_attribute("style") or "")
        # A bad number: the service's message as a toast, nothing saved.
        saves: list[str] = []
        page.on("request", lambda r: saves.append(r.url) if r.method == "POST" and "custom-fields" in r.url else None)
        page.locator("#cf-effort").fill("1e16")
        page.locator("#cf-effort").press("Enter")
        page.locator("#messages .toast.error", has_text="Must be a number").wait_for()
        page.locator("#cf-effort").fill("3")
        page.locator("#cf-effort").press("Enter")
        page.locator("#ticket-custom #cf-effort[value='3']").wait_for()
        # Enter fires the input's change and the form's implicit submission: one save each time.
        assert len(saves) == 2, saves
        section.scroll_into_view_if_needed()
        page.screenshot(path=str(output_dir() / "custom-fields-ticket.png"))

        page.goto(BOARD)
        board_chip = card(page, "Set up CI").locator("[data-cf-chip]", has_text="Severity: High")
        board_chip.wait_for()
        assert "#dc2626" in (board_chip.get_attribute("style") or "")
        # Effort is not shown on cards.
        assert card(page, "Set up CI").locator("[data-cf-chip]", has_text="Effort").count() == 0
        page.screenshot(path=str(output_dir() / "custom-fields-board.png"))

        # The settings section lists the fields; renaming an option keeps the ticket's value.
        page.goto("/projects/alice/demo/settings#cf")
        page.locator("[data-cf-field=severity] summary").click()
        page.locator("[data-cf-edit=severity] input[aria-label='Name of option High']").fill("Critical")
        page.locator("[data-cf-edit=severity] button[type=submit]").click()
        page.locator("[data-cf-field=severity] .label", has_text="Critical").wait_for()
        page.screenshot(path=str(output_dir() / "custom-fields-settings.png"), full_page=True)
        page.goto(BOARD)
        card(page, "Set up CI").locator("[data-cf-chip]", has_text="Severity: Critical").wait_for()
    finally:
        ctx.close()
