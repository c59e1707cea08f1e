"""Git host webhooks: management, signatures, redelivery, and what real payloads do to tickets."""

from __future__ import annotations

import copy
import json
from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.factories import ProjectFactory, TicketFactory
from tests.webhooks.conftest import hmac_hex, load_fixture
from tickets.models import Event, GitLink, Ticket
from webhooks.models import GitDelivery, GitHook

HOOKS = "/api/v1/projects/blog/git-hooks"


def make_hook(personas, provider: str = "github", **options) -> dict:
    response = personas.client("admin").post(HOOKS, {"provider": provider, **options}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def path_of(hook: dict) -> str:
    return urlsplit(hook["url"]).path


def post_github(hook: dict, payload: dict, *, event: str, delivery: str = "gh-1", signature: str | None = None):
    body = json.dumps(payload).encode()
    headers = {"HTTP_X_GITHUB_EVENT": event, "HTTP_X_GITHUB_DELIVERY": delivery}
    if signature is None and hook["secret"]:
        signature = "sha256=" + hmac_hex(hook["secret"], body)
    if signature:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    return Client().post(path_of(hook), data=body, content_type="application/json", **headers)


def post_gitlab(hook: dict, payload: dict, *, event: str, delivery: str = "gl-1", token: str | None = None):
    headers = {"HTTP_X_GITLAB_EVENT": event, "HTTP_X_GITLAB_EVENT_UUID": delivery}
    token = token if token is not None else hook["secret"]
    if token:
        headers["HTTP_X_GITLAB_TOKEN"] = token
    return Client().post(path_of(hook), data=json.dumps(payload), content_type="application/json", **headers)


def post_gitea(hook: dict, payload: dict, *, event: str, delivery: str = "gt-1", signature: str | None = None):
    body = json.dumps(payload).encode()
    headers = {"HTTP_X_GITEA_EVENT": event, "HTTP_X_GITEA_DELIVERY": delivery}
    if signature is None and hook["secret"]:
        signature = hmac_hex(hook["secret"], body)
    if signature:
        headers["HTTP_X_GITEA_SIGNATURE"] = signature
    return Client().post(path_of(hook), data=body, content_type="application/json", **headers)


def github_push(message: str, *, branch: str = "master") -> dict:
    payload = copy.deepcopy(load_fixture("github/push-with-new-branch.payload.json"))
    payload["ref"] = f"refs/heads/{branch}"
    payload["commits"][0]["message"] = message
    payload["head_commit"]["message"] = message
    return payload


def github_pr(name: str, *, title: str, body: str = "", merged: bool | None = None) -> dict:
    payload = copy.deepcopy(load_fixture(f"github/{name}"))
    payload["pull_request"]["title"] = title
    payload["pull_request"]["body"] = body
    if merged is not None:
        payload["pull_request"]["merged"] = merged
    return payload


@pytest.fixture
def tickets(personas):
    return [TicketFactory(project=personas.project, title=f"Ticket {n}") for n in range(1, 4)]


# --------------------------------------------------------------------------- management


def test_git_hooks_role_matrix(personas):
    assert personas.matrix("get", HOOKS) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 403,
        "admin": 200,
        "owner": 200,
    }
    assert personas.matrix("post", HOOKS, {"provider": "gitlab"}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 403,
        "admin": 201,
        "owner": 201,
    }


def test_create_answers_token_secret_and_full_url_list_hides_secret(personas, settings):
    settings.SITE_URL = "https://punt.example.com"
    created = make_hook(personas, "github")
    assert created["provider"] == "github"
    assert len(created["secret"]) == 64
    assert created["url"] == f"https://punt.example.com/api/v1/github-webhook/{created['token']}"
    assert created["active"] is True
    assert created["created_by"]["username"] == "adam"

    listed = personas.client("admin").get(HOOKS).json()
    assert [hook["id"] for hook in listed] == [created["id"]]
    assert "secret" not in listed[0]
    assert listed[0]["url"] == created["url"]


def test_unknown_provider_is_400(personas):
    response = personas.client("admin").post(HOOKS, {"provider": "bitbucket"}, format="json")
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "provider"


