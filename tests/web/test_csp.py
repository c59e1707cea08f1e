"""Content-Security-Policy on every HTML page, and no inline script anywhere (issue 16, item 3).

The policy is what keeps the next escaping mistake from running: scripts only from our own
files (or a response's nonce), never 'unsafe-inline'. The rendered pages (ours, the login
pages, Django's admin, the API docs) and the templates themselves carry no inline script and
no on*= handler, so the policy costs nothing to the pages that follow it.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from chat import services as chat_services
from tests.conftest import Personas
from tests.factories import TicketFactory
from tests.web.conftest import page_client
from webhooks import services as hook_services

pytestmark = pytest.mark.django_db

BASE = "/projects/olivia/blog"
TEMPLATE_DIRS = [Path(settings.BASE_DIR) / "templates", Path(settings.BASE_DIR) / "web"]
# An on*= attribute inside a tag (onclick=, onsubmit=, ...), with or without quotes.
INLINE_HANDLER_RE = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE | re.DOTALL)


def directives(header: str) -> dict[str, list[str]]:
    policy: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            policy[words[0]] = words[1:]
    return policy


class InlineCode(HTMLParser):
    """Collects what a strict policy refuses: script elements without src, and on*= attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        for name, _ in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
        # JSON data blocks are not executed, so the policy allows them.
        if tag == "script" and "src" not in names and names.get("type") != "application/json":
            self.found.append("<script> without src")


def assert_strict_page(response) -> None:
    assert response.status_code == 200, response
    assert response["Content-Type"].startswith("text/html")
    policy = directives(response["Content-Security-Policy"])
    assert "'self'" in policy["script-src"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    parser = InlineCode()
    parser.feed(response.content.decode())
    assert parser.found == [], response.wsgi_request.path


@pytest.fixture
def pages(personas: Personas) -> list[str]:
    project = personas.project
    ticket = TicketFactory(project=project, title="A ticket")
    topic = chat_services.topic_create(user=personas.owner, project=project, title="A topic", body="Hello")
    chat_services.message_post(user=personas.owner, project=project, body="Hi")
    hook = hook_services.hook_create(project=project, url="https://example.com/hook", events=["*"], by=personas.owner)
    conversation, _ = chat_services.conversation_open(user=personas.owner, usernames=["mary"])
    return [
        "/",
        "/projects/",
        "/settings/",
        "/messages/",
        f"/messages/{conversation.pk}",
        f"{BASE}/",
        f"{BASE}/backlog",
        f"{BASE}/chat",
        f"{BASE}/topics/{topic.pk}",
        f"{BASE}/settings",
        f"{BASE}/settings/hooks/{hook.pk}",
        f"{BASE}/tickets/{ticket.number}",
        f"{BASE}/tickets/new",
    ]


def test_every_project_page_has_a_strict_policy_and_no_inline_script(personas: Personas, pages: list[str]):
    client = page_client(personas, "owner")
    for url in pages:
        assert_strict_page(client.get(url))


@pytest.mark.parametrize("url", ["/login/", "/register/", "/forgot-password"])
def test_sign_in_pages_have_a_strict_policy(db, url: str):
    assert_strict_page(Client().get(url))


def test_not_found_page_has_the_policy(personas: Personas):
    response = page_client(personas, "owner").get("/projects/nobody/nothing/")
    assert response.status_code == 404
    assert "'unsafe-inline'" not in directives(response["Content-Security-Policy"])["script-src"]


@pytest.mark.parametrize(
    "url", ["/admin/", "/admin/projects/project/", "/admin/accounts/user/", "/admin/accounts/user/add/"]
)
def test_admin_pages_have_a_strict_policy(personas: Personas, url: str):
    personas.owner.is_staff = personas.owner.is_superuser = True
    personas.owner.save()
    assert_strict_page(page_client(personas, "owner").get(url))


def test_admin_change_form_has_a_strict_policy(personas: Personas):
    personas.owner.is_staff = personas.owner.is_superuser = True
    personas.owner.save()
    client = page_client(personas, "owner")
    assert_strict_page(client.get(f"/admin/projects/project/{personas.project.pk}/change/"))


@pytest.mark.parametrize("url", ["/swagger/", "/swagger/index.html", "/redoc/"])
def test_api_docs_have_a_strict_script_policy(db, url: str):
    response = Client().get(url)
    assert_strict_page(response)


def test_swagger_start_up_script_is_a_file_of_our_own(db):
    page = Client().get("/swagger/").content.decode()
    script_url = re.search(r'<script src="(/swagger/[^"]*script[^"]*)"', page)
    assert script_url, page
    response = Client().get(script_url.group(1).replace("&amp;", "&"))
    assert response.status_code == 200
    assert "SwaggerUIBundle" in response.content.decode()


def test_api_responses_carry_the_policy_too(personas: Personas):
    response = personas.client("owner").get("/api/v1/projects")
    assert response.status_code == 200
    assert "'unsafe-inline'" not in directives(response["Content-Security-Policy"])["script-src"]


def test_no_template_has_an_inline_handler_or_inline_script():
    offenders = []
    for folder in TEMPLATE_DIRS:
        for path in folder.rglob("*.html"):
            text = path.read_text()
            if INLINE_HANDLER_RE.search(text) or re.search(r"\shx-on[:-]", text):
                offenders.append(f"{path.name}: inline handler")
            for script in re.findall(r"<script\b[^>]*>", text):
                if "src=" not in script and 'type="application/json"' not in script:
                    offenders.append(f"{path.name}: inline <script>")
    assert offenders == []
