"""Accessibility in a real Chromium: axe-core on every page, the ticket dialog's focus, the phone board.

axe-core (static/vendor/axe-core-*, from the npm registry) is injected by the tests only, never
by the pages. Every page in PAGES is checked in both themes at a desktop and a phone width;
a serious or critical violation fails. Screenshots land in test-output/browser/a11y-*.png for a
person to look at. One daphne and one Chromium serve the whole module.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.web.live import BASE_DIR, CHROMIUM, PASSWORD, LiveApp, output_dir, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing: apt-get install chromium"),
]

AXE_DIR = next(iter(sorted((BASE_DIR / "static" / "vendor").glob("axe-core-*"))), None)
AXE_URL = f"/static/vendor/{AXE_DIR.name}/axe.min.js" if AXE_DIR else ""

SEED = f"""
from django.contrib.auth import get_user_model
from chat import services as cs
from projects import services as ps
from tickets import services as ts
User = get_user_model()
alice = User.objects.create_user("alice", "alice@example.com", {PASSWORD!r}, display_name="Alice Archer")
bob = User.objects.create_user("bob", "bob@example.com", {PASSWORD!r}, display_name="Bob Baker")
project = ps.project_create(name="Demo", key="DEMO", by=alice, description="Accessibility checks")
ps.membership_add(project=project, username="bob", by=alice)
columns = {{c.name: c for c in project.columns.all()}}
lime = ps.label_create(project=project, name="frontend", color="#84CC16", by=alice)
navy = ps.label_create(project=project, name="backend", color="#1E3A8A", by=alice)
yellow = ps.label_create(project=project, name="docs", color="#FDE047", by=alice)
body = "Steps:\\n\\n- [x] reproduce\\n- [ ] fix, ask @bob\\n\\nSee `code` and [a link](https://example.com)."
first = ts.ticket_create(project=project, by=alice, title="Set up CI", type="feature", priority="urgent",
                         labels=[lime.pk, navy.pk], body=body)
ts.ticket_create(project=project, by=alice, title="Fix login redirect", type="bug", priority="high", assignee="bob",
                 labels=[yellow.pk], column=columns["In Progress"], estimate=3)
ts.ticket_create(project=project, by=alice, title="Write the epic", type="epic", priority="low")
ts.ticket_create(project=project, by=alice, title="Ship v0.1", column=columns["Done"])
ts.comment_create(ticket=first, by=bob, body="On it, @alice. - [ ] later")
cs.message_post(user=alice, project=project, body="Hello @bob, see DEMO-1\\n\\n- [ ] agenda")
topic = cs.topic_create(user=alice, project=project, title="Release plan", body="What ships in **v0.1**?")
cs.topic_reply(user=bob, topic=topic, body="CI first.")
conversation, _ = cs.conversation_open(user=alice, usernames=["bob"])
cs.conversation_message_post(user=bob, conversation=conversation, body="Lunch?")
print("seeded", topic.pk, conversation.pk)
"""

BOARD = "/projects/alice/demo/"
THEMES = ("light", "dark")
SEEDED: dict[str, int] = {}  # ids the seed printed: the topic and the conversation
WIDTHS = {"desktop": {"width": 1400, "height": 900}, "phone": {"width": 390, "height": 844}}


def pages(topic_id: int, conversation_id: int) -> list[tuple[str, str]]:
    """(name, path) of every page checked; add a page here and it is checked in every theme and width."""
    return [
        ("login", "/login/"),
        ("home", "/"),
        ("projects", "/projects/"),
        ("board", BOARD),
        ("board-dialog", BOARD + "#open-first-card"),
        ("ticket", BOARD + "tickets/1"),
        ("backlog", BOARD + "backlog"),
        ("insights", BOARD + "insights"),
        # Now (the seed is done): the seeded cards, on the read-only board.
        ("board-as-of", BOARD + "?as_of=" + datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("chat", BOARD + "chat"),
        ("topic", f"{BOARD}topics/{topic_id}"),
        ("messages", "/messages/"),
        ("conversation", f"/messages/{conversation_id}"),
        ("notifications", "/notifications/"),
        ("project-settings", BOARD + "settings"),
        ("user-settings", "/settings/"),
    ]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    live = LiveApp(tmp_path_factory.mktemp("live-a11y"))
    live.start()
    try:
        output = live.shell(SEED)
        assert "seeded" in output
        topic_id, conversation_id = (int(part) for part in output.split("seeded", 1)[1].split()[:2])
        SEEDED.update(topic=topic_id, conversation=conversation_id)
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def signed_in_state(browser, app: LiveApp) -> dict:
    context, _ = sign_in(browser, app, "alice")
    state = context.storage_state()
    context.close()
    return state


def new_page(browser, app: LiveApp, *, theme: str, viewport: dict, state: dict | None):
    context = browser.new_context(
        base_url=app.url,
        viewport=viewport,
        color_scheme=theme,
        storage_state=state,
    )
    # The toggle's saved choice too, so the page's own theme logic is what is checked.
    context.add_init_script(f"try {{ localStorage.setItem('punt-theme', '{theme}'); }} catch (e) {{}}")
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def run_axe(page) -> list[dict]:
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(url=AXE_URL)
    results = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + n.failureSummary)}));
        }"""
    )
    return [v for v in results if v["impact"] in ("serious", "critical")]


