"""The GitHub-v3-style API (seed 003) replayed against /api/v3/: projects in user namespaces,
tickets by number, the four event types with the document's fields, hypermedia URLs built
from the request, and what GitHub adds (writes, close/reopen, comments, Link pagination)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.dialects.conftest import query_count, same_shape
from tests.factories import ProjectFactory, TicketFactory, UserFactory
from tickets import services as ticket_services
from tickets.models import Event

pytestmark = pytest.mark.django_db

API = "http://testserver/api/v3"
WEB = "http://testserver"

PROJECT_EXAMPLE = {
    "url": "http://api.example.com/projects/mary/blog",
    "html_url": "http://example.com/projects/mary/blog",
    "owner_url": "http://api.example.com/users/mary",
    "tickets_url": "http://api.example.com/projects/mary/blog/tickets",
    "name": "blog",
    "state": "opened",
    "created_at": "2018-06-01T15:31:39Z",
    "owner": {"username": "mary", "url": "http://api.example.com/users/mary"},
}
TICKET_EXAMPLE = {
    "url": "http://api.example.com/projects/mary/blog/tickets/1745",
    "html_url": "http://example.com/projects/mary/blog/tickets/1745",
    "comments_url": "http://api.example.com/projects/mary/blog/tickets/1745/comments",
    "events_url": "http://api.example.com/projects/mary/blog/tickets/1745/events",
    "number": 1745,
    "id": 194898977,
    "title": "Register a customer",
    "state": "opened",
    "body": "All content typed by user. Markdown, btw.",
    "created_at": "2018-06-01T15:31:39Z",
    "last_updated_at": "2018-06-01T15:31:39Z",
    "last_closed_at": None,
    "author": {"username": "mary", "url": "http://api.example.com/users/mary"},
    "last_updated_by": {"username": "mary", "url": "http://api.example.com/users/mary"},
    "last_closed_by": None,
}
COMMENT_EXAMPLE = {
    "url": "http://api.example.com/comments/345678908",
    "html_url": "http://example.com/projects/mary/blog/tickets/1745#345678908",
    "ticket_url": "http://api.example.com/projects/mary/blog/tickets/1745",
    "id": 345678908,
    "text": "I agree with you.",
    "type": "comment",
    "created_at": "2018-06-01T15:31:39Z",
    "last_updated_at": "2018-06-01T15:31:39Z",
    "author": {"username": "mary", "url": "http://api.example.com/users/mary"},
}
ACTION_EXAMPLE = {
    "url": "http://api.example.com/projects/mary/blog/tickets/1745/events/345678321",
    "html_url": "http://example.com/projects/mary/blog/tickets/1745#345678321",
    "ticket_url": "http://api.example.com/projects/mary/blog/tickets/1745",
    "id": 345678321,
    "text": "close",
    "type": "action",
    "created_at": "2018-06-01T15:31:39Z",
    "author": {"username": "mary", "url": "http://api.example.com/users/mary"},
}
MENTION_EXAMPLE = {
    "url": "http://api.example.com/projects/mary/blog/tickets/1745/events/111678321",
    "html_url": "http://example.com/projects/mary/blog/tickets/1745#111678321",
    "ticket_url": "http://api.example.com/projects/mary/blog/tickets/1745",
    "id": 111678321,
    "text": "#14",
    "type": "mention",
    "created_at": "2018-06-01T15:31:39Z",
}
UPDATE_EXAMPLE = {
    "url": "http://api.example.com/projects/mary/blog/tickets/1745/events/345678321",
    "html_url": "http://example.com/projects/mary/blog/tickets/1745#345678321",
    "ticket_url": "http://api.example.com/projects/mary/blog/tickets/1745",
    "id": 345678321,
    "text": "{'old': {'title': 'old title', 'body': 'old body'}, 'new': {'title': 'new title', 'body': 'new body'}}",
    "type": "update",
    "created_at": "2018-06-01T15:31:39Z",
    "author": {"username": "mary", "url": "http://api.example.com/users/mary"},
}
EXAMPLES = {"comment": COMMENT_EXAMPLE, "action": ACTION_EXAMPLE, "mention": MENTION_EXAMPLE, "update": UPDATE_EXAMPLE}

BLOG = "/api/v3/projects/olivia/blog"


@pytest.fixture
def two_blogs(personas):
    """Seed 003's example: Mary and Olivia both have a project called "Blog"; their tickets never mix."""
    mary_blog = ProjectFactory(owner_user=personas.member, name="Blog", path="blog", key="MBLOG")
    TicketFactory(project=mary_blog, title="Mary's ticket")
    return mary_blog