def test_revoked_hook_answers_404_and_records_nothing(personas, tickets):
    hook = make_hook(personas)
    assert personas.client("member").delete(f"{HOOKS}/{hook['id']}").status_code == 403
    assert personas.client("admin").delete(f"{HOOKS}/{hook['id']}").status_code == 204
    assert personas.client("admin").get(f"{HOOKS}/{hook['id']}").json()["active"] is False
    response = post_github(hook, github_push("BLOG-1 work"), event="push")
    assert response.status_code == 404
    assert response.json() == {"error": "Not found."}
    assert not GitDelivery.objects.exists()


def test_unknown_token_and_other_hosts_url_are_404(personas):
    hook = make_hook(personas, "gitlab")
    assert Client().post("/api/v1/github-webhook/nope", data=b"{}", content_type="application/json").status_code == 404
    # A GitLab hook's token on the GitHub URL finds nothing.
    github_url = path_of(hook).replace("gitlab-webhook", "github-webhook")
    assert Client().post(github_url, data=b"{}", content_type="application/json").status_code == 404


# --------------------------------------------------------------------------- hooks without a secret


def test_create_without_a_secret_with_null_or_empty(personas):
    for secret in (None, ""):
        created = make_hook(personas, "github", secret=secret)
        assert created["secret"] is None
        assert created["signed"] is False
    listed = personas.client("admin").get(HOOKS).json()
    assert [hook["signed"] for hook in listed] == [False, False]
    assert not GitHook.objects.exclude(secret="").exists()


def test_create_with_own_secret_or_a_generated_one(personas):
    own = make_hook(personas, "gitlab", secret="my-gitlab-secret-token")
    assert (own["secret"], own["signed"]) == ("my-gitlab-secret-token", True)
    generated = make_hook(personas, "github")
    assert generated["signed"] is True and len(generated["secret"]) == 64
    for bad in ("short", "has spaces in the secret", "x" * 129):
        response = personas.client("admin").post(HOOKS, {"provider": "github", "secret": bad}, format="json")
        assert response.status_code == 400, bad
        assert response.json()["details"][0]["field"] == "secret"


def test_create_without_a_secret_role_matrix(personas):
    assert personas.matrix("post", HOOKS, {"provider": "gitea", "secret": None}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 403,
        "admin": 201,
        "owner": 201,
    }


@pytest.mark.parametrize(
    ("provider", "post", "event", "payload"),
    [
        ("github", post_github, "push", lambda: github_push("BLOG-1 start")),
        ("gitlab", post_gitlab, "Push Hook", lambda: load_fixture("gitlab/push.json")),
        ("gitea", post_gitea, "push", lambda: load_fixture("gitea/push.json")),
    ],
)
def test_hook_without_a_secret_takes_unsigned_deliveries(personas, tickets, provider, post, event, payload):
    hook = make_hook(personas, provider, secret=None)
    body = payload()
    if provider != "github":
        body["commits"][0]["message"] = "BLOG-1 start"
    response = post(hook, body, event=event)
    assert response.status_code == 200, response.content
    assert response.json()["delivery"]["outcome"] == "processed"
    assert GitLink.objects.filter(ticket=tickets[0], kind="commit").count() == 1


def test_hook_with_a_secret_still_refuses_unsigned_deliveries_next_to_one_without(personas, tickets):
    signed, unsigned = make_hook(personas), make_hook(personas, secret=None)
    payload = github_push("BLOG-1 start")
    assert post_github(signed, payload, event="push", delivery="s1", signature="").status_code == 401
    assert post_github(signed, payload, event="push", delivery="s2", signature="sha256=" + "0" * 64).status_code == 401
    assert not GitDelivery.objects.exists()
    assert post_github(unsigned, payload, event="push", delivery="u1").status_code == 200
    gitlab = make_hook(personas, "gitlab", secret="my-gitlab-secret-token")
    push = load_fixture("gitlab/push.json")
    assert post_gitlab(gitlab, push, event="Push Hook", delivery="g1", token="").status_code == 401
    assert post_gitlab(gitlab, push, event="Push Hook", delivery="g2").status_code == 200


def test_settings_page_creates_a_hook_without_a_secret_and_recommends_one(personas):
    from tests.web.conftest import page_client

    client = page_client(personas, "admin")
    url = "/projects/olivia/blog/settings"
    assert "a secret is recommended" in client.get(url).content.decode().lower()
    response = client.post(url, {"action": "git_hook_add", "provider": "gitlab", "unsigned": "1"}, follow=True)
    hook = GitHook.objects.get()
    assert (hook.provider, hook.secret, hook.signed) == ("gitlab", "", False)
    html = response.content.decode()
    assert hook.url in html
    assert "data-secret>" not in html
    assert "created without a secret" in html and "a secret is recommended" in html
    listing = client.get(url).content.decode()
    assert "data-unsigned-hook" in listing
    # The form without the box keeps the default: a generated secret.
    client.post(url, {"action": "git_hook_add", "provider": "github"})
    assert GitHook.objects.get(provider="github").signed is True