@pytest.mark.skipif(AXE_DIR is None, reason="axe-core is not vendored under static/vendor/")
@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("theme", THEMES)
def test_axe_finds_no_serious_violation_on_any_page(browser, app: LiveApp, signed_in_state, theme, width):
    out = output_dir()
    failures: list[str] = []
    signed_in = new_page(browser, app, theme=theme, viewport=WIDTHS[width], state=signed_in_state)
    anonymous = new_page(browser, app, theme=theme, viewport=WIDTHS[width], state=None)
    try:
        for name, path in pages(SEEDED["topic"], SEEDED["conversation"]):
            page = anonymous if name == "login" else signed_in
            open_card = path.endswith("#open-first-card")
            response = page.goto(path.removesuffix("#open-first-card"))
            if response is not None and response.status == 404 and name == "notifications":
                continue  # the inbox page is not merged yet
            assert response is not None and response.ok, f"{name}: {response and response.status}"
            page.wait_for_load_state("networkidle")
            if open_card:
                page.locator(".ticket-card a.title").first.click()
                page.wait_for_selector("#modal:not([hidden]) #ticket-title")
            page.screenshot(path=str(out / f"a11y-{name}-{theme}-{width}.png"), full_page=not open_card)
            for violation in run_axe(page):
                failures.append(f"{name} ({theme}, {width}): {violation['id']} [{violation['impact']}] {violation}")
    finally:
        signed_in.context.close()
        anonymous.context.close()
    assert not failures, "\n".join(failures)


def test_skip_link_is_the_first_stop_and_leads_to_main(browser, app: LiveApp, signed_in_state):
    page = new_page(browser, app, theme="light", viewport=WIDTHS["desktop"], state=signed_in_state)
    try:
        for path in ("/", BOARD, BOARD + "tickets/1"):
            page.goto(path)
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
            assert page.locator(".skip-link").is_visible()  # shown when focused
            page.keyboard.press("Enter")
            assert page.evaluate("document.activeElement.id") == "main"
        page.goto("/login/")
        assert page.locator("link[rel=icon]").get_attribute("href").endswith("favicon.svg")
        icon = page.request.get("/favicon.ico")
        assert icon.ok and "<svg" in icon.text()
    finally:
        page.context.close()


