"""The board's confirm dialog when a card blocked by an open ticket is dragged into Done
(real Chromium against a real daphne): cancel puts it back, OK moves it with force."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.web.live import CHROMIUM, PASSWORD, LiveApp, serve, sign_in
from tests.web.test_browser_board import card, column, drag

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
project = ps.project_create(name="Demo", key="DEMO", by=alice)
blocker = ts.ticket_create(project=project, by=alice, title="Migrate the database")
blocked = ts.ticket_create(project=project, by=alice, title="Drop the old tables")
ts.relation_add(ticket=blocker, other=blocked, kind="blocks", by=alice)
print("seeded")
"""

BOARD = "/projects/alice/demo/"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    yield from serve(tmp_path_factory, "relations", SEED)


def test_blocked_card_into_done_asks_first(browser, app: LiveApp):
    ctx, page = sign_in(browser, app, "alice")
    try:
        page.goto(BOARD)
        asked: list[str] = []

        def dismiss(dialog) -> None:
            asked.append(dialog.message)
            dialog.dismiss()

        page.once("dialog", dismiss)
        drag(page, card(page, "Drop the old tables"), column(page, "Done").locator("ul.cards"))
        page.locator("#messages .toast.error").wait_for()
        assert asked and "blocked by open tickets: DEMO-1" in asked[0]
        column(page, "To Do").locator(".ticket-card", has_text="Drop the old tables").wait_for()
        assert column(page, "Done").locator(".ticket-card", has_text="Drop the old tables").count() == 0

        page.once("dialog", lambda dialog: dialog.accept())
        drag(page, card(page, "Drop the old tables"), column(page, "Done").locator("ul.cards"))
        column(page, "Done").locator(".ticket-card", has_text="Drop the old tables").wait_for()
        page.locator(".ticket-card[aria-busy]").first.wait_for(state="detached")
        page.reload()
        column(page, "Done").locator(".ticket-card", has_text="Drop the old tables").wait_for()
    finally:
        ctx.close()