def test_admin_lists_whether_a_hook_is_signed(personas):
    from tests.factories import UserFactory
    from webhooks import services

    services.git_hook_create(project=personas.project, provider="github", by=personas.admin, signed=False)
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = client.get("/admin/webhooks/githook/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Secret (deliveries signed)" in html
    assert 'alt="False"' in html
    assert client.get("/admin/webhooks/githook/?secret__isempty=1").status_code == 200


# --------------------------------------------------------------------------- signatures


def test_github_signature_accepted_forged_and_missing_refused(personas, tickets):
    hook = make_hook(personas)
    payload = github_push("BLOG-1 start")
    forged = post_github(hook, payload, event="push", delivery="a", signature="sha256=" + "0" * 64)
    assert forged.status_code == 401
    assert forged.json() == {"error": "Missing or invalid webhook signature."}
    other_secret = post_github(
        hook, payload, event="push", delivery="b", signature="sha256=" + hmac_hex("not-the-secret", b"{}")
    )
    assert other_secret.status_code == 401
    assert post_github(hook, payload, event="push", delivery="c", signature="").status_code == 401
    assert not GitDelivery.objects.exists()
    assert not GitLink.objects.exists()

    assert post_github(hook, payload, event="push", delivery="d").status_code == 200
    assert GitLink.objects.count() == 1


def test_gitlab_token_accepted_wrong_and_missing_refused(personas, tickets):
    hook = make_hook(personas, "gitlab")
    payload = load_fixture("gitlab/push.json")
    payload["commits"][0]["message"] = "BLOG-1 translate"
    assert post_gitlab(hook, payload, event="Push Hook", token="wrong").status_code == 401
    assert post_gitlab(hook, payload, event="Push Hook", token="").status_code == 401
    assert not GitDelivery.objects.exists()
    assert post_gitlab(hook, payload, event="Push Hook").status_code == 200
    link = GitLink.objects.get()
    assert (link.kind, link.ref, link.provider) == ("commit", "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327", "gitlab")


def test_gitea_signature_accepted_forged_refused(personas, tickets):
    hook = make_hook(personas, "gitea")
    payload = load_fixture("gitea/push.json")
    payload["commits"][0]["message"] = "Webhooks Yay! BLOG-2"
    assert post_gitea(hook, payload, event="push", signature="deadbeef").status_code == 401
    assert post_gitea(hook, payload, event="push", signature="").status_code == 401
    assert not GitDelivery.objects.exists()
    assert post_gitea(hook, payload, event="push").status_code == 200
    link = GitLink.objects.get()
    assert link.ticket == tickets[1]
    assert link.url == "http://localhost:3000/gitea/webhooks/commit/bffeb74224043ba2feb48d137756c8a9331c449a"


def test_signature_covers_the_exact_body(personas, tickets):
    hook = make_hook(personas)
    body = json.dumps(github_push("BLOG-1")).encode()
    signature = "sha256=" + hmac_hex(hook["secret"], body)
    tampered = body.replace(b"BLOG-1", b"BLOG-2")
    response = Client().post(
        path_of(hook),
        data=tampered,
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="push",
        HTTP_X_HUB_SIGNATURE_256=signature,
    )
    assert response.status_code == 401


def test_body_over_the_limit_is_413(personas, settings):
    settings.PUNT_WEBHOOKS_MAX_BODY_BYTES = 2048
    hook = make_hook(personas)
    payload = github_push("x" * 4096)
    response = post_github(hook, payload, event="push")
    assert response.status_code == 413
    assert not GitDelivery.objects.exists()


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("push", {"ref": "refs/heads/master", "commits": "BLOG-1", "repository": "x"}),
        ("push", {"ref": "refs/heads/master", "commits": [1, None], "repository": {"html_url": "https://h/r"}}),
        ("pull_request", {"pull_request": "BLOG-1", "number": 3}),
        ("pull_request", {"pull_request": {"number": 1, "html_url": "https://h/p", "user": "x"}, "repository": {}}),
    ],
)
def test_signed_payload_of_the_wrong_shape_is_400_and_records_nothing(personas, tickets, counted, event, payload):
    hook = make_hook(personas)
    response = post_github(hook, payload, event=event, delivery="odd")
    assert response.status_code == 400, response.content
    assert "documented shape" in response.json()["error"]
    assert not GitDelivery.objects.exists()
    assert not GitLink.objects.exists()
    assert counted == [("github", "malformed")]


