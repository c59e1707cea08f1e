"""The board in a real headless Chromium (Debian's package) against a real daphne.

Sign in, create a ticket, drag it to another column and see it persist after a reload;
a second browser context (another user) sees the move and a new ticket arrive live; a
refused move (WIP limit) snaps back with a message; keyboard shortcuts work. Screenshots
of the board are saved under test-output/browser/ (or $PUNT_TEST_OUTPUT) for a person to look at.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

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
bob = User.objects.create_user("bob", "bob@example.com", {PASSWORD!r}, display_name="Bob Baker")
project = ps.project_create(name="Demo", key="DEMO", by=alice, description="Browser tests")
ps.membership_add(project=project, username="bob", by=alice)
ps.column_create(project=project, name="Review", category="in_review", by=alice)
columns = {{c.name: c for c in project.columns.all()}}
ps.column_update(column=columns["Review"], wip_limit=1, by=alice)
label = ps.label_create(project=project, name="backend", color="#7C3AED", by=alice)
ts.ticket_create(project=project, by=alice, title="Set up CI", type="task", priority="high", labels=[label.pk])
ts.ticket_create(
    project=project, by=alice, title="Fix login redirect", type="bug", assignee="bob", column=columns["In Progress"]
)
ts.ticket_create(project=project, by=alice, title="Review the schema", column=columns["Review"], estimate=3)
ts.ticket_create(project=project, by=alice, title="Ship v0.1", column=columns["Done"])
print("seeded")
"""

BOARD = "/projects/alice/demo/"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    yield from serve(tmp_path_factory, "live", SEED)


def column(page, name: str):
    return page.locator("section.column", has=page.locator(".column-head span", has_text=re.compile(f"^{name}$")))


def card(page, title: str):
    return page.locator(".ticket-card", has_text=title)


def wait_live(page) -> None:
    # A locator, not wait_for_function: a predicate string is eval'd in the page, which the CSP refuses.
    page.locator("body[data-live='1']").wait_for(state="attached")


def drag(page, source, target) -> None:
    """A real pointer drag (SortableJS listens to pointer events, with native DnD in Chromium)."""
    source.scroll_into_view_if_needed()
    box = source.bounding_box()
    goal = target.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    steps = 12
    for i in range(1, steps + 1):
        page.mouse.move(
            box["x"] + box["width"] / 2 + (goal["x"] + goal["width"] / 2 - box["x"] - box["width"] / 2) * i / steps,
            box["y"] + box["height"] / 2 + (goal["y"] + 20 - box["y"] - box["height"] / 2) * i / steps,
        )
        page.wait_for_timeout(30)
    page.mouse.up()


def test_sign_in_create_drag_persist_and_see_it_live(browser, app: LiveApp):
    alice_ctx, alice = sign_in(browser, app, "alice")
    bob_ctx, bob = sign_in(browser, app, "bob")
    try:
        alice.goto(BOARD)
        bob.goto(BOARD)
        wait_live(alice)
        wait_live(bob)
        # Presence: each sees the other's avatar.
        alice.wait_for_selector('#presence .avatar[title^="Bob Baker"]')

        # Create a ticket with the quick add of "To Do".
        quick = column(alice, "To Do").locator("input[name=title]")
        quick.fill("Write the release notes")
        quick.press("Enter")
        new_card = column(alice, "To Do").locator(".ticket-card", has_text="Write the release notes")
        new_card.wait_for()
        # Bob's board gets it without a reload.
        column(bob, "To Do").locator(".ticket-card", has_text="Write the release notes").wait_for()

        # Drag it to "In Progress".
        drag(alice, new_card, column(alice, "In Progress").locator("ul.cards"))
        column(alice, "In Progress").locator(".ticket-card", has_text="Write the release notes").wait_for()
        alice.locator(".ticket-card[aria-busy]").first.wait_for(state="detached")
        # Bob sees the move arrive live.
        column(bob, "In Progress").locator(".ticket-card", has_text="Write the release notes").wait_for()
        assert column(bob, "To Do").locator(".ticket-card", has_text="Write the release notes").count() == 0

        # It stays there after a reload.
        alice.reload()
        column(alice, "In Progress").locator(".ticket-card", has_text="Write the release notes").wait_for()
        assert column(alice, "To Do").locator(".ticket-card", has_text="Write the release notes").count() == 0
        out = output_dir()
        alice.screenshot(path=str(out / "board.png"), full_page=True)
        assert Path(out / "board.png").stat().st_size > 10_000
    finally:
        alice_ctx.close()
        bob_ctx.close()


def test_refused_move_snaps_back_with_a_message(browser, app: LiveApp):
    ctx, page = sign_in(browser, app, "alice")
    try:
        page.goto(BOARD)
        source = card(page, "Set up CI")
        assert column(page, "Review").locator("[data-count]").inner_text() == "1/1"
        drag(page, source, column(page, "Review").locator("ul.cards"))
        toast = page.locator("#messages .toast.error")
        toast.wait_for()
        assert "WIP limit" in toast.inner_text()
        column(page, "To Do").locator(".ticket-card", has_text="Set up CI").wait_for()
        assert column(page, "Review").locator(".ticket-card", has_text="Set up CI").count() == 0
        page.reload()
        assert column(page, "To Do").locator(".ticket-card", has_text="Set up CI").count() == 1
    finally:
        ctx.close()


