"""Editing a ticket in a real headless Chromium against a real daphne (issue 18, "edit in place").

The title edited in place, the priority picker, `@` suggestions in the comment box, a comment
draft that survives closing the panel, `c` for the full new-ticket form, and Undo after a
delete, a close and a drag. Screenshots go to test-output/browser/ (or $PUNT_TEST_OUTPUT).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest

from tests.web.live import CHROMIUM, PASSWORD, LiveApp, output_dir, serve, sign_in
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
bob = User.objects.create_user("bob", "bob@example.com", {PASSWORD!r}, display_name="Bob Baker")
project = ps.project_create(name="Demo", key="DEMO", by=alice, description="Browser tests")
ps.membership_add(project=project, username="bob", by=alice)
ps.label_create(project=project, name="backend", color="#7C3AED", by=alice)
ts.ticket_create(project=project, by=alice, title="Set up CI", body="Use **GitHub** Actions")
ts.ticket_create(project=project, by=alice, title="Fix login redirect", type="bug")
ts.ticket_create(project=project, by=alice, title="Write docs")
print("seeded")
"""

BOARD = "/projects/alice/demo/"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    yield from serve(tmp_path_factory, "live-edit", SEED)


def open_card(page, title: str):
    card(page, title).locator("a.title").click()
    modal = page.locator("#modal")
    modal.locator("h1", has_text=title).wait_for()
    return modal


def close_modal(page) -> None:
    page.locator("#modal [data-modal-close]").first.click()
    page.locator("#modal").wait_for(state="hidden")


def test_title_priority_mention_and_draft(browser, app: LiveApp):
    ctx, page = sign_in(browser, app, "alice")
    try:
        page.goto(BOARD)
        modal = open_card(page, "Set up CI")

        # Click the title: an input in its place; Enter saves.
        modal.locator("h1#ticket-title").click()
        title = modal.locator("#edit-title")
        title.wait_for(state="visible")
        assert page.evaluate("document.activeElement.id") == "edit-title"
        title.fill("Set up CI on GitHub")
        title.press("Enter")
        modal.locator("h1#ticket-title", has_text="Set up CI on GitHub").wait_for()
        assert modal.locator("#ticket-edit").is_hidden()

        # The description's preview is the server's rendering.
        modal.locator("[data-inplace=edit-body]").click()
        modal.locator("#edit-body").wait_for(state="visible")
        modal.locator("#edit-body").fill("Now with *emphasis*")
        modal.locator("#ticket-edit [data-md-tab=preview]").click()
        modal.locator("#ticket-edit [data-md-preview] em", has_text="emphasis").wait_for()
        modal.locator("#ticket-edit [data-md-tab=write]").click()
        modal.locator("#edit-body").press("Control+Enter")
        modal.locator("#ticket-view .markdown em", has_text="emphasis").wait_for()

        # The priority picker saves on change and the fields redraw in place.
        modal.locator("#field-priority").select_option("urgent")
        modal.locator("#field-priority.prio-urgent").wait_for()
        page.screenshot(path=str(output_dir() / "edit-modal.png"))

        # A refused value: a toast says why and the picker shows the saved value again.
        modal.locator("#field-estimate").fill("99999999999")
        modal.locator("#field-estimate").press("Enter")
        page.locator("#messages .toast.error", has_text="Estimate").wait_for()
        assert modal.locator("#field-estimate").input_value() == ""

        # @ in the comment box lists people; Enter picks one.
        box = modal.locator("#comment-body")
        box.click()
        page.keyboard.type("Thanks @bo")
        option = modal.locator("#comment-body-suggestions [role=option]", has_text="bob")
        option.wait_for()
        assert box.get_attribute("aria-expanded") == "true"
        assert modal.locator("#comment-body-suggestions[role=listbox]").count() == 1
        page.keyboard.press("Enter")
        modal.locator("#comment-body-suggestions").wait_for(state="detached")
        assert box.input_value() == "Thanks @bob "
        page.keyboard.type("for the #")
        modal.locator("#comment-body-suggestions [role=option]").first.wait_for()
        page.screenshot(path=str(output_dir() / "edit-suggestions.png"))
        page.keyboard.press("Escape")  # closes the list only
        modal.locator("#comment-body-suggestions").wait_for(state="detached")
        assert page.locator("#modal").is_visible()

        # Close the panel with the comment unsent (Esc leaves the box, Esc closes), reopen: the draft is back.
        page.keyboard.press("Escape")
        page.keyboard.press("Escape")
        page.locator("#modal").wait_for(state="hidden")
        modal = open_card(page, "Set up CI on GitHub")
        assert modal.locator("#comment-body").input_value() == "Thanks @bob for the #"
        # Sent: the draft is gone.
        modal.locator("button", has_text="Comment").click()
        modal.locator(".comment", has_text="Thanks").wait_for()
        assert modal.locator("#comment-body").input_value() == ""
        close_modal(page)
        modal = open_card(page, "Set up CI on GitHub")
        assert modal.locator("#comment-body").input_value() == ""
        close_modal(page)
    finally:
        ctx.close()