def test_nul_characters_are_dropped_not_a_500(personas, tickets):
    # JSON may carry \u0000; PostgreSQL text and jsonb columns may not.
    hook = make_hook(personas)
    payload = github_push("BLOG-1 fix\u0000 it", branch="master")
    payload["commits"][0]["author"]["name"] = "a\u0000b"
    response = post_github(hook, payload, event="push")
    assert response.status_code == 200, response.content
    link = GitLink.objects.get(kind="commit")
    assert link.title == "BLOG-1 fix it"


def test_json_nested_too_deep_is_400(personas):
    hook = make_hook(personas)
    body = b"[" * 100_000 + b"]" * 100_000
    response = Client().post(
        path_of(hook),
        data=body,
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="push",
        HTTP_X_HUB_SIGNATURE_256="sha256=" + hmac_hex(hook["secret"], body),
    )
    assert response.status_code == 400
    assert not GitDelivery.objects.exists()


def test_overlong_urls_are_not_linked(personas, tickets):
    hook = make_hook(personas)
    payload = github_push("BLOG-1 fix")
    payload["commits"][0]["url"] = "https://github.com/" + "a" * 600
    response = post_github(hook, payload, event="push")
    assert response.status_code == 200, response.content
    assert not GitLink.objects.filter(kind="commit").exists()


def test_receipts_are_counted_in_the_metrics(personas, tickets, counted):
    github, gitlab = make_hook(personas), make_hook(personas, "gitlab")
    post_github(github, github_push("BLOG-1"), event="push", delivery="m1", signature="sha256=" + "0" * 64)
    post_github(github, github_push("BLOG-1"), event="push", delivery="m1")
    post_github(github, github_push("BLOG-1"), event="push", delivery="m1")
    post_github(github, load_fixture("github/ping-payload.json"), event="ping", delivery="m2")
    post_github(github, {"action": "created"}, event="star", delivery="m3")
    Client().post(
        path_of(github),
        data=b"not json",
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=("sha256=" + hmac_hex(github["secret"], b"not json")),
    )
    post_gitlab(gitlab, load_fixture("gitlab/push.json"), event="Push Hook", token="wrong")
    assert counted == [
        ("github", "bad_signature"),
        ("github", "processed"),
        ("github", "duplicate"),
        ("github", "ping"),
        ("github", "ignored"),
        ("github", "malformed"),
        ("gitlab", "bad_signature"),
    ]


# --------------------------------------------------------------------------- events


def test_ping_answers_200_and_is_recorded(personas):
    hook = make_hook(personas)
    response = post_github(hook, load_fixture("github/ping-payload.json"), event="ping", delivery="ping-1")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True and body["duplicate"] is False
    assert body["delivery"]["outcome"] == "ping"
    assert personas.client("admin").get(f"{HOOKS}/{hook['id']}").json()["last_delivery_at"] is not None


def test_unknown_event_answers_202_and_is_logged(personas, caplog):
    hook = make_hook(personas)
    with caplog.at_level("INFO", logger="punt.webhooks"):
        response = post_github(hook, {"action": "created"}, event="star", delivery="star-1")
    assert response.status_code == 202
    assert response.json()["delivery"]["outcome"] == "ignored"
    assert GitDelivery.objects.get().event == "star"
    assert "Ignored github event 'star'" in caplog.text


def test_push_links_commit_writes_timeline_and_card_updated(personas, tickets, published):
    hook = make_hook(personas)
    payload = github_push("BLOG-1: add the README\n\nAlso touches BLOG-3.", branch="feature")
    response = post_github(hook, payload, event="push")
    assert response.status_code == 200
    sha = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
    links = {(link.ticket.key, link.kind, link.ref) for link in GitLink.objects.select_related("ticket__project")}
    assert links == {("BLOG-1", "commit", sha), ("BLOG-3", "commit", sha)}
    link = GitLink.objects.get(ticket=tickets[0])
    assert link.url == f"https://github.com/Codertocat/Hello-World/commit/{sha}"
    assert link.title == "BLOG-1: add the README"
    assert link.provider == "github"
    assert link.state == "pushed"
    event = Event.objects.get(ticket=tickets[0], kind="action", text="link")
    assert event.data["link"]["url"] == link.url
    assert ("board.card_updated", personas.project.pk) in {(name, pid) for name, _payload, pid in published}
    # Not on the default branch: "BLOG-1:" is a reference, not a fix.
    tickets[0].refresh_from_db()
    assert tickets[0].state == Ticket.State.OPENED
    summary = response.json()["delivery"]["summary"]
    assert {item["ticket"] for item in summary["links"]} == {"BLOG-1", "BLOG-3"}
    assert summary["closed"] == []


