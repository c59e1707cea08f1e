"""`?q=` (PQL) on the AgentsMesh and GitHub-v3 ticket lists: filters, keeps the dialect's error
shape for a bad query, and changes nothing when absent."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.dialects.conftest import query_count
from tests.factories import LabelFactory, OrganizationFactory, ProjectFactory
from tickets import services as ticket_services

pytestmark = pytest.mark.django_db

MESH = "/api/v1/ext/orgs/acme/tickets"
GITHUB = "/api/v3/projects/olivia/blog/tickets"


def with_q(url: str, q: str, **more: object) -> str:
    return f"{url}?{urlencode({'q': q, **more})}"


def make(project, by, title: str, **fields):
    return ticket_services.ticket_create(project=project, by=by, title=title, **fields)


# --------------------------------------------------------------------------- AgentsMesh


@pytest.fixture
def mesh_tickets(mesh, personas):
    LabelFactory(project=mesh.project, name="backend")
    make(mesh.project, personas.owner, "Login fails", priority="high", labels=["backend"], assignee=personas.member)
    make(mesh.project, personas.owner, "Dark mode", priority="low")
    make(mesh.project, personas.owner, "Crash on save", priority="urgent", type="bug")
    return mesh


def mesh_slugs(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [ticket["slug"] for ticket in response.json()["tickets"]]


def test_agentsmesh_q_filters_the_list(mesh_tickets, personas, key_client):
    client = key_client(personas.member, ["tickets:read"])
    response = client.get(with_q(MESH, "priority >= high"))
    assert mesh_slugs(response) == ["AM-3", "AM-1"]
    assert response.json()["total"] == 2
    assert mesh_slugs(client.get(with_q(MESH, "label = backend AND assignee = me()"))) == ["AM-1"]
    # Combined with the document's own filters and the repository.
    repository = mesh_tickets.project.pk
    assert mesh_slugs(client.get(with_q(MESH, "priority >= high", type="bug", repository_id=repository))) == ["AM-3"]
    # Its ORDER BY replaces the default order; paging applies after it.
    ordered = client.get(with_q(MESH, "priority >= low ORDER BY title ASC", limit=2))
    assert mesh_slugs(ordered) == ["AM-3", "AM-2"] and ordered.json()["total"] == 3


def test_agentsmesh_q_spans_the_organizations_repositories_only(mesh_tickets, personas, key_client):
    other = ProjectFactory(
        owner_user=None,
        organization=mesh_tickets.org,
        name="Billing",
        path="billing",
        key="BIL",
        created_by=personas.member,
    )
    make(other, personas.member, "Invoice totals", priority="high")
    elsewhere = ProjectFactory(
        owner_user=None, organization=OrganizationFactory(slug="other"), key="OTH", created_by=personas.member
    )
    make(elsewhere, personas.member, "Not in acme", priority="high")
    client = key_client(personas.member, ["tickets:read"])
    assert mesh_slugs(client.get(with_q(MESH, "priority >= high"))) == ["BIL-1", "AM-3", "AM-1"]
    assert mesh_slugs(client.get(with_q(MESH, "project = BIL"))) == ["BIL-1"]
    # Another organization's project is unknown here, not an empty result.
    response = client.get(with_q(MESH, "project = OTH"))
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "q"


@pytest.mark.parametrize(
    ("q", "position", "words"),
    [
        ("priorty = high", 0, "did you mean 'priority'?"),
        ("label = nosuch", 8, "Unknown label 'nosuch'"),
        ("priority >= high AND (", 22, "at 22"),
    ],
)
def test_agentsmesh_bad_q_is_a_400_in_the_dialects_shape(mesh_tickets, personas, key_client, q, position, words):
    response = key_client(personas.member, ["tickets:read"]).get(with_q(MESH, q))
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error", "details"}
    [detail] = body["details"]
    assert detail["field"] == "q" and detail["position"] == position
    assert words in body["error"] and detail["message"] == body["error"]


def test_agentsmesh_without_q_is_unchanged(mesh_tickets, personas, key_client):
    client = key_client(personas.member, ["tickets:read"])
    plain = client.get(MESH)
    assert mesh_slugs(plain) == ["AM-3", "AM-2", "AM-1"]
    assert client.get(f"{MESH}?q=").json() == plain.json()
    assert client.get(f"{MESH}?q=%20%20").json() == plain.json()


def test_agentsmesh_q_needs_read_access(mesh_tickets, personas, key_client):
    assert key_client(personas.member, ["projects:read"]).get(with_q(MESH, "type = bug")).status_code == 403
    assert key_client(personas.outsider, ["tickets:read"]).get(with_q(MESH, "type = bug")).status_code == 404
    assert mesh_slugs(key_client(personas.viewer, ["tickets:read"]).get(with_q(MESH, "type = bug"))) == ["AM-3"]


def test_agentsmesh_q_query_count_does_not_grow_with_rows(mesh_tickets, personas, key_client):
    client = key_client(personas.member, ["tickets:read"])
    url = with_q(MESH, "label = backend OR priority >= low")
    few = query_count(client, url)
    for index in range(15):
        make(mesh_tickets.project, personas.owner, f"More {index}", labels=["backend"])
    assert query_count(client, url) <= few


# --------------------------------------------------------------------------- GitHub v3


@pytest.fixture
def blog_tickets(personas):
    make(personas.project, personas.owner, "Login fails", priority="high", assignee=personas.member)
    make(personas.project, personas.owner, "Dark mode", priority="low")
    closed = make(personas.project, personas.owner, "Old crash", priority="urgent", type="bug")
    ticket_services.ticket_update(ticket=closed, by=personas.owner, status="done")
    return personas.project


def numbers(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [ticket["number"] for ticket in response.json()]


def test_github_q_filters_the_list(blog_tickets, personas):
    client = personas.client("member")
    assert numbers(client.get(with_q(GITHUB, "priority >= high"))) == [3, 1]
    assert numbers(client.get(with_q(GITHUB, "priority >= high", state="opened"))) == [1]
    assert numbers(client.get(with_q(GITHUB, "assignee = me()"))) == [1]
    assert numbers(client.get(with_q(GITHUB, "text ~ mode OR type = bug ORDER BY number ASC"))) == [2, 3]
    # Paging and its Link header follow the filtered list.
    response = client.get(with_q(GITHUB, "priority >= low", per_page=2))
    assert numbers(response) == [3, 2]
    assert "q=priority" in response.headers["Link"]


@pytest.mark.parametrize(
    ("q", "position", "words"),
    [
        ("priorty = high", 0, "did you mean 'priority'?"),
        ("assignee = nobody", 11, "Unknown user 'nobody'"),
        ("state = maybe", 8, "Unknown state 'maybe'"),
    ],
)
def test_github_bad_q_is_a_400_in_the_dialects_shape(blog_tickets, personas, q, position, words):
    response = personas.client("member").get(with_q(GITHUB, q))
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error", "details"}
    [detail] = body["details"]
    assert detail["field"] == "q" and detail["position"] == position
    assert words in body["error"]


def test_github_without_q_is_unchanged(blog_tickets, personas):
    client = personas.client("member")
    plain = client.get(GITHUB)
    assert numbers(plain) == [3, 2, 1]
    assert client.get(f"{GITHUB}?q=").json() == plain.json()


def test_github_q_role_matrix(blog_tickets, personas):
    assert personas.matrix("get", with_q(GITHUB, "type = bug")) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_github_q_query_count_does_not_grow_with_rows(blog_tickets, personas):
    client = personas.client("member")
    url = with_q(GITHUB, "priority >= low AND state = open")
    few = query_count(client, url)
    for index in range(15):
        make(personas.project, personas.owner, f"More {index}")
    assert query_count(client, url) <= few