# --------------------------------------------------------------------------- auth


def test_any_credentials_work_and_anonymous_is_401(personas, key_client):
    assert APIClient().get("/api/v3/user/projects").status_code == 401
    assert key_client(personas.member, ["projects:read"]).get("/api/v3/user/projects").status_code == 200
    session = APIClient()
    session.force_login(personas.member)
    assert session.get("/api/v3/user/projects").status_code == 200
    assert personas.client("member").get("/api/v3/user/projects").status_code == 200


# --------------------------------------------------------------------------- projects


def test_list_your_own_projects(personas, two_blogs):
    response = personas.client("member").get("/api/v3/user/projects")
    assert response.status_code == 200
    same_shape(response.json(), [PROJECT_EXAMPLE])
    assert sorted(p["url"] for p in response.json()) == [f"{API}/projects/mary/blog", f"{API}/projects/olivia/blog"]


def test_list_projects_owned_by_a_user(personas, two_blogs):
    response = personas.client("member").get("/api/v3/users/mary/projects")
    assert response.status_code == 200
    [project] = response.json()
    assert project == {
        "url": f"{API}/projects/mary/blog",
        "html_url": f"{WEB}/projects/mary/blog",
        "owner_url": f"{API}/users/mary",
        "tickets_url": f"{API}/projects/mary/blog/tickets",
        "name": "blog",
        "state": "opened",
        "created_at": project["created_at"],
        "owner": {"username": "mary", "url": f"{API}/users/mary"},
    }
    same_shape(project, PROJECT_EXAMPLE)
    # Only the projects the caller can see.
    assert personas.client("viewer").get("/api/v3/users/mary/projects").json() == []
    assert personas.client("viewer").get("/api/v3/users/nobody/projects").status_code == 404


def test_get_a_single_project(personas, two_blogs):
    assert personas.matrix("get", BLOG) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }
    response = personas.client("viewer").get(BLOG)
    same_shape(response.json(), PROJECT_EXAMPLE)
    assert response.json()["url"] == f"{API}/projects/olivia/blog"
    assert personas.client("member").get("/api/v3/projects/mary/blog").json()["owner"]["username"] == "mary"
    assert personas.client("viewer").get("/api/v3/projects/mary/blog").status_code == 404


def test_owner_url_resolves(personas):
    response = personas.client("member").get("/api/v3/users/olivia")
    assert response.status_code == 200
    assert response.json() == {
        "username": "olivia",
        "url": f"{API}/users/olivia",
        "projects_url": f"{API}/users/olivia/projects",
    }


def test_organization_namespace(mesh, personas):
    response = personas.client("member").get("/api/v3/projects/acme/agents-mesh")
    assert response.status_code == 200
    assert response.json()["owner"] == {"username": "acme", "url": f"{API}/users/acme"}
    assert [p["name"] for p in personas.client("member").get("/api/v3/users/acme/projects").json()] == ["agents-mesh"]


# --------------------------------------------------------------------------- tickets