def test_branch_name_links_the_branch(personas, tickets):
    hook = make_hook(personas)
    payload = github_push("Initial commit", branch="feature/blog-2-dark-mode")
    assert post_github(hook, payload, event="push").status_code == 200
    link = GitLink.objects.get()
    assert (link.ticket, link.kind, link.ref) == (tickets[1], "branch", "feature/blog-2-dark-mode")
    assert link.url == "https://github.com/Codertocat/Hello-World/tree/feature/blog-2-dark-mode"


def test_fixes_on_default_branch_push_closes(personas, tickets):
    hook = make_hook(personas)
    payload = github_push("Fixes BLOG-1 and refs BLOG-2", branch="master")
    response = post_github(hook, payload, event="push")
    assert response.status_code == 200
    assert response.json()["delivery"]["summary"]["closed"] == ["BLOG-1"]
    first, second = (Ticket.objects.select_related("column").get(pk=t.pk) for t in tickets[:2])
    assert (first.state, first.column.category) == ("closed", "done")
    assert first.closed_at is not None
    assert second.state == "opened"
    assert Event.objects.filter(ticket=first, kind="action", text="close").count() == 1


def test_fixes_close_even_past_the_done_columns_wip_limit(personas, tickets):
    done = personas.project.columns.get(category="done")
    done.wip_limit = 1
    done.save(update_fields=["wip_limit"])
    TicketFactory(project=personas.project, column=done)
    hook = make_hook(personas)
    response = post_github(hook, github_push("Fixes BLOG-1", branch="master"), event="push")
    assert response.status_code == 200, response.content
    tickets[0].refresh_from_db()
    assert (tickets[0].state, tickets[0].column_id) == ("closed", done.pk)
    assert response.json()["delivery"]["summary"]["closed"] == ["BLOG-1"]


def test_fixes_on_another_branch_only_links(personas, tickets):
    hook = make_hook(personas)
    assert post_github(hook, github_push("fixes BLOG-1", branch="wip"), event="push").status_code == 200
    tickets[0].refresh_from_db()
    assert tickets[0].state == "opened"
    assert GitLink.objects.filter(ticket=tickets[0], kind="commit").exists()


def test_commit_author_matched_by_email_is_the_actor(personas, tickets):
    personas.member.email = "21031067+Codertocat@users.noreply.github.com"
    personas.member.save(update_fields=["email"])
    hook = make_hook(personas)
    assert post_github(hook, github_push("closes BLOG-1"), event="push").status_code == 200
    link = GitLink.objects.get()
    assert link.created_by == personas.member
    ticket = Ticket.objects.get(pk=tickets[0].pk)
    assert ticket.closed_by == personas.member


def test_redelivery_changes_nothing_a_second_time(personas, tickets, published):
    hook = make_hook(personas)
    payload = github_push("Fixes BLOG-1")
    first = post_github(hook, payload, event="push", delivery="same-id")
    assert first.status_code == 200 and first.json()["duplicate"] is False
    events_after_first = Event.objects.count()
    # The ticket is reopened by hand; a redelivery must not close it again.
    reopened = personas.client("member").patch(
        "/api/v1/projects/blog/ticket/BLOG-1", {"column_name": "To Do"}, format="json"
    )
    assert reopened.json()["state"] == "opened"
    events_after_reopen = Event.objects.count()
    assert events_after_reopen > events_after_first
    published_before = len(published)

    again = post_github(hook, payload, event="push", delivery="same-id")
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["delivery"]["id"] == first.json()["delivery"]["id"]
    assert Event.objects.count() == events_after_reopen
    assert GitDelivery.objects.count() == 1
    assert GitLink.objects.count() == 1
    assert Ticket.objects.get(pk=tickets[0].pk).state == "opened"
    assert published[published_before:] == []


