"""Invitations in a real headless Chromium: the member picker suggests people on the site, an
admin makes an invite link, and someone else opens it, accepts and lands on the board."""

from __future__ import annotations

import os
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
User = get_user_model()
carol = User.objects.create_user("carol", "carol@example.com", {PASSWORD!r}, display_name="Carol Chen")
User.objects.create_user("zoe", "zoe@example.com", {PASSWORD!r}, display_name="Zoe Zhang")
User.objects.create_user("zach", "zach@example.com", {PASSWORD!r}, display_name="Zach Zimmer")
ps.project_create(name="Invites", key="INV", by=carol)
print("seeded")
"""

SETTINGS = "/projects/carol/invites/settings"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    yield from serve(tmp_path_factory, "live-invites", SEED)


def test_member_picker_suggests_people_on_the_site(browser, app: LiveApp):
    context, page = sign_in(browser, app, "carol")
    try:
        page.goto(SETTINGS)
        page.locator("#add-username").press_sequentially("zo")
        option = page.locator("#add-username-people option[value='zoe']")
        option.wait_for(state="attached")
        assert page.locator("#add-username-people option").count() == 1
        assert option.get_attribute("label") == "Zoe Zhang"
    finally:
        context.close()


def test_invite_link_accepted_lands_on_the_board(browser, app: LiveApp):
    context, page = sign_in(browser, app, "carol")
    try:
        page.goto(SETTINGS)
        page.select_option("#invite-link-role", "viewer")
        page.get_by_role("button", name="Create invite link").click()
        url = page.locator("code[data-secret-url]").inner_text()
        assert "/invite/" in url
        # The link names SITE_URL; the live server listens elsewhere.
        path = url[url.index("/invite/") :]
        assert page.locator("#invite tbody tr", has_text="viewer").count() == 1
    finally:
        context.close()
    context, page = sign_in(browser, app, "zach")
    try:
        page.goto(path)
        page.get_by_text("Join Invites").wait_for()
        page.get_by_role("button", name="Accept and join").click()
        page.wait_for_url(f"{app.url}/projects/carol/invites/")
        assert "you joined as viewer" in page.content()
    finally:
        context.close()
