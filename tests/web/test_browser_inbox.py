"""The inbox in a real headless Chromium against a real daphne: two people, live.

Bob waits on Home with the bell; Alice mentions him in a comment; his bell counts it within
a second without a reload, and Home's notifications box shows it. He opens the
notifications page, sees the Markdown rendered (bold, not `**`), marks it read, and the count
drops. A direct message lights the Messages badge and the conversation list; a new topic
appears in the chat page's topic list. Screenshots go under test-output/browser/.
"""

from __future__ import annotations

import os
import time
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
bob = User.objects.create_user("bob", "bob@example.com", {PASSWORD!r}, display_name="Bob Baker")
project = ps.project_create(name="Inbox", key="INB", by=alice)
ps.membership_add(project=project, username="bob", by=alice)
ts.ticket_create(project=project, by=alice, title="Write the Docker section")
print("seeded")
"""

BASE = "/projects/alice/inbox"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    yield from serve(tmp_path_factory, "live-inbox", SEED)


def wait_inbox_live(page) -> None:
    # A locator, not wait_for_function: a predicate string is eval'd in the page, which the CSP refuses.
    page.locator("body[data-inbox-live='1']").wait_for(state="attached")


def test_a_mention_lights_the_bell_live_and_reading_it_clears_it(browser, app: LiveApp):
    bob_ctx, bob = sign_in(browser, app, "bob")
    alice_ctx, alice = sign_in(browser, app, "alice")
    try:
        wait_inbox_live(bob)
        bell = bob.locator('[data-inbox-count="notifications"]')
        assert bell.is_hidden()
        bob.evaluate("document.body.dataset.sameDocument = 'yes'")  # gone if the page reloads

        alice.goto(f"{BASE}/tickets/1")
        alice.fill("#comment-body", "@bob could you **review** the Docker section?")
        clicked = time.monotonic()
        with alice.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/comment")):
            alice.get_by_role("button", name="Comment").click()
        saved = time.monotonic()
        bell.wait_for(state="visible", timeout=3000)
        shown = time.monotonic()
        print(f"bell: {1000 * (shown - clicked):.0f} ms after the click, {1000 * (shown - saved):.0f} ms after saving")
        assert bell.inner_text() == "1"
        # Within a second of the comment being saved (Alice's POST answered), with no reload.
        assert shown - saved < 1.0, f"the bell took {shown - saved:.2f}s"
        # Home's notifications box got it too, rendered, without a reload.
        bob.locator("#notifications .inbox-item.unread strong", has_text="review").wait_for(timeout=3000)
        assert bob.evaluate("document.body.dataset.sameDocument") == "yes"
        bob.screenshot(path=str(output_dir() / "inbox-home-bell.png"), full_page=True)

        bob.locator('[data-inbox-link="notifications"]').click()
        bob.wait_for_url(f"{app.url}/notifications/")
        item = bob.locator("#notification-list .inbox-item.unread")
        assert item.count() == 1
        assert item.locator("strong", has_text="review").count() == 1
        assert "**" not in item.inner_text()
        bob.screenshot(path=str(output_dir() / "inbox-notifications.png"), full_page=True)

        item.get_by_role("button", name="Mark read").click()
        bob.locator("#notification-list .inbox-item.unread").wait_for(state="detached", timeout=3000)
        bob.locator('[data-inbox-count="notifications"]').wait_for(state="hidden", timeout=3000)
        assert bob.locator("#notification-list .inbox-item").count() == 1

        # The item jumps to the comment's ticket.
        bob.locator("#notification-list .inbox-text").click()
        bob.wait_for_url(f"{app.url}{BASE}/tickets/1")
    finally:
        bob_ctx.close()
        alice_ctx.close()


def test_new_notifications_topics_and_messages_arrive_live(browser, app: LiveApp):
    bob_ctx, bob = sign_in(browser, app, "bob")
    alice_ctx, alice = sign_in(browser, app, "alice")
    try:
        # The notifications page takes a new one at the top without a reload.
        bob.goto("/notifications/")
        wait_inbox_live(bob)
        before = bob.locator("#notification-list .inbox-item").count()
        alice.goto(f"{BASE}/tickets/1")
        alice.fill("#comment-body", "@bob and `one more` thing")
        alice.get_by_role("button", name="Comment").click()
        first = bob.locator("#notification-list .inbox-item").first
        first.locator("code", has_text="one more").wait_for(timeout=3000)
        assert bob.locator("#notification-list .inbox-item").count() == before + 1

        # A new topic shows in the chat page's topic list.
        bob.goto(f"{BASE}/chat")
        bob.locator("body[data-live='1']").wait_for(state="attached")
        alice.goto(f"{BASE}/chat")
        alice.fill("#topic-title", "Release checklist")
        alice.get_by_role("button", name="Start topic").click()
        bob.locator("#topics", has_text="Release checklist").wait_for(timeout=3000)

        # A direct message lights the Messages badge and lands in the conversation list.
        bob.goto("/messages/")
        wait_inbox_live(bob)
        badge = bob.locator('[data-inbox-count="messages"]')
        assert badge.is_hidden()
        alice.goto("/messages/")
        alice.fill("#usernames", "bob")
        alice.get_by_role("button", name="Open").click()
        alice.locator("body[data-live='1']").wait_for(state="attached")
        alice.fill("#chat-body", "Lunch at noon?")
        alice.locator("form:has(#chat-body) button[type=submit]").click()
        badge.wait_for(state="visible", timeout=3000)
        assert badge.inner_text() == "1"
        bob.locator("#conversation-list", has_text="Alice Archer").wait_for(timeout=3000)
        bob.screenshot(path=str(output_dir() / "inbox-messages.png"), full_page=True)

        # Opening it reads it: the badge goes.
        bob.locator("#conversation-list a", has_text="Alice Archer").click()
        bob.locator(".markdown", has_text="Lunch at noon?").wait_for()
        bob.locator('[data-inbox-count="messages"]').wait_for(state="hidden", timeout=3000)
    finally:
        bob_ctx.close()
        alice_ctx.close()