def test_references_to_other_projects_and_missing_tickets_are_ignored(personas, tickets):
    other = ProjectFactory(key="OTHER", owner_user=personas.owner)
    other_ticket = TicketFactory(project=other)
    hook = make_hook(personas)
    payload = github_push("Fixes OTHER-1, touches BLOG-99 and BLOGX-1", branch="master")
    assert post_github(hook, payload, event="push").status_code == 200
    assert not GitLink.objects.exists()
    other_ticket.refresh_from_db()
    assert other_ticket.state == "opened"


def test_deleted_tag_push_links_nothing(personas, tickets):
    hook = make_hook(personas)
    payload = load_fixture("github/push-payload.json")  # refs/tags/simple-tag, deleted
    response = post_github(hook, payload, event="push")
    assert response.status_code == 200
    assert response.json()["delivery"]["outcome"] == "processed"
    assert not GitLink.objects.exists()


def test_pull_request_opened_then_merged_closes(personas, tickets):
    hook = make_hook(personas)
    opened = github_pr("pull_request-opened.payload.json", title="BLOG-2 Update the README", body="Fixes BLOG-2")
    assert post_github(hook, opened, event="pull_request", delivery="pr-open").status_code == 200
    link = GitLink.objects.get()
    assert (link.ticket, link.kind, link.ref, link.state) == (tickets[1], "pull_request", "2", "open")
    assert link.url == "https://github.com/Codertocat/Hello-World/pull/2"
    assert link.title == "BLOG-2 Update the README"
    assert Ticket.objects.get(pk=tickets[1].pk).state == "opened"  # not merged yet

    merged = github_pr(
        "pull_request-closed.payload.json", title="BLOG-2 Update the README", body="Fixes BLOG-2", merged=True
    )
    assert post_github(hook, merged, event="pull_request", delivery="pr-merged").status_code == 200
    link.refresh_from_db()
    assert link.state == "merged"
    assert GitLink.objects.count() == 1
    assert Event.objects.filter(ticket=tickets[1], kind="action", text="link").count() == 1
    ticket = Ticket.objects.select_related("column").get(pk=tickets[1].pk)
    assert (ticket.state, ticket.column.category) == ("closed", "done")


def test_pull_request_closed_without_merge_does_not_close(personas, tickets):
    hook = make_hook(personas)
    closed = github_pr("pull_request-closed.payload.json", title="Resolves BLOG-1", merged=False)
    assert post_github(hook, closed, event="pull_request").status_code == 200
    assert GitLink.objects.get().state == "closed"
    assert Ticket.objects.get(pk=tickets[0].pk).state == "opened"


def test_pull_request_with_null_body(personas, tickets):
    hook = make_hook(personas)
    payload = copy.deepcopy(load_fixture("github/pull_request-opened.with-null-body.json"))
    payload["pull_request"]["title"] = "BLOG-3 something"
    assert post_github(hook, payload, event="pull_request").status_code == 200
    assert GitLink.objects.get().ticket == tickets[2]


def test_github_form_encoded_payload(personas, tickets):
    from urllib.parse import urlencode

    hook = make_hook(personas)
    body = urlencode({"payload": json.dumps(github_push("BLOG-1"))}).encode()
    response = Client().post(
        path_of(hook),
        data=body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_GITHUB_EVENT="push",
        HTTP_X_GITHUB_DELIVERY="form-1",
        HTTP_X_HUB_SIGNATURE_256="sha256=" + hmac_hex(hook["secret"], body),
    )
    assert response.status_code == 200
    assert GitLink.objects.count() == 1


def test_gitlab_merge_request_merged_closes_and_redelivery_is_idempotent(personas, tickets):
    hook = make_hook(personas, "gitlab")
    payload = load_fixture("gitlab/merge_request.json")
    payload["object_attributes"].update(
        {"title": "Resolve BLOG-3 viewport", "description": "Closes BLOG-3", "state": "merged", "action": "merge"}
    )
    first = post_gitlab(hook, payload, event="Merge Request Hook", delivery="mr-uuid")
    assert first.status_code == 200
    link = GitLink.objects.get()
    assert (link.ticket, link.kind, link.ref, link.state) == (tickets[2], "pull_request", "1", "merged")
    assert link.url == "http://example.com/diaspora/merge_requests/1"
    assert Ticket.objects.get(pk=tickets[2].pk).state == "closed"
    again = post_gitlab(hook, payload, event="Merge Request Hook", delivery="mr-uuid")
    assert again.json()["duplicate"] is True
    assert GitDelivery.objects.count() == 1


