"""Stored XSS through the names people choose, in a real headless Chromium (issue 16, item 3).

Every name a user can set (project, column, label, sprint, topic, chat webhook, outgoing
webhook URL, group conversation, ticket title, display name; PUNT has no custom fields yet)
carries a payload that breaks out of a JavaScript string, an attribute and an element. Each
page that shows those names is visited, and the buttons whose confirm quotes a name are
clicked: the only dialogs are the confirms, quoting the name literally, no payload ever runs
(no alert, `window.__xss` stays undefined), and no page, our own scripts included, trips the
Content-Security-Policy or throws.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.live import CHROMIUM, PASSWORD, LiveApp

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing: apt-get install chromium"),
]

# Out of a '...' JS string, out of a "..." attribute, and a new element; each part sets the flag.
PAYLOAD = "x'+alert(__xss=1)+'\"><img src=x onerror=alert(__xss=2)><script>alert(__xss=3)</script>"
# Labels hold 50 characters.
SHORT = "'+alert(__xss=1)+'\"><img src=x onerror=__xss=2>"
HOOK_URL = "https://example.com/h?q='+alert(__xss=1)+'\"><img/src=x/onerror=alert(__xss=2)>"

SEED = f"""
import json
from django.contrib.auth import get_user_model
from chat import services as cs
from projects import services as ps
from tickets import services as ts
from webhooks import services as ws
PAYLOAD, SHORT, HOOK_URL = {PAYLOAD!r}, {SHORT!r}, {HOOK_URL!r}
User = get_user_model()
carol = User.objects.create_user("carol", "carol@example.com", {PASSWORD!r}, display_name="Carol")
dan = User.objects.create_user("dan", "dan@example.com", {PASSWORD!r}, display_name=PAYLOAD[:100])
User.objects.create_user("erin", "erin@example.com", {PASSWORD!r})
project = ps.project_create(name=PAYLOAD, key="PAY", by=carol)
ps.membership_add(project=project, username="dan", by=carol)
column = ps.column_create(project=project, name=PAYLOAD, by=carol)
label = ps.label_create(project=project, name=SHORT, by=carol)
sprint = ps.sprint_create(project=project, name=PAYLOAD, by=carol)
ticket = ts.ticket_create(project=project, by=dan, title=PAYLOAD, column=column, labels=[label], sprint=sprint)
ts.comment_create(ticket=ticket, by=dan, body=PAYLOAD)
topic = cs.topic_create(user=dan, project=project, title=PAYLOAD, body=PAYLOAD)
cs.topic_reply(user=dan, topic=topic, body=PAYLOAD)
cs.message_post(user=dan, project=project, body=PAYLOAD)
chat_hook, _ = ws.chat_webhook_create(project=project, name=PAYLOAD, by=carol)
ws.chat_webhook_post(webhook=chat_hook, payload={{"text": "from the hook"}})
hook = ws.hook_create(project=project, url=HOOK_URL, events=["*"], by=carol, description=PAYLOAD)
group, _ = cs.conversation_open(user=carol, usernames=["dan", "erin"], title=PAYLOAD)
cs.conversation_message_post(user=dan, conversation=group, body=PAYLOAD)
print(json.dumps({{
    "base": f"/projects/carol/{{project.path}}",
    "ticket": ticket.number, "key": ticket.key, "topic": topic.pk, "hook": hook.pk,
    "conversation": group.pk, "column": column.pk,
}}))
"""

# What records a Content-Security-Policy violation, before any of the page's own scripts run.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    live = LiveApp(tmp_path_factory.mktemp("live-xss"))
    live.start()
    try:
        live.seeded = json.loads(live.shell(SEED).strip().splitlines()[-1])  # type: ignore[attr-defined]
        yield live
    finally:
        live.stop()


class Watched:
    """A signed-in page that records every dialog, CSP violation, CSP console error and page error."""

    def __init__(self, browser: Any, app: LiveApp, username: str) -> None:
        self.context = browser.new_context(base_url=app.url, viewport={"width": 1280, "height": 900})
        self.context.add_init_script(WATCH_CSP)
        self.page = self.context.new_page()
        self.page.set_default_timeout(10_000)
        self.dialogs: list[tuple[str, str]] = []
        self.problems: list[str] = []
        self.accept_next = False
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("console", self._console)
        self.page.goto("/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{app.url}/")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append((dialog.type, dialog.message))
        if dialog.type == "confirm" and self.accept_next:
            self.accept_next = False
            dialog.accept()
        else:
            dialog.dismiss()

    def _console(self, message: Any) -> None:
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or "Refused to" in text):
            self.problems.append(f"console: {text}")

    def visit(self, url: str) -> None:
        response = self.page.goto(url)
        assert response is not None and response.status == 200, url
        self.page.wait_for_timeout(150)  # htmx's start-up runs after load
        self.check(url)

    def check(self, where: str) -> None:
        flag = self.page.evaluate("typeof window.__xss === 'undefined' ? null : String(window.__xss)")
        assert flag is None, f"payload ran on {where}: __xss={flag}"
        violations = self.page.evaluate("window.__cspViolations || []")
        assert violations == [], f"CSP violations on {where}: {violations}"
        assert self.problems == [], where
        assert [kind for kind, _ in self.dialogs if kind != "confirm"] == [], f"{where}: {self.dialogs}"


@pytest.fixture
def owner(browser: Any, app: LiveApp) -> Iterator[Watched]:
    watched = Watched(browser, app, "carol")
    yield watched
    watched.context.close()


def test_payload_names_stay_text_on_every_page(owner: Watched, app: LiveApp):
    seeded = app.seeded  # type: ignore[attr-defined]
    base, number = seeded["base"], seeded["ticket"]
    pages = [
        "/",
        "/projects/",
        "/settings/",
        "/messages/",
        f"/messages/{seeded['conversation']}",
        f"{base}/",
        f"{base}/?label={SHORT}",
        f"{base}/backlog",
        f"{base}/chat",
        f"{base}/topics/{seeded['topic']}",
        f"{base}/settings",
        f"{base}/settings/hooks/{seeded['hook']}",
        f"{base}/tickets/{number}",
        f"{base}/tickets/new",
    ]
    for url in pages:
        owner.visit(url)
    # The names really are on the pages, as text.
    owner.visit(f"{base}/settings")
    page = owner.page
    column_name = page.locator(f"#column tr[data-column='{seeded['column']}'] input[name=name]")
    assert column_name.input_value() == PAYLOAD
    assert page.locator("#label .label").first.inner_text() == SHORT
    assert PAYLOAD in page.locator("#chat").inner_text()
    owner.visit(f"{base}/backlog")
    assert PAYLOAD in page.locator("main").inner_text()
    assert owner.dialogs == []


def test_confirms_quote_the_names_literally(owner: Watched, app: LiveApp):
    seeded = app.seeded  # type: ignore[attr-defined]
    base = seeded["base"]
    page = owner.page
    owner.visit(f"{base}/settings")
    column_row = page.locator(f"#column tr[data-column='{seeded['column']}']")
    column_row.get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Archive project").click()
    page.locator("#hook").get_by_role("button", name="Delete").click()
    owner.check("settings after the confirms")
    assert owner.dialogs == [
        ("confirm", f"Delete column {PAYLOAD}? Its cards move to the first other column."),
        ("confirm", f"Archive {PAYLOAD}?"),
        ("confirm", "Delete this webhook and its delivery log?"),
    ]
    # Dismissed: nothing was deleted or archived.
    assert page.url.endswith(f"{base}/settings")
    assert column_row.count() == 1

    # The ticket's own page and the board's modal both ask before deleting.
    owner.dialogs.clear()
    owner.visit(f"{base}/tickets/{seeded['ticket']}")
    page.get_by_role("button", name="Delete ticket").click()
    page.locator("#timeline li", has_text="x'+alert").get_by_role("button", name="Delete").click()
    owner.visit(f"{base}/topics/{seeded['topic']}")
    page.get_by_role("button", name="Delete topic").click()
    owner.visit(f"{base}/")
    page.locator("#board a.title").first.click()
    page.locator("#modal:not([hidden]) [data-modal-body] h1").wait_for()
    owner.check("ticket modal")
    page.locator("#modal").get_by_role("button", name="Delete ticket").click()
    owner.check("ticket modal after the confirm")
    key = seeded["key"]
    assert owner.dialogs == [
        ("confirm", f"Delete {key}?"),
        ("confirm", "Delete this comment?"),
        ("confirm", "Delete this topic and its replies?"),
        ("confirm", f"Delete {key}?"),
    ]


def test_behaviour_moved_out_of_inline_handlers_still_works(owner: Watched, app: LiveApp):
    """Enter sends a chat message, htmx forms empty themselves, selects submit on change."""
    seeded = app.seeded  # type: ignore[attr-defined]
    base = seeded["base"]
    page = owner.page
    owner.visit(f"{base}/chat")
    page.fill("#chat-body", "Sent with Enter")
    page.press("#chat-body", "Enter")
    page.locator("#chat-log .markdown p", has_text="Sent with Enter").wait_for()
    assert page.input_value("#chat-body") == ""

    owner.visit(f"{base}/")
    quick = page.locator("form.quick-add input[name=title]").first
    quick.fill("Quick one")
    quick.press("Enter")
    page.locator("#board a.title", has_text="Quick one").wait_for()
    assert quick.input_value() == ""

    owner.visit(f"{base}/tickets/{seeded['ticket']}")
    with page.expect_response(lambda response: response.url.endswith("/move")):
        page.select_option("#move-column", label="Done")
    page.wait_for_load_state()
    owner.visit(f"{base}/tickets/{seeded['ticket']}")
    assert page.locator("#move-column option:checked").inner_text() == "Done"

    owner.visit(f"{base}/settings")
    page.select_option("select[aria-label='Role of dan']", "admin")
    page.wait_for_load_state()
    page.locator("select[aria-label='Role of dan'] option[value=admin][selected]").wait_for(state="attached")

    owner.visit(f"{base}/settings/hooks/{seeded['hook']}")
    page.select_option("#delivery-status", index=1)
    page.wait_for_url("**status=*")
    owner.check("after the moved behaviours")
    assert owner.dialogs == []


def test_an_accepted_confirm_submits(owner: Watched, app: LiveApp):
    seeded = app.seeded  # type: ignore[attr-defined]
    page = owner.page
    owner.visit(f"{seeded['base']}/settings")
    owner.accept_next = True
    page.get_by_role("button", name="Archive project").click()
    page.locator("#archived").wait_for()
    owner.check("board after archiving")
    assert owner.dialogs == [("confirm", f"Archive {PAYLOAD}?")]
    assert PAYLOAD in page.title()


@pytest.mark.parametrize(("url", "ready"), [("/swagger/", ".swagger-ui .info .title"), ("/redoc/", ".api-content h1")])
def test_api_docs_run_under_the_policy(browser: Any, app: LiveApp, url: str, ready: str):
    context = browser.new_context(base_url=app.url)
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda m: m.type == "error" and "Content Security Policy" in m.text and problems.append(m.text))
    try:
        page.goto(url)
        page.locator(ready).first.wait_for(timeout=30_000)
        page.wait_for_timeout(500)
        # ReDoc's bundle shows its maker's logo from their CDN: the policy keeps that visit from
        # leaking (PUNT serves every asset itself). Nothing of our own may be refused.
        violations = page.evaluate("window.__cspViolations")
        assert [v for v in violations if not v.startswith("img-src https://cdn.redoc.ly/")] == []
        assert [p for p in problems if "cdn.redoc.ly" not in p] == []
    finally:
        context.close()