def test_dialog_traps_focus_and_returns_it_to_the_card(browser, app: LiveApp, signed_in_state):
    page = new_page(browser, app, theme="light", viewport=WIDTHS["desktop"], state=signed_in_state)
    try:
        page.goto(BOARD)
        page.wait_for_load_state("networkidle")
        card = page.locator(".ticket-card", has_text="Fix login redirect")
        card.focus()
        page.keyboard.press("Enter")
        page.wait_for_selector("#modal:not([hidden]) #ticket-title")
        dialog = page.locator("#modal .modal")
        assert dialog.get_attribute("role") == "dialog" and dialog.get_attribute("aria-modal") == "true"
        title_id = dialog.get_attribute("aria-labelledby")
        assert page.locator(f"#{title_id}").inner_text().strip() == "Fix login redirect"
        inside = "document.querySelector('#modal .modal').contains(document.activeElement)"
        assert page.evaluate(inside)
        stops = set()
        for _ in range(60):  # more than the dialog's stops: Tab must wrap, never leave
            page.keyboard.press("Tab")
            assert page.evaluate(inside), page.evaluate("document.activeElement.outerHTML.slice(0, 120)")
            stops.add(page.evaluate("document.activeElement.outerHTML.slice(0, 80)"))
        assert len(stops) > 3
        for _ in range(10):
            page.keyboard.press("Shift+Tab")
            assert page.evaluate(inside)
        # A focus moved behind the dialog by a script or a click comes back into it.
        page.evaluate("document.querySelector('[data-shortcut-search]').focus()")
        assert page.evaluate(inside)
        page.keyboard.press("Escape")  # leave a field, if one has focus
        if page.locator("#modal").is_visible():
            page.keyboard.press("Escape")
        page.wait_for_selector("#modal", state="hidden")
        assert page.evaluate("document.activeElement.closest('.ticket-card')?.dataset.number") == card.get_attribute(
            "data-number"
        )
        # Focus survives the board's redraw after the close.
        page.wait_for_timeout(600)
        assert page.evaluate("document.activeElement.closest('.ticket-card')?.dataset.number") == card.get_attribute(
            "data-number"
        )
        # The close button returns focus too.
        page.locator(".ticket-card a.title", has_text="Set up CI").click()
        page.wait_for_selector("#modal:not([hidden]) #ticket-title")
        page.click("#modal [data-modal-close]")
        page.wait_for_selector("#modal", state="hidden")
        assert page.evaluate("document.activeElement.textContent").find("Set up CI") >= 0
    finally:
        page.context.close()


def test_phone_board_shows_cards_first_with_big_tap_targets(browser, app: LiveApp, signed_in_state):
    page = new_page(browser, app, theme="light", viewport=WIDTHS["phone"], state=signed_in_state)
    out = output_dir()
    try:
        page.goto(BOARD)
        page.wait_for_load_state("networkidle")
        first_card = page.locator(".ticket-card").first.bounding_box()
        assert first_card is not None and first_card["y"] < 400, first_card
        small = page.evaluate(
            """() => [...document.querySelectorAll(
                '.topbar a, .topbar button, .topbar select, .tabs a, .board-bar a, .board-bar button, ' +
                '.board-bar select, .board-bar input, .ticket-card a.title'
            )].filter(el => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
              .map(el => [el.outerHTML.slice(0, 60), el.getBoundingClientRect()])
              .filter(([, box]) => box.height < 44 || box.width < 44)
              .map(([html, box]) => [html, box.width, box.height])"""
        )
        assert not small, small
        # Nothing sticks out sideways: the page itself does not scroll horizontally.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        # The filters fold away behind a toggle; the search stays.
        assert page.locator(".filters input[type=search]").is_visible()
        toggle = page.locator("[data-filters-toggle]")
        assert toggle.get_attribute("aria-expanded") == "false"
        assert not page.locator(".filters select[name=assignee]").is_visible()
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "true"
        assert page.locator(".filters select[name=assignee]").is_visible()
        page.screenshot(path=str(out / "a11y-phone-board-filters-open.png"))
        toggle.click()
        # The column switcher scrolls the board to the chosen column.
        page.select_option("[data-column-switcher]", label="Done")
        page.wait_for_function(
            """() => { const c = document.querySelector('.column[aria-label="Done"]').getBoundingClientRect();
                       return c.left >= -2 && c.left < 40; }"""
        )
        page.screenshot(path=str(out / "a11y-phone-board-done.png"))
        # The ticket page puts status and assignee before the description.
        page.goto(BOARD + "tickets/1")
        status = page.locator(".fields dt", has_text="Status").bounding_box()
        description = page.locator("#ticket-view").bounding_box()
        assert status is not None and description is not None and status["y"] < description["y"]
    finally:
        page.context.close()


def test_axe_is_not_loaded_by_the_pages(app: LiveApp):
    import urllib.request

    with urllib.request.urlopen(f"{app.url}/login/") as response:
        assert "axe" not in response.read().decode()
    assert AXE_DIR is not None and (AXE_DIR / "LICENSE").exists()