def test_gitlab_push_to_default_branch_closes_and_tag_links(personas, tickets):
    hook = make_hook(personas, "gitlab")
    push = load_fixture("gitlab/push.json")
    push["commits"][1]["message"] = "fixed readme, fixes BLOG-1"
    assert post_gitlab(hook, push, event="Push Hook", delivery="p1").status_code == 200
    assert Ticket.objects.get(pk=tickets[0].pk).state == "closed"

    tag = load_fixture("gitlab/tag_push.json")
    tag["ref"] = "refs/tags/blog-2-release"
    assert post_gitlab(hook, tag, event="Tag Push Hook", delivery="t1").status_code == 200
    link = GitLink.objects.get(kind="tag")
    assert (link.ticket, link.ref) == (tickets[1], "blog-2-release")
    assert link.url == "http://example.com/jsmith/example/-/tree/blog-2-release"


def test_gitea_pull_request_merged_closes(personas, tickets):
    hook = make_hook(personas, "gitea")
    payload = load_fixture("gitea/pull_request.json")
    payload["pull_request"]["title"] = "Fix BLOG-1 docs"
    payload["pull_request"]["body"] = "fixes BLOG-1"
    assert post_gitea(hook, payload, event="pull_request").status_code == 200
    link = GitLink.objects.get()
    assert (link.kind, link.ref, link.state, link.provider) == ("pull_request", "7", "merged", "gitea")
    assert Ticket.objects.get(pk=tickets[0].pk).state == "closed"


def test_gitea_redelivery_is_idempotent(personas, tickets):
    hook = make_hook(personas, "gitea")
    payload = load_fixture("gitea/push.json")
    payload["commits"][0]["message"] = "BLOG-1"
    assert post_gitea(hook, payload, event="push", delivery="x").json()["duplicate"] is False
    assert post_gitea(hook, payload, event="push", delivery="x").json()["duplicate"] is True
    assert GitLink.objects.count() == 1
    assert Event.objects.filter(kind="action", text="link").count() == 1


# --------------------------------------------------------------------------- issue events


def github_issue(action: str, *, title: str, body: str = "", state: str = "open") -> dict:
    payload = copy.deepcopy(load_fixture("github/issues-opened.json"))
    payload["action"] = action
    payload["issue"].update({"title": title, "body": body, "state": state})
    return payload


def test_github_issue_naming_a_ticket_links_it_with_a_timeline_entry(personas, tickets, published):
    hook = make_hook(personas)
    opened = github_issue("opened", title="Spelling error", body="Seen while working on BLOG-2.")
    response = post_github(hook, opened, event="issues", delivery="is-1")
    assert response.status_code == 200, response.content
    assert response.json()["delivery"]["outcome"] == "processed"
    link = GitLink.objects.get()
    assert (link.ticket, link.kind, link.ref, link.state, link.provider) == (tickets[1], "issue", "1", "open", "github")
    assert link.url == "https://github.com/Codertocat/Hello-World/issues/1"
    assert link.title == "Spelling error"
    event = Event.objects.get(ticket=tickets[1], kind="action", text="link")
    assert event.data["link"] == {"id": link.pk, "kind": "issue", "url": link.url, "title": link.title, "ref": "1"}
    assert ("board.card_updated", personas.project.pk) in {(name, pid) for name, _payload, pid in published}
    summary = response.json()["delivery"]["summary"]
    assert summary["links"] == [{"ticket": "BLOG-2", "kind": "issue", "ref": "1", "url": link.url, "new": True}]


@pytest.mark.parametrize("action", ["edited", "closed", "reopened", "labeled", "assigned"])
def test_github_issue_actions_link_once_and_never_close_the_ticket(personas, tickets, action):
    hook = make_hook(personas)
    post_github(hook, github_issue("opened", title="BLOG-1 crash"), event="issues", delivery="a-1")
    state = "closed" if action == "closed" else "open"
    later = github_issue(action, title="BLOG-1 crash on start", body="Fixes BLOG-1", state=state)
    assert post_github(hook, later, event="issues", delivery="a-2").status_code == 200
    link = GitLink.objects.get()
    assert (link.title, link.state) == ("BLOG-1 crash on start", state)
    assert Event.objects.filter(ticket=tickets[0], kind="action", text="link").count() == 1
    # An issue is a report, not a fix: "fixes BLOG-1" in it closes nothing.
    assert Ticket.objects.get(pk=tickets[0].pk).state == Ticket.State.OPENED