def test_tickets_list_and_single_by_number(personas, two_blogs):
    ticket = ticket_services.ticket_create(
        project=personas.project, by=personas.member, title="Register a customer", body="All content typed by user."
    )
    response = personas.client("viewer").get(f"{BLOG}/tickets")
    assert response.status_code == 200
    same_shape(response.json(), [TICKET_EXAMPLE])
    assert [t["title"] for t in response.json()] == ["Register a customer"]  # Mary's Blog stays apart
    single = personas.client("viewer").get(f"{BLOG}/tickets/1").json()
    assert single == {
        "url": f"{API}/projects/olivia/blog/tickets/1",
        "html_url": f"{WEB}/projects/olivia/blog/tickets/1",
        "comments_url": f"{API}/projects/olivia/blog/tickets/1/comments",
        "events_url": f"{API}/projects/olivia/blog/tickets/1/events",
        "number": 1,
        "id": ticket.pk,
        "title": "Register a customer",
        "state": "opened",
        "body": "All content typed by user.",
        "created_at": single["created_at"],
        "last_updated_at": single["last_updated_at"],
        "last_closed_at": None,
        "author": {"username": "mary", "url": f"{API}/users/mary"},
        "last_updated_by": {"username": "mary", "url": f"{API}/users/mary"},
        "last_closed_by": None,
    }
    same_shape(single, TICKET_EXAMPLE)
    assert personas.client("viewer").get(f"{BLOG}/tickets/99").status_code == 404
    assert personas.client("outsider").get(f"{BLOG}/tickets/1").status_code == 404


def test_html_url_is_the_web_page(personas):
    TicketFactory(project=personas.project)
    html_url = personas.client("member").get(f"{BLOG}/tickets/1").json()["html_url"]
    assert html_url == f"{WEB}/projects/olivia/blog/tickets/1"


def test_pagination_with_link_header(personas):
    for index in range(5):
        TicketFactory(project=personas.project, title=f"t{index}")
    client = personas.client("member")
    first = client.get(f"{BLOG}/tickets?per_page=2")
    assert [t["number"] for t in first.json()] == [5, 4]
    link = first["Link"]
    assert f'<{API}/projects/olivia/blog/tickets?page=2&per_page=2>; rel="next"' in link
    assert f'<{API}/projects/olivia/blog/tickets?page=3&per_page=2>; rel="last"' in link
    last = client.get(f"{BLOG}/tickets?per_page=2&page=3")
    assert [t["number"] for t in last.json()] == [1]
    assert 'rel="prev"' in last["Link"] and 'rel="first"' in last["Link"] and 'rel="next"' not in last["Link"]
    assert "Link" not in client.get(f"{BLOG}/tickets").headers
    assert client.get(f"{BLOG}/tickets?page=0").status_code == 400
    assert client.get(f"{BLOG}/tickets?page=99999999999999999999").status_code == 400
    assert client.get(f"{BLOG}/tickets/99999999999999999999").status_code == 404


def test_create_and_edit_tickets(personas):
    assert personas.matrix("post", f"{BLOG}/tickets", {"title": "New"}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 201,
        "admin": 201,
        "owner": 201,
    }
    client = personas.client("member")
    created = client.post(f"{BLOG}/tickets", {"title": "Register a customer", "body": "Markdown"}, format="json")
    assert created.status_code == 201
    same_shape(created.json(), TICKET_EXAMPLE)
    number = created.json()["number"]
    edited = client.patch(f"{BLOG}/tickets/{number}", {"title": "new title", "body": "new body"}, format="json")
    assert edited.status_code == 200
    assert (edited.json()["title"], edited.json()["body"]) == ("new title", "new body")
    assert client.post(f"{BLOG}/tickets", {}, format="json").status_code == 400
    assert personas.client("viewer").patch(f"{BLOG}/tickets/{number}", {"title": "x"}, format="json").status_code == 403


def test_ticket_and_comment_edits_role_matrix(personas):
    ticket = TicketFactory(project=personas.project)
    assert personas.matrix("patch", f"{BLOG}/tickets/{ticket.number}", {"title": "Edited"}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }
    comment = ticket_services.comment_create(ticket=ticket, by=personas.member, body="Mine")
    # Only the author edits a comment (the tickets service's rule), whatever the project role.
    assert personas.matrix("patch", f"/api/v3/comments/{comment.pk}", {"body": "Edited"}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 200,
        "admin": 403,
        "owner": 403,
    }


