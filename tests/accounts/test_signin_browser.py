"""Company sign-in in a real Chromium: the button's POST is answered with a redirect to the
provider, which Chrome checks against the page's CSP form-action. A self-hosted GitLab on a
loopback port stands in for the provider (allauth sends the browser to <GITLAB_URL>/oauth/authorize)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.web.live import CHROMIUM, LiveApp, chromium, free_port, serve

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing: apt-get install chromium"),
]


class FakeGitLab(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:
        FakeGitLab.seen.append(self.path)
        body = b"<!doctype html><title>Fake GitLab</title><h1>Authorize PUNT?</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def gitlab() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), FakeGitLab)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, gitlab: str) -> Iterator[LiveApp]:
    os.environ.update(
        PUNT_GITLAB_URL=gitlab, PUNT_GITLAB_CLIENT_ID="punt-client", PUNT_GITLAB_CLIENT_SECRET="punt-secret"
    )
    try:
        yield from serve(tmp_path_factory, "live-signin", 'print("seeded")')
    finally:
        for name in ("PUNT_GITLAB_URL", "PUNT_GITLAB_CLIENT_ID", "PUNT_GITLAB_CLIENT_SECRET"):
            os.environ.pop(name, None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from chromium()


def test_the_sign_in_button_reaches_the_provider_under_the_csp(browser, app: LiveApp, gitlab: str):
    context = browser.new_context(base_url=app.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security" in message.text else None)
    page.goto("/login/")
    page.get_by_role("button", name="Sign in with GitLab").click()
    page.wait_for_url(f"{gitlab}/oauth/authorize**")
    assert page.title() == "Fake GitLab"
    query = parse_qs(urlsplit(page.url).query)
    assert query["client_id"] == ["punt-client"]
    assert query["redirect_uri"] == [f"{app.url}/accounts/gitlab/login/callback/"]
    assert violations == []
    context.close()