def test_github_issue_redelivery_changes_nothing(personas, tickets):
    hook = make_hook(personas)
    payload = github_issue("opened", title="BLOG-3 is slow")
    assert post_github(hook, payload, event="issues", delivery="r-1").json()["duplicate"] is False
    assert post_github(hook, payload, event="issues", delivery="r-1").json()["duplicate"] is True
    assert GitDelivery.objects.count() == 1
    assert Event.objects.filter(kind="action", text="link").count() == 1


def test_github_issue_naming_other_projects_or_nothing_links_nothing(personas, tickets):
    ProjectFactory(key="OTHER")
    hook = make_hook(personas)
    payload = github_issue("opened", title="OTHER-1 and BLOG-99", body="no key here")
    assert post_github(hook, payload, event="issues", delivery="o-1").status_code == 200
    deleted = github_issue("deleted", title="BLOG-1 gone")
    assert post_github(hook, deleted, event="issues", delivery="o-2").status_code == 200
    assert not GitLink.objects.exists()


def test_github_issue_of_the_wrong_shape_is_400(personas, tickets):
    hook = make_hook(personas)
    response = post_github(hook, {"action": "opened", "issue": "BLOG-1"}, event="issues", delivery="bad")
    assert response.status_code == 400
    assert not GitDelivery.objects.exists()


def test_gitlab_issue_hook_links_and_redelivery_is_idempotent(personas, tickets):
    hook = make_hook(personas, "gitlab")
    payload = load_fixture("gitlab/issue.json")
    payload["object_attributes"]["description"] = "Needed by BLOG-2"
    first = post_gitlab(hook, payload, event="Issue Hook", delivery="gi-1")
    assert first.status_code == 200, first.content
    link = GitLink.objects.get()
    assert (link.ticket, link.kind, link.ref, link.state) == (tickets[1], "issue", "23", "open")
    assert link.provider == "gitlab"
    assert link.url == "http://example.com/diaspora/issues/23"
    assert post_gitlab(hook, payload, event="Issue Hook", delivery="gi-1").json()["duplicate"] is True
    payload["object_attributes"].update({"state": "closed", "action": "close"})
    assert post_gitlab(hook, payload, event="Issue Hook", delivery="gi-2").status_code == 200
    link.refresh_from_db()
    assert link.state == "closed"
    assert Event.objects.filter(kind="action", text="link").count() == 1
    assert Ticket.objects.get(pk=tickets[1].pk).state == Ticket.State.OPENED


def test_gitlab_confidential_issue_hook_stays_ignored(personas, tickets):
    hook = make_hook(personas, "gitlab")
    payload = load_fixture("gitlab/issue.json")
    payload["object_attributes"].update({"title": "BLOG-1 leak", "confidential": True})
    response = post_gitlab(hook, payload, event="Confidential Issue Hook", delivery="c-1")
    assert response.status_code == 202
    assert not GitLink.objects.exists()


def test_gitlab_merge_request_opened_links_without_closing(personas, tickets):
    hook = make_hook(personas, "gitlab")
    payload = load_fixture("gitlab/merge_request.json")
    payload["object_attributes"].update(
        {"title": "BLOG-1 viewport", "description": "Closes BLOG-1", "state": "opened", "action": "open"}
    )
    assert post_gitlab(hook, payload, event="Merge Request Hook", delivery="mr-open").status_code == 200
    link = GitLink.objects.get()
    assert (link.ticket, link.kind, link.state) == (tickets[0], "pull_request", "open")
    assert Ticket.objects.get(pk=tickets[0].pk).state == Ticket.State.OPENED


def test_gitea_issue_links(personas, tickets):
    hook = make_hook(personas, "gitea")
    payload = load_fixture("gitea/issues.json")
    payload["issue"]["title"] = "BLOG-3 webhook docs are missing"
    assert post_gitea(hook, payload, event="issues").status_code == 200
    link = GitLink.objects.get()
    assert (link.ticket, link.kind, link.ref, link.url) == (
        tickets[2],
        "issue",
        "3",
        "http://localhost:3000/gitea/webhooks/issues/3",
    )


def test_hook_record_is_scoped(personas):
    make_hook(personas)
    assert GitHook.objects.get().project == personas.project
