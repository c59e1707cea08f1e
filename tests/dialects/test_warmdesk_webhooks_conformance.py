"""seed 004 (WarmDesk, /api/v1/) replayed as its own client would, following only the document:
the CI Ticket API's examples, the generic chat webhook ("Post any JSON payload to push a
message") and git platform webhooks registered in the git host by their URL alone."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts import services as account_services
from tests.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

# The document's `myproject` holds `MYPROJ-99`; here the slug is the lowercased key.
BASE = "/api/v1/projects/myproj"


@pytest.fixture
def alice():
    return UserFactory(username="alice")


@pytest.fixture
def project(alice):
    # The document's project, on a new board (To Do, In Progress, Done).
    return ProjectFactory(owner_user=alice, name="My Project", key="MYPROJ")


@pytest.fixture
def ci(alice, project) -> APIClient:
    """`-H "X-API-Key: wd_abc123..."`: a personal API key, as Settings → API Keys makes."""
    _key, raw = account_services.api_key_create(user=alice, name="ci", scopes=[])
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    return client


# --------------------------------------------------------------------------- Ticket API


def test_ticket_api_create_example_as_written(ci):
    response = ci.post(
        f"{BASE}/ticket",
        {
            "title": "Security scan found CVE-2026-1234",
            "description": "**Severity:** High\n\nFound in dependency `foo@1.2.3`.",
            "priority": "high",
            "column_name": "Backlog",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    card = response.json()
    assert (card["key"], card["priority"], card["status"]) == ("MYPROJ-1", "high", "backlog")
    columns = ci.get(f"{BASE}/columns").json()
    columns = columns["results"] if isinstance(columns, dict) else columns
    assert "Backlog" in [column["name"] for column in columns]


def test_ticket_api_move_and_comment_example_as_written(ci):
    ci.post(f"{BASE}/ticket", {"title": "Deploy", "column_name": "Backlog"}, format="json")
    response = ci.patch(
        f"{BASE}/ticket/MYPROJ-1",
        {"column_name": "Done", "comment": "Deployment to production succeeded. Build #4242."},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "done"
    comments = ci.get(f"{BASE}/cards/MYPROJ-1/comments").json()
    comments = comments["results"] if isinstance(comments, dict) else comments
    assert [comment["body"] for comment in comments] == ["Deployment to production succeeded. Build #4242."]


@pytest.mark.parametrize("column_name", ["to do", "TODO", "In_Progress", "in-review", "DONE", "backlog"])
def test_ticket_api_column_names_by_category(ci, column_name):
    response = ci.post(f"{BASE}/ticket", {"title": "From CI", "column_name": column_name}, format="json")
    assert response.status_code == 201, response.content
    expected = column_name.lower().replace(" ", "").replace("-", "").replace("_", "")
    assert response.json()["status"].replace("_", "") == expected


def test_ticket_api_unknown_column_is_400_naming_the_columns(ci):
    response = ci.post(f"{BASE}/ticket", {"title": "From CI", "column_name": "Icebox"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert isinstance(body["error"], str)
    assert body["details"] == [
        {"field": "column_name", "message": "Unknown column 'Icebox'. Columns: To Do, In Progress, Done."}
    ]


# --------------------------------------------------------------------------- generic webhook


@pytest.fixture
def chat_webhook_url(alice, project) -> str:
    """The token "is generated in Project Settings → Webhooks" (here through its API)."""
    client = APIClient()
    client.force_authenticate(alice)
    response = client.post(f"{BASE}/chat-webhooks", {"name": "CI"}, format="json")
    assert response.status_code == 201, response.content
    return f"/api/v1/webhooks/{response.json()['token']}"


def curl(url: str, data: bytes | str) -> object:
    return Client().post(url, data=data, content_type="application/json")


def test_generic_webhook_example_as_written(alice, chat_webhook_url):
    response = curl(chat_webhook_url, '{"text":"Deployment to staging succeeded 🚀","username":"CI"}')
    assert response.status_code == 201, response.content
    client = APIClient()
    client.force_authenticate(alice)
    [message] = client.get(f"{BASE}/chat/messages").json()["results"]
    assert message["body"] == "Deployment to staging succeeded 🚀"
    assert (message["author"], message["author_name"], message["bot"]) == (None, "CI", True)


@pytest.mark.parametrize(
    "payload",
    [
        '{"event":"deploy","status":"succeeded","environment":"staging"}',
        '{"build":{"id":4242,"result":"green"}}',
        "[1, 2, 3]",
        '"plain words"',
        "7",
        "{}",
    ],
)
def test_generic_webhook_takes_any_json(alice, chat_webhook_url, payload):
    response = curl(chat_webhook_url, payload)
    assert response.status_code == 201, response.content
    client = APIClient()
    client.force_authenticate(alice)
    [message] = client.get(f"{BASE}/chat/messages").json()["results"]
    assert message["body"].strip() and message["author_name"] == "CI"


def test_generic_webhook_refuses_what_is_not_json_in_the_error_shape(chat_webhook_url):
    response = curl(chat_webhook_url, b"deployment done")
    assert response.status_code == 400
    assert response.json() == {"error": "The body is not valid JSON."}


# --------------------------------------------------------------------------- git platform webhooks


@pytest.fixture
def register(alice, project):
    """Create a hook in PUNT without a secret; the git host is given its URL only."""

    def make(provider: str) -> str:
        client = APIClient()
        client.force_authenticate(alice)
        response = client.post(f"{BASE}/git-hooks", {"provider": provider, "secret": None}, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["signed"] is False
        return urlsplit(response.json()["url"]).path

    return make


def deliver(path: str, headers: dict[str, str], payload: dict) -> object:
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    return Client().post(path, data=json.dumps(payload), content_type="application/json", **extra)


def links(alice, key: str) -> list[tuple[str, str]]:
    client = APIClient()
    client.force_authenticate(alice)
    response = client.get(f"{BASE}/cards/{key}/links")
    assert response.status_code == 200, response.content
    return sorted((link["kind"], link["provider"]) for link in response.json())


REPO = {"html_url": "https://git.example.com/acme/shop", "default_branch": "main"}
GITLAB_PROJECT = {"web_url": "https://gitlab.example.com/acme/shop", "default_branch": "main"}


def github_deliveries() -> list[tuple[dict[str, str], dict]]:
    return [
        (
            {"X-GitHub-Event": "push", "X-GitHub-Delivery": "d1"},
            {
                "ref": "refs/heads/feature",
                "repository": REPO,
                "commits": [{"id": "abc123", "message": "MYPROJ-1 start", "url": f"{REPO['html_url']}/commit/abc123"}],
            },
        ),
        (
            {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "d2"},
            {
                "action": "opened",
                "number": 5,
                "pull_request": {"number": 5, "title": "MYPROJ-1 fix", "html_url": f"{REPO['html_url']}/pull/5"},
                "repository": REPO,
            },
        ),
        (
            {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "d3"},
            {
                "action": "opened",
                "issue": {
                    "number": 9,
                    "title": "Crash",
                    "body": "See MYPROJ-1",
                    "html_url": f"{REPO['html_url']}/issues/9",
                },
                "repository": REPO,
            },
        ),
    ]


def gitlab_deliveries() -> list[tuple[dict[str, str], dict]]:
    return [
        (
            {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Event-UUID": "g1"},
            {
                "object_kind": "push",
                "ref": "refs/heads/feature",
                "project": GITLAB_PROJECT,
                "commits": [
                    {"id": "def456", "message": "MYPROJ-1 start", "url": f"{GITLAB_PROJECT['web_url']}/-/commit/def456"}
                ],
            },
        ),
        (
            {"X-Gitlab-Event": "Merge Request Hook", "X-Gitlab-Event-UUID": "g2"},
            {
                "object_kind": "merge_request",
                "project": GITLAB_PROJECT,
                "object_attributes": {
                    "iid": 3,
                    "title": "MYPROJ-1 fix",
                    "state": "opened",
                    "url": f"{GITLAB_PROJECT['web_url']}/-/merge_requests/3",
                },
            },
        ),
        (
            {"X-Gitlab-Event": "Issue Hook", "X-Gitlab-Event-UUID": "g3"},
            {
                "object_kind": "issue",
                "project": GITLAB_PROJECT,
                "object_attributes": {
                    "iid": 8,
                    "title": "Crash",
                    "description": "See MYPROJ-1",
                    "state": "opened",
                    "url": f"{GITLAB_PROJECT['web_url']}/-/issues/8",
                },
            },
        ),
    ]


def gitea_deliveries() -> list[tuple[dict[str, str], dict]]:
    return [
        ({"X-Gitea-Event": headers["X-GitHub-Event"], "X-Gitea-Delivery": headers["X-GitHub-Delivery"]}, payload)
        for headers, payload in github_deliveries()
    ]


@pytest.mark.parametrize(
    ("provider", "deliveries"),
    [("github", github_deliveries), ("gitlab", gitlab_deliveries), ("gitea", gitea_deliveries)],
)
def test_git_host_push_pr_and_issue_events_link_cards_with_the_url_alone(alice, ci, register, provider, deliveries):
    assert ci.post(f"{BASE}/ticket", {"title": "Checkout breaks"}, format="json").status_code == 201
    path = register(provider)
    for headers, payload in deliveries():
        response = deliver(path, headers, payload)
        assert response.status_code == 200, (headers, response.content)
        # A redelivery changes nothing.
        assert deliver(path, headers, payload).json()["duplicate"] is True
    kinds = ["commit", "issue", "pull_request"]
    assert links(alice, "MYPROJ-1") == sorted((kind, provider) for kind in kinds)


def test_a_git_hook_with_a_secret_still_needs_the_signature(alice, project, ci):
    client = APIClient()
    client.force_authenticate(alice)
    hook = client.post(f"{BASE}/git-hooks", {"provider": "github"}, format="json").json()
    assert hook["signed"] is True and hook["secret"]
    headers, payload = github_deliveries()[0]
    path = urlsplit(hook["url"]).path
    response = deliver(path, headers, payload)
    assert response.status_code == 401
    assert response.json() == {"error": "Missing or invalid webhook signature."}
