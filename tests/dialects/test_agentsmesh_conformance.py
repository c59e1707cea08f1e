"""AgentsMesh's external Tickets API (seed 002) replayed against /api/v1/ext/orgs/<org>/:
every endpoint, example and filter of the document, API-key-only auth and per-endpoint scopes."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from projects.models import Label, Project
from tests.dialects.conftest import query_count, same_shape
from tests.factories import LabelFactory, ProjectFactory, TicketFactory
from tickets import services as ticket_services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

BASE = "/api/v1/ext/orgs/acme"

TICKET_EXAMPLE = {
    "id": 1,
    "slug": "AM-42",
    "type": "feature",
    "title": "Implement user authentication",
    "status": "in_progress",
    "priority": "high",
    "assignee_id": 10,
    "repository_id": 1,
    "labels": ["backend", "auth"],
    "parent_slug": None,
    "created_at": "2025-01-10T08:00:00Z",
    "updated_at": "2025-01-15T14:20:00Z",
}
LIST_EXAMPLE = {
    "tickets": [{k: v for k, v in TICKET_EXAMPLE.items() if k != "parent_slug"}],
    "total": 156,
    "limit": 20,
    "offset": 0,
}
BOARD_EXAMPLE = {
    "board": {
        "columns": [
            {
                "status": "open",
                "tickets": [
                    {
                        "id": 2,
                        "slug": "AM-43",
                        "title": "Fix CSS layout issue",
                        "type": "bug",
                        "priority": "medium",
                        "assignee_id": 5,
                    }
                ],
            },
            {"status": "in_progress", "tickets": []},
        ]
    }
}
# The document's curl example.
CREATE_BODY = {"title": "Implement user auth", "type": "feature", "priority": "high"}
STATUSES = ["backlog", "todo", "in_progress", "in_review", "done"]


def make(mesh, personas, title: str = "A ticket", **fields):
    return ticket_services.ticket_create(project=mesh.project, by=personas.member, title=title, **fields)


# --------------------------------------------------------------------------- auth and scopes


def test_api_key_in_x_api_key_or_bearer(mesh, personas, key_client):
    for how in ("header", "bearer"):
        response = key_client(personas.member, ["tickets:read"], how=how).get(f"{BASE}/tickets")
        assert response.status_code == 200, how


def test_jwt_session_and_anonymous_are_refused(mesh, personas):
    jwt = APIClient()
    jwt.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(personas.member)}")
    assert jwt.get("/api/v1/users/me").status_code == 200  # the token itself is good
    assert jwt.get(f"{BASE}/tickets").status_code == 401
    session = APIClient()
    session.force_login(personas.member)
    assert session.get(f"{BASE}/tickets").status_code == 401
    anonymous = APIClient().get(f"{BASE}/tickets")
    assert anonymous.status_code == 401
    assert set(anonymous.json()) == {"error"}
    bogus = APIClient()
    bogus.credentials(HTTP_X_API_KEY="punt_not-a-key")
    assert bogus.get(f"{BASE}/tickets").status_code == 401


def test_scopes_per_endpoint(mesh, personas, key_client):
    make(mesh, personas, "Existing")
    reader = key_client(personas.member, ["tickets:read"])
    writer = key_client(personas.member, ["tickets:write"])
    other = key_client(personas.member, ["projects:read"])
    reads = [f"{BASE}/tickets", f"{BASE}/tickets/board", f"{BASE}/tickets/AM-1"]
    for url in reads:
        assert reader.get(url).status_code == 200, url
        assert writer.get(url).status_code == 200, url  # write implies read
        assert other.get(url).status_code == 403, url
    writes = [
        ("post", f"{BASE}/tickets", CREATE_BODY),
        ("put", f"{BASE}/tickets/AM-1", {"title": "Renamed"}),
        ("patch", f"{BASE}/tickets/AM-1/status", {"status": "todo"}),
        ("delete", f"{BASE}/tickets/AM-1", None),
    ]
    for method, url, body in writes:
        assert getattr(reader, method)(url, body, format="json").status_code == 403, (method, url)
    for method, url, body in writes:
        assert getattr(writer, method)(url, body, format="json").status_code in (200, 201), (method, url)


def test_key_never_has_more_rights_than_its_owner(mesh, personas, key_client):
    make(mesh, personas)
    viewer = key_client(personas.viewer, ["tickets:write"])
    assert viewer.get(f"{BASE}/tickets/AM-1").status_code == 200
    assert viewer.post(f"{BASE}/tickets", CREATE_BODY, format="json").status_code == 403
    assert viewer.patch(f"{BASE}/tickets/AM-1/status", {"status": "done"}, format="json").status_code == 403


@pytest.mark.parametrize(
    "method, path, body, ok",
    [
        ("put", "/tickets/AM-1", {"priority": "urgent"}, 200),
        ("patch", "/tickets/AM-1/status", {"status": "in_review"}, 200),
        ("delete", "/tickets/AM-1", None, 200),
        ("get", "/tickets/AM-1", None, 200),
        ("get", "/tickets", None, 200),
        ("get", "/tickets/board", None, 200),
    ],
)
def test_role_matrix_per_endpoint(mesh, personas, key_client, method, path, body, ok):
    statuses = {}
    for role in ("outsider", "viewer", "member", "admin", "owner"):
        Ticket.objects.filter(project=mesh.project).delete()
        mesh.project.ticket_counter = 0
        mesh.project.save(update_fields=["ticket_counter"])
        make(mesh, personas)
        client = key_client(personas.user(role), ["tickets:write"])
        statuses[role] = getattr(client, method)(f"{BASE}{path}", body, format="json").status_code
    reads = method == "get"
    assert statuses == {
        "outsider": 404,
        "viewer": ok if reads else 403,
        "member": ok,
        "admin": ok,
        "owner": ok,
    }


def test_role_matrix_for_create(mesh, personas, key_client):
    statuses = {}
    for role in ("outsider", "viewer", "member", "admin", "owner"):
        statuses[role] = (
            key_client(personas.user(role), ["tickets:write"])
            .post(f"{BASE}/tickets", CREATE_BODY, format="json")
            .status_code
        )
    assert statuses == {"outsider": 404, "viewer": 403, "member": 201, "admin": 201, "owner": 201}


def test_only_the_organizations_projects_are_reachable(mesh, personas, key_client):
    make(mesh, personas, "In the org")
    # BLOG belongs to olivia's own namespace, not to acme.
    ticket_services.ticket_create(project=personas.project, by=personas.member, title="Elsewhere")
    client = key_client(personas.member)
    listed = client.get(f"{BASE}/tickets").json()
    assert [t["slug"] for t in listed["tickets"]] == ["AM-1"]
    assert client.get(f"{BASE}/tickets/BLOG-1").status_code == 404
    assert client.get(f"{BASE}/tickets?repository_id={personas.project.pk}").status_code == 404
    assert (
        client.post(f"{BASE}/tickets", {**CREATE_BODY, "repository_id": personas.project.pk}, format="json").status_code
        == 404
    )
    assert client.get("/api/v1/ext/orgs/nope/tickets").status_code == 404
    assert key_client(personas.outsider).get(f"{BASE}/tickets").status_code == 404


# --------------------------------------------------------------------------- GET /tickets


def test_list_matches_the_example(mesh, personas):
    LabelFactory(project=mesh.project, name="backend")
    LabelFactory(project=mesh.project, name="auth")
    make(
        mesh,
        personas,
        "Implement user authentication",
        type="feature",
        priority="high",
        status="in_progress",
        assignee=personas.member,
        labels=["backend", "auth"],
    )
    client = _key(personas.member)
    response = client.get(f"{BASE}/tickets")
    assert response.status_code == 200
    body = response.json()
    same_shape(body, LIST_EXAMPLE)
    assert (body["total"], body["limit"], body["offset"]) == (1, 20, 0)
    [ticket] = body["tickets"]
    assert ticket["slug"] == "AM-1" and ticket["status"] == "in_progress" and ticket["priority"] == "high"
    assert ticket["assignee_id"] == personas.member.pk and ticket["repository_id"] == mesh.project.pk
    assert ticket["labels"] == ["auth", "backend"]


def _key(user, scopes=None) -> APIClient:
    from accounts import services

    _k, raw = services.api_key_create(user=user, name="t", scopes=scopes or ["tickets:write"])
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    return client


def test_every_filter_of_the_document(mesh, personas):
    other = ProjectFactory(
        owner_user=None, organization=mesh.org, name="Other", path="other", key="OT", created_by=personas.owner
    )
    other.memberships.create(user=personas.member, role="member")
    LabelFactory(project=mesh.project, name="backend")
    LabelFactory(project=mesh.project, name="auth")
    make(mesh, personas, "one", type="bug", status="todo", labels=["backend"], assignee=personas.member)
    make(mesh, personas, "two", type="feature", status="done", labels=["auth"])
    make(mesh, personas, "three", type="feature", status="todo")
    ticket_services.ticket_create(project=other, by=personas.member, title="four", status="in_review")
    client = _key(personas.member)

    def slugs(query: str) -> list[str]:
        response = client.get(f"{BASE}/tickets{query}")
        assert response.status_code == 200, response.json()
        return sorted(t["slug"] for t in response.json()["tickets"])

    assert slugs("") == ["AM-1", "AM-2", "AM-3", "OT-1"]
    assert slugs(f"?repository_id={mesh.project.pk}") == ["AM-1", "AM-2", "AM-3"]
    assert slugs(f"?repository_id={other.pk}") == ["OT-1"]
    assert slugs("?status=todo") == ["AM-1", "AM-3"]
    assert slugs("?type=feature") == ["AM-2", "AM-3"]
    assert slugs(f"?assignee_id={personas.member.pk}") == ["AM-1"]
    assert slugs("?labels=backend,auth") == ["AM-1", "AM-2"]
    assert slugs("?labels=auth") == ["AM-2"]
    assert slugs("?status=todo&type=feature") == ["AM-3"]
    page = client.get(f"{BASE}/tickets?limit=2&offset=1").json()
    assert (page["total"], page["limit"], page["offset"], len(page["tickets"])) == (4, 2, 1, 2)
    assert client.get(f"{BASE}/tickets?status=open").status_code == 400
    assert client.get(f"{BASE}/tickets?limit=x").status_code == 400
    assert client.get(f"{BASE}/tickets?offset=-1").status_code == 400
    assert client.get(f"{BASE}/tickets?offset=99999999999999999999").status_code == 400
    assert client.get(f"{BASE}/tickets?repository_id=99999999999999999999").status_code == 400
    assert client.get(f"{BASE}/tickets?assignee_id=mary").status_code == 400


def test_limit_defaults_to_20(mesh, personas):
    for index in range(22):
        TicketFactory(project=mesh.project, title=f"t{index}")
    body = _key(personas.member).get(f"{BASE}/tickets").json()
    assert (body["total"], body["limit"], len(body["tickets"])) == (22, 20, 20)


# --------------------------------------------------------------------------- board


def test_board_has_one_column_per_status(mesh, personas):
    make(mesh, personas, "Fix CSS layout issue", type="bug", assignee=personas.member)
    make(mesh, personas, "Done thing", status="done")
    response = _key(personas.member).get(f"{BASE}/tickets/board")
    assert response.status_code == 200
    same_shape(response.json(), BOARD_EXAMPLE)
    columns = response.json()["board"]["columns"]
    assert [c["status"] for c in columns] == STATUSES
    by_status = {c["status"]: [t["slug"] for t in c["tickets"]] for c in columns}
    assert by_status == {"backlog": [], "todo": ["AM-1"], "in_progress": [], "in_review": [], "done": ["AM-2"]}
    assert columns[1]["tickets"][0]["assignee_id"] == personas.member.pk
    filtered = _key(personas.member).get(f"{BASE}/tickets/board?repository_id={mesh.project.pk}")
    assert filtered.status_code == 200


# --------------------------------------------------------------------------- single ticket


def test_get_by_slug_matches_the_example(mesh, personas):
    parent = make(mesh, personas, "Parent")
    make(mesh, personas, "Child", parent=parent)
    response = _key(personas.member).get(f"{BASE}/tickets/AM-2")
    assert response.status_code == 200
    same_shape(response.json(), {"ticket": TICKET_EXAMPLE})
    assert response.json()["ticket"]["parent_slug"] == "AM-1"
    assert response.json()["ticket"]["labels"] == []
    assert _key(personas.member).get(f"{BASE}/tickets/AM-99").status_code == 404
    assert _key(personas.member).get(f"{BASE}/tickets/not-a-slug").status_code == 404


# --------------------------------------------------------------------------- POST /tickets


def test_create_with_the_documents_example(mesh, personas):
    response = _key(personas.member).post(f"{BASE}/tickets", CREATE_BODY, format="json")
    assert response.status_code == 201
    ticket = response.json()["ticket"]
    same_shape(response.json(), {"ticket": TICKET_EXAMPLE})
    assert (ticket["slug"], ticket["title"], ticket["type"], ticket["priority"]) == (
        "AM-1",
        "Implement user auth",
        "feature",
        "high",
    )
    assert ticket["status"] == "backlog"  # the default
    assert ticket["repository_id"] == mesh.project.pk


def test_create_with_every_field(mesh, personas):
    parent = make(mesh, personas, "Epic")
    LabelFactory(project=mesh.project, name="backend")
    body = {
        "type": "subtask",
        "title": "Wire it",
        "priority": "urgent",
        "status": "in_progress",
        "assignee_id": personas.member.pk,
        "repository_id": mesh.project.pk,
        "labels": ["backend", "auth"],
        "parent_slug": "AM-1",
    }
    response = _key(personas.member).post(f"{BASE}/tickets", body, format="json")
    assert response.status_code == 201, response.json()
    ticket = response.json()["ticket"]
    assert ticket["labels"] == ["auth", "backend"]
    assert ticket["parent_slug"] == "AM-1" and ticket["status"] == "in_progress"
    assert ticket["assignee_id"] == personas.member.pk
    # Labels are created on first use.
    assert Label.objects.filter(project=mesh.project, name="auth").exists()
    assert Ticket.objects.get(project=mesh.project, number=2).parent == parent


@pytest.mark.parametrize(
    "body, field",
    [
        ({"title": "No type"}, "type"),
        ({"type": "bug"}, "title"),
        ({"type": "bug", "title": ""}, "title"),
        ({"type": "bug", "title": "x" * 501}, "title"),
        ({"type": "chore", "title": "x"}, "type"),
        ({"type": "bug", "title": "x", "status": "open"}, "status"),
        ({"type": "bug", "title": "x", "priority": "critical"}, "priority"),
        ({"type": "bug", "title": "x", "assignee_id": 999999}, "assignee_id"),
        ({"type": "bug", "title": "x", "parent_slug": "AM-99"}, "parent_slug"),
    ],
)
def test_create_validation(mesh, personas, body, field):
    response = _key(personas.member).post(f"{BASE}/tickets", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "Validation failed"
    assert response.json()["details"][0]["field"] == field


def test_title_of_500_characters_is_accepted(mesh, personas):
    response = _key(personas.member).post(f"{BASE}/tickets", {"type": "bug", "title": "x" * 500}, format="json")
    assert response.status_code == 201


def _other_repository(mesh, personas):
    other = ProjectFactory(
        owner_user=None, organization=mesh.org, name="Other", path="other", key="OT", created_by=personas.owner
    )
    other.memberships.create(user=personas.member, role="member")
    return other


def _set_default(mesh, personas, project_id) -> None:
    owner = APIClient()
    owner.force_authenticate(personas.owner)
    response = owner.patch("/api/v1/orgs/acme", {"default_project_id": project_id}, format="json")
    assert response.status_code == 200, response.content


def test_create_without_repository_id_goes_to_the_default_project(mesh, personas):
    # Was: a 400 asking for repository_id once the organization held several projects, though the
    # document's own example names none ("repository_id ... Optional").
    other = _other_repository(mesh, personas)
    client = _key(personas.member)
    first = client.post(f"{BASE}/tickets", CREATE_BODY, format="json")
    assert first.status_code == 201, first.content
    assert (first.json()["ticket"]["slug"], first.json()["ticket"]["repository_id"]) == ("AM-1", mesh.project.pk)

    _set_default(mesh, personas, other.pk)
    moved = client.post(f"{BASE}/tickets", CREATE_BODY, format="json")
    assert (moved.json()["ticket"]["slug"], moved.json()["ticket"]["repository_id"]) == ("OT-1", other.pk)
    named = client.post(f"{BASE}/tickets", {**CREATE_BODY, "repository_id": mesh.project.pk}, format="json")
    assert named.json()["ticket"]["slug"] == "AM-2"

    _set_default(mesh, personas, None)
    assert client.post(f"{BASE}/tickets", CREATE_BODY, format="json").json()["ticket"]["slug"] == "AM-3"


def test_the_default_falls_back_to_the_first_live_project(mesh, personas):
    client = _key(personas.member)
    other = _other_repository(mesh, personas)
    _set_default(mesh, personas, other.pk)
    # An archived default is passed over (it is read-only), and comes back with its restore.
    Project.objects.filter(pk=other.pk).update(archived_at=timezone.now())
    assert client.post(f"{BASE}/tickets", CREATE_BODY, format="json").json()["ticket"]["slug"] == "AM-1"
    Project.objects.filter(pk=other.pk).update(archived_at=None)
    assert client.post(f"{BASE}/tickets", CREATE_BODY, format="json").json()["ticket"]["slug"] == "OT-1"
    # Deleting the chosen project unsets the default (SET_NULL).
    Ticket.objects.filter(project=other).delete()
    other.delete()
    mesh.org.refresh_from_db()
    assert mesh.org.default_project_id is None
    assert client.post(f"{BASE}/tickets", CREATE_BODY, format="json").json()["ticket"]["slug"] == "AM-2"
    # An archived first project is skipped.
    _other_repository(mesh, personas)
    Project.objects.filter(pk=mesh.project.pk).update(archived_at=timezone.now())
    assert client.post(f"{BASE}/tickets", CREATE_BODY, format="json").json()["ticket"]["slug"] == "OT-1"


def test_a_default_project_the_key_cannot_see_is_a_400_naming_repository_id(mesh, personas):
    other = _other_repository(mesh, personas)
    _set_default(mesh, personas, other.pk)
    # The admin (of AM only) is not in OT: the default is not theirs, naming AM still works.
    client = _key(personas.admin)
    refused = client.post(f"{BASE}/tickets", CREATE_BODY, format="json")
    assert refused.status_code == 400
    assert refused.json()["details"] == [
        {"field": "repository_id", "message": "Required: the organization's default repository is not open to you."}
    ]
    named = client.post(f"{BASE}/tickets", {**CREATE_BODY, "repository_id": mesh.project.pk}, format="json")
    assert named.status_code == 201


def test_an_organization_without_live_projects_asks_for_repository_id(mesh, personas):
    Project.objects.filter(pk=mesh.project.pk).update(archived_at=timezone.now())
    refused = _key(personas.member).post(f"{BASE}/tickets", CREATE_BODY, format="json")
    assert refused.status_code == 400
    assert refused.json()["details"][0]["field"] == "repository_id"


# --------------------------------------------------------------------------- PUT, PATCH status, DELETE


def test_put_changes_only_the_given_fields(mesh, personas):
    make(mesh, personas, "Original", type="bug", priority="low", assignee=personas.member)
    client = _key(personas.member)
    response = client.put(f"{BASE}/tickets/AM-1", {"title": "Renamed", "labels": ["new"]}, format="json")
    assert response.status_code == 200
    same_shape(response.json(), {"ticket": TICKET_EXAMPLE})
    ticket = response.json()["ticket"]
    assert (ticket["title"], ticket["type"], ticket["priority"], ticket["assignee_id"]) == (
        "Renamed",
        "bug",
        "low",
        personas.member.pk,
    )
    assert ticket["labels"] == ["new"]
    cleared = client.put(f"{BASE}/tickets/AM-1", {"assignee_id": None, "status": "in_review"}, format="json").json()[
        "ticket"
    ]
    assert cleared["assignee_id"] is None and cleared["status"] == "in_review" and cleared["title"] == "Renamed"
    assert client.put(f"{BASE}/tickets/AM-1", {"title": ""}, format="json").status_code == 400


def test_patch_status(mesh, personas):
    make(mesh, personas)
    client = _key(personas.member)
    for status in STATUSES:
        response = client.patch(f"{BASE}/tickets/AM-1/status", {"status": status}, format="json")
        assert response.status_code == 200
        assert response.json() == {"message": "Status updated"}
        assert client.get(f"{BASE}/tickets/AM-1").json()["ticket"]["status"] == status
    assert Ticket.objects.get(project=mesh.project).state == "closed"
    assert client.patch(f"{BASE}/tickets/AM-1/status", {}, format="json").status_code == 400
    assert client.patch(f"{BASE}/tickets/AM-1/status", {"status": "open"}, format="json").status_code == 400


def test_delete(mesh, personas):
    make(mesh, personas)
    client = _key(personas.member)
    response = client.delete(f"{BASE}/tickets/AM-1")
    assert response.status_code == 200
    assert response.json() == {"message": "Ticket deleted"}
    assert client.get(f"{BASE}/tickets/AM-1").status_code == 404
    assert client.get(f"{BASE}/tickets").json()["total"] == 0
    assert client.delete(f"{BASE}/tickets/AM-1").status_code == 404
    # Permanent, as the document says: nothing left to restore.
    assert not Ticket.objects.filter(project=mesh.project).exists()


def test_lists_cost_the_same_number_of_queries_whatever_their_length(mesh, personas):
    def grow(count: int) -> None:
        for _ in range(count):
            label = LabelFactory(project=mesh.project)
            parent = make(mesh, personas, "Parent", assignee=personas.member)
            make(mesh, personas, "Child", parent=parent, labels=[label.name])

    client = _key(personas.member)
    urls = [f"{BASE}/tickets", f"{BASE}/tickets/board", f"{BASE}/tickets?labels=a,b&status=todo"]
    grow(1)
    before = {url: query_count(client, url) for url in urls}
    grow(4)
    assert {url: query_count(client, url) for url in urls} == before
