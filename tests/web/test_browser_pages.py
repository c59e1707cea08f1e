"""Chat, ticket and settings pages in a real headless Chromium, on a phone and in dark mode.

Edit and delete one's own chat message and comment, load older chat messages, restore an
archived project, reorder columns by drag. Screenshots go under test-output/browser/.
"""

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

PHONE = {"width": 390, "height": 844}

SEED = f"""
from django.contrib.auth import get_user_model
from chat import services as cs
from projects import services as ps
from tickets import services as ts
User = get_user_model()
carol = User.objects.create_user("carol", "carol@example.com", {PASSWORD!r}, display_name="Carol Chen")
dan = User.objects.create_user("dan", "dan@example.com", {PASSWORD!r}, display_name="Dan Diaz")
project = ps.project_create(name="Pages", key="PAGE", by=carol, description="Browser page tests")
ps.membership_add(project=project, username="dan", by=carol)
for i in range(55):
    cs.message_post(user=dan if i % 2 else carol, project=project, body=f"Chat line {{i}}")
ticket = ts.ticket_create(project=project, by=carol, title="Polish the pages", body="Some **Markdown** here")
ts.comment_create(ticket=ticket, by=carol, body="First thoughts", minutes=20)
ts.comment_create(ticket=ticket, by=dan, body="Agreed, @carol")
old = ps.project_create(name="Old Stuff", key="OLD", by=carol)
ps.project_archive(project=old, by=carol)
print("seeded")
"""

BASE = "/projects/carol/pages"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    yield from serve(tmp_path_factory, "live-pages", SEED)