def test_c_opens_the_full_new_ticket_form(browser, app: LiveApp):
    ctx, page = sign_in(browser, app, "alice")
    try:
        page.goto(BOARD)
        page.keyboard.press("c")
        form = page.locator("#modal form[data-new-ticket]")
        form.wait_for()
        form.locator("input[name=title]:focus").wait_for()
        page.keyboard.type("Add dark mode")
        form.locator("select[name=type]").select_option("feature")
        form.locator("select[name=priority]").select_option("high")
        form.locator("select[name=column]").select_option(label="In Progress")
        form.locator("label", has_text="backend").click()
        form.locator("textarea[name=body]").fill("Ask @alice")
        form.locator("button[type=submit]").click()
        page.locator("#modal").wait_for(state="hidden")
        page.locator("#messages .toast", has_text="created").wait_for()
        new = column(page, "In Progress").locator(".ticket-card", has_text="Add dark mode")
        new.wait_for()
        assert new.locator(".pill.type-feature").count() == 1
        assert new.locator(".pill.prio-high").count() == 1
        assert new.locator(".label", has_text="backend").count() == 1
        # The description's draft went with the created ticket: the next form starts empty.
        page.keyboard.press("c")
        form.locator("input[name=title]:focus").wait_for()
        assert form.locator("textarea[name=body]").input_value() == ""
        page.keyboard.press("Escape")
        page.keyboard.press("Escape")
        page.locator("#modal").wait_for(state="hidden")
    finally:
        ctx.close()


def test_delete_close_and_move_can_be_undone(browser, app: LiveApp):
    ctx, page = sign_in(browser, app, "alice")
    page.on("dialog", lambda dialog: dialog.accept())
    try:
        page.goto(BOARD)
        # Delete from the panel, then Undo: the card is back.
        modal = open_card(page, "Write docs")
        modal.locator("button", has_text="Delete ticket").click()
        page.locator("#modal").wait_for(state="hidden")
        card(page, "Write docs").wait_for(state="detached")
        page.locator("#messages .toast.undo", has_text="deleted").locator("button", has_text="Undo").click()
        card(page, "Write docs").wait_for()

        # Close from the panel, then Undo: reopened.
        modal = open_card(page, "Write docs")
        modal.locator("button", has_text="Close ticket").click()
        modal.locator("#ticket-head", has_text="Closed").wait_for()
        page.locator("#messages .toast.undo", has_text="closed").locator("button", has_text="Undo").click()
        modal.locator("button", has_text="Close ticket").wait_for()
        assert "Closed" not in modal.locator("#ticket-head").inner_text()
        close_modal(page)

        # A drag, then Undo: back in its column (on a fresh board, not one redrawing after the modal).
        page.goto(BOARD)
        source = card(page, "Fix login redirect")
        origin = source.locator("xpath=ancestor::section[contains(@class, 'column')]").get_attribute("aria-label")
        drag(page, source, column(page, "Done").locator("ul.cards"))
        column(page, "Done").locator(".ticket-card", has_text="Fix login redirect").wait_for()
        page.locator("#messages .toast.undo", has_text="moved").locator("button", has_text="Undo").click()
        column(page, origin).locator(".ticket-card", has_text="Fix login redirect").wait_for()
        page.reload()
        column(page, origin).locator(".ticket-card", has_text="Fix login redirect").wait_for()
        assert column(page, "Done").locator(".ticket-card", has_text="Fix login redirect").count() == 0
    finally:
        ctx.close()


def test_delete_on_the_ticket_page_offers_undo_on_the_board(browser, app: LiveApp):
    ctx, page = sign_in(browser, app, "alice")
    page.on("dialog", lambda dialog: dialog.accept())
    try:
        page.goto(BOARD)
        href = card(page, "Fix login redirect").locator("a.title").get_attribute("href")
        page.goto(href)
        page.locator("button", has_text="Delete ticket").click()
        page.wait_for_url(re.compile(r"/projects/alice/demo/$"))
        assert card(page, "Fix login redirect").count() == 0
        page.locator("#messages .toast.undo").locator("button", has_text="Undo").click()
        card(page, "Fix login redirect").wait_for()
    finally:
        ctx.close()