def test_close_and_reopen_write_action_events(personas):
    TicketFactory(project=personas.project)
    client = personas.client("member")
    closed = client.patch(f"{BLOG}/tickets/1", {"state": "closed"}, format="json").json()
    assert closed["state"] == "closed"
    assert closed["last_closed_by"] == {"username": "mary", "url": f"{API}/users/mary"}
    assert closed["last_closed_at"] is not None
    reopened = client.patch(f"{BLOG}/tickets/1", {"state": "opened"}, format="json").json()
    assert reopened["state"] == "opened" and reopened["last_closed_by"] is None
    actions = [e["text"] for e in client.get(f"{BLOG}/tickets/1/events").json() if e["type"] == "action"]
    # Each is a move between columns plus the state change it causes.
    assert actions == ["move", "close", "move", "reopen"]
    assert client.patch(f"{BLOG}/tickets/1", {"state": "merged"}, format="json").status_code == 400


# --------------------------------------------------------------------------- events and comments


def test_events_of_every_type_match_the_examples(personas):
    other = TicketFactory(project=personas.project, title="Other")
    ticket = ticket_services.ticket_create(
        project=personas.project, by=personas.member, title="old title", body="old body"
    )
    ticket_services.ticket_update(ticket=ticket, by=personas.member, title="new title", body="new body")
    ticket_services.comment_create(ticket=ticket, by=personas.member, body=f"I agree with you. See #{other.number}")
    ticket = ticket_services.ticket_update(ticket=ticket, by=personas.member, status="done")
    response = personas.client("viewer").get(f"{BLOG}/tickets/{ticket.number}/events")
    assert response.status_code == 200
    events = response.json()
    seen = set()
    for event in events:
        same_shape(event, EXAMPLES[event["type"]])
        seen.add(event["type"])
    assert seen == {"comment", "mention", "action", "update"}
    update = next(e for e in events if e["type"] == "update")
    assert (
        update["text"]
        == "{'old': {'title': 'old title', 'body': 'old body'}, 'new': {'title': 'new title', 'body': 'new body'}}"
    )
    mention = next(e for e in events if e["type"] == "mention")
    assert mention["text"] == f"#{other.number}" and "author" not in mention
    comment = next(e for e in events if e["type"] == "comment")
    assert comment["url"] == f"{API}/comments/{comment['id']}"
    assert comment["html_url"] == f"{WEB}/projects/olivia/blog/tickets/{ticket.number}#{comment['id']}"
    assert comment["ticket_url"] == f"{API}/projects/olivia/blog/tickets/{ticket.number}"
    close = [e for e in events if e["type"] == "action"][-1]
    assert close["text"] == "close"
    assert close["url"] == f"{API}/projects/olivia/blog/tickets/{ticket.number}/events/{close['id']}"
    # A single event, and a single comment through both of its URLs.
    single = personas.client("viewer").get(f"{BLOG}/tickets/{ticket.number}/events/{close['id']}")
    assert single.json() == close
    assert personas.client("viewer").get(f"{BLOG}/tickets/{ticket.number}/comments/{comment['id']}").json() == comment
    assert personas.client("viewer").get(f"/api/v3/comments/{comment['id']}").json() == comment
    assert personas.client("viewer").get(f"{BLOG}/tickets/{ticket.number}/events/999999").status_code == 404
    assert personas.client("viewer").get(f"{BLOG}/tickets/{ticket.number}/comments/{close['id']}").status_code == 404
    assert personas.client("outsider").get(f"/api/v3/comments/{comment['id']}").status_code == 404


def test_a_mention_names_a_ticket_of_the_same_project_as_in_the_example(personas):
    # The document's example: ticket 1745 of mary's blog mentions "#14".
    shop = ProjectFactory(owner_user=personas.owner, name="Shop", key="SHOP", created_by=personas.owner)
    elsewhere = TicketFactory(project=shop, number=3)
    TicketFactory(project=personas.project, number=14, title="Register a customer's address")
    TicketFactory(project=personas.project, number=1745, title="Register a customer")
    ticket_url = f"{BLOG}/tickets/1745"
    client = personas.client("owner")
    for body in ("Depends on #14", "Same as BLOG-14, really", "And SHOP-3 in the shop"):
        assert client.post(f"{ticket_url}/comments", {"body": body}, format="json").status_code == 201

    mentions = [e for e in client.get(f"{ticket_url}/events").json() if e["type"] == "mention"]
    for mention in mentions:
        same_shape(mention, MENTION_EXAMPLE)
    # "BLOG-14" names a ticket of the same project too: "#14"; the other project's ticket by its key.
    assert [m["text"] for m in mentions] == ["#14", "#14", "SHOP-3"]
    assert mentions[0]["text"] == MENTION_EXAMPLE["text"]

    # The referenced tickets' timelines show where they were mentioned, in the same words.
    back = client.get(f"{BLOG}/tickets/14/events").json()
    assert [e["text"] for e in back if e["type"] == "mention"] == ["#1745", "#1745"]
    back = client.get(f"/api/v3/projects/olivia/shop/tickets/{elsewhere.number}/events").json()
    assert [e["text"] for e in back if e["type"] == "mention"] == ["BLOG-1745"]