def test_keyboard_shortcuts_and_ticket_modal(browser, app: LiveApp):
    ctx, page = sign_in(browser, app, "alice")
    try:
        page.goto(BOARD)
        page.keyboard.press("/")
        assert page.evaluate("document.activeElement.name") == "q"
        page.keyboard.press("Escape")
        page.keyboard.press("c")  # the full new-ticket form, in the modal
        page.locator("#modal form[data-new-ticket] input[name=title]:focus").wait_for()
        assert page.evaluate("document.activeElement.name") == "title"
        page.keyboard.press("Escape")  # leaves the field
        page.keyboard.press("Escape")  # closes the modal
        page.locator("#modal").wait_for(state="hidden")

        # Open a card as a modal; the URL follows it.
        card(page, "Fix login redirect").locator("a.title").click()
        modal = page.locator("#modal")
        modal.locator("h1", has_text="Fix login redirect").wait_for()
        assert re.search(r"/projects/alice/demo/tickets/\d+$", page.url)
        page.keyboard.press("e")
        edit = modal.locator("#ticket-edit")
        edit.wait_for(state="visible")
        page.keyboard.press("Escape")  # leaves the field
        page.keyboard.press("Escape")  # closes the edit form
        edit.wait_for(state="hidden")

        # Edit inside the modal: the form posts through htmx and the modal redraws.
        page.keyboard.press("e")
        edit.locator("input[name=title]").fill("Fix the login redirect loop")
        edit.locator("button[type=submit]").click()
        modal.locator("h1", has_text="Fix the login redirect loop").wait_for()
        assert page.locator("#modal #ticket-edit").is_hidden()

        # Comment with time logged, still inside the modal.
        modal.locator("#comment-body").fill("Reproduced on **Firefox**")
        modal.locator("input[name=minutes]").fill("25")
        modal.locator("button", has_text="Comment").click()
        modal.locator(".comment strong", has_text="Firefox").wait_for()
        assert "logged 25m" in modal.inner_text()

        page.keyboard.press("Escape")  # closes the modal
        modal.wait_for(state="hidden")
        assert page.url.endswith(BOARD)
        # The board shows the edit made in the modal.
        card(page, "Fix the login redirect loop").wait_for()
        page.screenshot(path=str(output_dir() / "board-after-shortcuts.png"))
    finally:
        ctx.close()


def test_chat_messages_arrive_live(browser, app: LiveApp):
    alice_ctx, alice = sign_in(browser, app, "alice")
    bob_ctx, bob = sign_in(browser, app, "bob")
    try:
        alice.goto("/projects/alice/demo/chat")
        bob.goto("/projects/alice/demo/chat")
        wait_live(alice)
        bob.fill("#chat-body", "Deploy is **green**")
        bob.keyboard.press("Enter")
        bob.locator("#chat-log strong", has_text="green").wait_for()
        alice.locator("#chat-log strong", has_text="green").wait_for()
        alice.screenshot(path=str(output_dir() / "chat.png"))
    finally:
        alice_ctx.close()
        bob_ctx.close()


def test_ticket_page_shows_another_users_comment_live(browser, app: LiveApp):
    alice_ctx, alice = sign_in(browser, app, "alice")
    bob_ctx, bob = sign_in(browser, app, "bob")
    try:
        alice.goto(BOARD)
        number = card(alice, "Review the schema").get_attribute("data-number")
        url = f"{BOARD}tickets/{number}"
        alice.goto(url)
        wait_live(alice)
        bob.goto(url)
        bob.fill("#comment-body", "Schema looks *fine*")
        bob.locator("button", has_text="Comment").click()
        bob.locator(".comment em", has_text="fine").wait_for()
        alice.locator(".comment em", has_text="fine").wait_for()
    finally:
        alice_ctx.close()
        bob_ctx.close()


def test_plan_a_sprint_by_dragging_then_start_it(browser, app: LiveApp):
    import datetime

    ctx, page = sign_in(browser, app, "alice")
    try:
        page.goto(f"{BOARD}backlog")
        today = datetime.date.today()
        page.fill("#id_name", "Sprint Browser")
        page.fill("#id_start_date", (today - datetime.timedelta(days=1)).isoformat())
        page.fill("#id_end_date", (today + datetime.timedelta(days=9)).isoformat())
        page.locator("button", has_text="Create sprint").click()
        sprint_list = page.locator("section[data-sprint-box]", has_text="Sprint Browser").locator("ul.backlog-list")
        sprint_list.wait_for()
        backlog = page.locator('ul.backlog-list[data-sprint=""]')
        item = backlog.locator(".ticket-card", has_text="Set up CI")
        with page.expect_response(lambda r: r.url.endswith("/plan")) as saved:
            drag(page, item, sprint_list)
        assert saved.value.status == 200
        sprint_list.locator(".ticket-card", has_text="Set up CI").wait_for()
        page.reload()
        sprint_list.locator(".ticket-card", has_text="Set up CI").wait_for()
        page.locator("section[data-sprint-box]", has_text="Sprint Browser").locator("button", has_text="Start").click()
        page.locator("svg.burndown").wait_for()
        page.screenshot(path=str(output_dir() / "backlog.png"), full_page=True)
    finally:
        ctx.close()