# The elements sticking out past the right edge, for the failure message.
WIDEST = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > innerWidth + 1).slice(0, 8)
  .map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))"""


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_chat_load_older_edit_and_delete_on_a_phone(browser, app: LiveApp):
    context, page = sign_in(browser, app, "carol", viewport=PHONE)
    try:
        page.goto(f"{BASE}/chat")
        page.locator("body[data-live='1']").wait_for(state="attached")
        log = page.locator("#chat-log")

        def line(n: int):
            return log.locator(".markdown p", has_text=re.compile(rf"^Chat line {n}$"))

        assert line(4).count() == 0 and line(5).count() == 1
        page.get_by_role("link", name="Load older messages").click()
        line(0).wait_for()
        assert page.locator(".load-older").count() == 0
        assert line(54).count() == 1 and line(4).count() == 1

        # Someone else posts: the live refresh keeps the older messages loaded.
        dan_ctx, dan = sign_in(browser, app, "dan")
        try:
            dan.goto(f"{BASE}/chat")
            dan.fill("#chat-body", "Live from Dan")
            dan.click("form.inline-form button[type=submit]")
            dan.locator("#chat-log .markdown p", has_text="Live from Dan").wait_for()
        finally:
            dan_ctx.close()
        log.locator(".markdown p", has_text="Live from Dan").wait_for()
        assert line(0).count() == 1 and line(4).count() == 1

        # Post, then edit it in place, then delete it.
        page.fill("#chat-body", "Tpyo here")
        page.click("form.inline-form button[type=submit]")
        mine = log.locator("li[data-message]", has_text="Tpyo here")
        mine.wait_for()
        assert line(0).count() == 1
        mine.locator("summary", has_text="Edit").click()
        mine.locator("textarea").fill("Typo fixed")
        mine.get_by_role("button", name="Save").click()
        log.locator("li[data-message]", has_text="Typo fixed").locator("text=edited").wait_for()
        assert no_horizontal_scroll(page)
        page.screenshot(path=str(output_dir() / "chat-phone.png"), full_page=False)

        page.once("dialog", lambda dialog: dialog.accept())
        fixed = log.locator("li[data-message]", has_text="Typo fixed")
        fixed.get_by_role("button", name="Delete").click()
        log.get_by_text("Message deleted.").last.wait_for()
        assert log.locator("li[data-message]", has_text="Typo fixed").count() == 0
        assert line(0).count() == 1
    finally:
        context.close()


def test_ticket_comment_edit_and_delete_in_dark_mode(browser, app: LiveApp):
    context, page = sign_in(browser, app, "carol", viewport=PHONE, dark=True)
    try:
        page.goto(f"{BASE}/tickets/1")
        comment = page.locator("#timeline li", has_text="First thoughts")
        comment.locator("summary", has_text="Edit").click()
        comment.locator("textarea").fill("Second thoughts")
        comment.get_by_role("button", name="Save").click()
        page.locator("#timeline li", has_text="Second thoughts").wait_for()
        # Dan's comment: carol (the owner) may delete it but not edit it.
        dans = page.locator("#timeline li", has_text="Agreed")
        assert dans.locator("summary", has_text="Edit").count() == 0
        assert no_horizontal_scroll(page)
        page.screenshot(path=str(output_dir() / "ticket-phone-dark.png"), full_page=True)
        page.once("dialog", lambda dialog: dialog.accept())
        dans.get_by_role("button", name="Delete").click()
        page.wait_for_load_state()
        page.locator("#timeline").wait_for()
        assert page.locator("#timeline li", has_text="Agreed").count() == 0
    finally:
        context.close()


def test_restore_archived_project_and_reorder_columns_by_drag(browser, app: LiveApp):
    context, page = sign_in(browser, app, "carol")
    try:
        page.goto("/projects/")
        page.locator("#archived-projects summary").click()
        page.locator("#archived-projects a", has_text="Old Stuff").click()
        page.locator("#archived").wait_for()
        assert page.locator("form.quick-add, input[name=title]").count() == 0
        page.screenshot(path=str(output_dir() / "archived-board.png"))
        page.get_by_role("button", name="Restore project").click()
        page.wait_for_url(re.compile(r"/projects/carol/old-stuff/?$"))
        assert page.locator("#archived").count() == 0

        page.goto(f"{BASE}/settings")
        rows = page.locator("#column-order tr[data-column]")
        source = rows.nth(2).locator(".drag-handle")
        target = rows.nth(0)
        box, goal = source.bounding_box(), target.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        for i in range(1, 13):
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + (goal["y"] + 4 - box["y"]) * i / 12)
            page.wait_for_timeout(30)
        page.mouse.up()
        page.wait_for_url(re.compile(r"/settings#column$"))
        page.locator(".flash, .messages, [role=status]", has_text="Column order saved.").first.wait_for()
        page.goto(f"{BASE}/")
        heads = page.locator("section.column .column-head span").all_inner_texts()
        names = [h for h in heads if h in ("To Do", "In Progress", "Done")]
        assert names == ["Done", "To Do", "In Progress"]
        page.set_viewport_size(PHONE)
        page.goto(f"{BASE}/settings")
        page.screenshot(path=str(output_dir() / "settings-phone.png"), full_page=True)
        assert no_horizontal_scroll(page), page.evaluate(WIDEST)
    finally:
        context.close()


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_every_page_fits_a_phone(browser, app: LiveApp, dark: bool):
    """No page scrolls sideways on a 390 px phone; a screenshot of each is kept to look at."""
    context, page = sign_in(browser, app, "carol", viewport=PHONE, dark=dark)
    theme = "dark" if dark else "light"
    try:
        pages = {
            "home": "/",
            "projects": "/projects/",
            "board": f"{BASE}/",
            "ticket": f"{BASE}/tickets/1",
            "backlog": f"{BASE}/backlog",
            "chat": f"{BASE}/chat",
            "messages": "/messages/",
            "settings": f"{BASE}/settings",
            "user-settings": "/settings/",
        }
        wide = {}
        for name, url in pages.items():
            page.goto(url)
            page.screenshot(path=str(output_dir() / f"phone-{theme}-{name}.png"))
            # The avatar stays the way to one's settings, and the top bar keeps to one row.
            assert page.locator('header a[aria-label="Your settings"]').is_visible(), name
            assert page.locator("header.topbar").bounding_box()["height"] < 60, name
            if not no_horizontal_scroll(page):
                wide[name] = page.evaluate(WIDEST)
        assert wide == {}, wide
    finally:
        context.close()