def test_comments_list_create_and_edit(personas):
    TicketFactory(project=personas.project)
    url = f"{BLOG}/tickets/1/comments"
    assert personas.matrix("post", url, {"body": "I agree with you."}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 201,
        "admin": 201,
        "owner": 201,
    }
    listed = personas.client("viewer").get(url).json()
    assert len(listed) == 3
    same_shape(listed, [COMMENT_EXAMPLE])
    mine = next(c for c in listed if c["author"]["username"] == "mary")
    edited = personas.client("member").patch(f"{url}/{mine['id']}", {"body": "Edited"}, format="json")
    assert edited.status_code == 200 and edited.json()["text"] == "Edited"
    assert personas.client("admin").patch(f"{url}/{mine['id']}", {"body": "Not mine"}, format="json").status_code == 403
    by_id = personas.client("member").patch(f"/api/v3/comments/{mine['id']}", {"body": "Again"}, format="json")
    assert by_id.status_code == 200 and by_id.json()["text"] == "Again"
    assert Event.objects.get(pk=mine["id"]).text == "Again"
    assert personas.client("member").post(url, {"body": ""}, format="json").status_code == 400


def test_events_pagination(personas):
    ticket = TicketFactory(project=personas.project)
    for index in range(3):
        ticket_services.comment_create(ticket=ticket, by=personas.member, body=f"c{index}")
    response = personas.client("member").get(f"{BLOG}/tickets/1/comments?per_page=2")
    assert [c["text"] for c in response.json()] == ["c0", "c1"]
    assert 'rel="next"' in response["Link"]


def test_user_namespaces_never_mix(personas, two_blogs):
    intruder = UserFactory(username="tom")
    ProjectFactory(owner_user=intruder, name="Blog", path="blog", key="TBLOG")
    assert personas.client("member").get("/api/v3/projects/tom/blog").status_code == 404
    mary = personas.client("member").get("/api/v3/projects/mary/blog/tickets").json()
    assert [t["title"] for t in mary] == ["Mary's ticket"]


def test_lists_cost_the_same_number_of_queries_whatever_their_length(personas):
    first = ticket_services.ticket_create(project=personas.project, by=personas.member, title="First")

    def grow(count: int) -> None:
        for index in range(count):
            ticket = ticket_services.ticket_create(project=personas.project, by=personas.member, title=f"t{index}")
            ticket_services.ticket_update(ticket=ticket, by=personas.admin, status="done")
            ticket_services.comment_create(ticket=first, by=personas.admin, body=f"See #{ticket.number} @mary")
            ProjectFactory(owner_user=personas.member)

    client = personas.client("member")
    urls = ["/api/v3/user/projects", "/api/v3/users/mary/projects", f"{BLOG}/tickets", f"{BLOG}/tickets/1/events"]
    urls.append(f"{BLOG}/tickets/1/comments")
    grow(1)
    before = {url: query_count(client, url) for url in urls}
    grow(4)
    assert {url: query_count(client, url) for url in urls} == before


def test_html_urls_open_the_web_pages(personas):
    TicketFactory(project=personas.project, title="On the web")
    api = personas.client("member")
    browser = APIClient()
    browser.force_login(personas.member)
    project_page = api.get(BLOG).json()["html_url"].removeprefix(WEB)
    ticket_page = api.get(f"{BLOG}/tickets/1").json()["html_url"].removeprefix(WEB)
    assert browser.get(project_page).status_code == 200
    page = browser.get(ticket_page)
    assert page.status_code == 200
    assert "On the web" in page.content.decode()
