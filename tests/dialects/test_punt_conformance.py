"""PUNT's own API (seeds 000, 001) replayed against /api/: every endpoint and example of the
documents, their status codes, auth rules and role requirements, plus the sections seed 000
lists without detail (tickets, sprints, admin, upload) in the same style."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import User
from projects.models import Column, Label, Project, Sprint
from tests.dialects.conftest import ISO_MS, query_count, same_shape
from tests.factories import (
    PASSWORD,
    LabelFactory,
    MembershipFactory,
    ProjectFactory,
    SprintFactory,
    TicketFactory,
    UserFactory,
)
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

# --------------------------------------------------------------------------- the documents' examples

PROJECT_EXAMPLE = {
    "id": "clx1abc123",
    "name": "My Project",
    "key": "PROJ",
    "description": "Project description",
    "color": "#3B82F6",
    "createdAt": "2024-01-01T00:00:00.000Z",
    "updatedAt": "2024-01-15T10:30:00.000Z",
}
CREATE_PROJECT_BODY = {"name": "My Project", "key": "PROJ", "description": "Project description", "color": "#3B82F6"}
UPDATE_PROJECT_BODY = {"name": "Updated Project Name", "description": "New description", "color": "#EF4444"}
COLUMNS_EXAMPLE = [
    {"id": "clx1col1", "name": "To Do", "order": 0},
    {"id": "clx1col2", "name": "In Progress", "order": 1},
    {"id": "clx1col3", "name": "Done", "order": 2},
]
MEMBERS_EXAMPLE = [
    {
        "id": "clx1mem1",
        "userId": "clx1user1",
        "projectId": "clx1abc123",
        "role": "owner",
        "user": {"id": "clx1user1", "username": "johndoe", "name": "John Doe", "avatar": "/uploads/avatars/abc.webp"},
    }
]
LABELS_EXAMPLE = [
    {"id": "clx1lbl1", "name": "bug", "color": "#EF4444"},
    {"id": "clx1lbl2", "name": "feature", "color": "#22C55E"},
]
CREATE_LABEL_BODY = {"name": "documentation", "color": "#3B82F6"}
# Seed 000's request and response examples (a ticket).
TICKET_BODY = {"title": "My new ticket", "type": "Task", "priority": "Medium"}
TICKET_RESPONSE_EXAMPLE = {
    "id": "abc123",
    "title": "My new ticket",
    "type": "Task",
    "priority": "Medium",
    "createdAt": "2024-01-15T10:30:00.000Z",
    "updatedAt": "2024-01-15T10:30:00.000Z",
}
ERROR_EXAMPLE = {"error": "Validation failed", "details": [{"field": "title", "message": "Title is required"}]}


def project_url(personas, suffix: str = "", by: str = "id") -> str:
    ident = str(personas.project.pk) if by == "id" else personas.project.key
    return f"/api/projects/{ident}{suffix}"


# --------------------------------------------------------------------------- auth (seed 000)


def test_session_cookie_from_credentials_callback_authenticates(personas):
    client = APIClient(enforce_csrf_checks=True)
    login = client.post("/api/auth/callback/credentials", {"username": "mary", "password": PASSWORD}, format="json")
    assert login.status_code == 200
    listed = client.get("/api/projects")
    assert listed.status_code == 200
    assert [p["key"] for p in listed.json()] == ["BLOG"]
    # "Include this cookie in subsequent requests": a JSON write needs nothing else (issue 17).
    created = client.post(project_url(personas, "/labels"), {"name": "docs"}, format="json")
    assert created.status_code == 201
    # A form write, which another site could make a browser send, needs the CSRF token the login returned.
    refused = client.post(project_url(personas, "/labels"), {"name": "wiki"}, format="multipart")
    assert refused.status_code == 403
    token = login.json()["csrfToken"]
    created = client.post(project_url(personas, "/labels"), {"name": "wiki"}, "multipart", HTTP_X_CSRFTOKEN=token)
    assert created.status_code == 201


def test_bearer_api_key_and_x_api_key_authenticate(personas, key_client):
    for how in ("bearer", "header"):
        response = key_client(personas.member, how=how).get("/api/projects")
        assert response.status_code == 200, how
        assert [p["key"] for p in response.json()] == ["BLOG"]


def test_anonymous_gets_401_in_the_error_shape(personas):
    response = APIClient().get("/api/projects")
    assert response.status_code == 401
    assert set(response.json()) == {"error"}


def test_rate_limit_headers_on_punt_responses(personas):
    response = personas.client("member").get("/api/projects")
    assert response.status_code == 200
    for header in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert response[header].isdigit(), header
    login = APIClient().post("/api/auth/callback/credentials", {"username": "mary", "password": "x"}, format="json")
    assert login.status_code == 401
    assert login["X-RateLimit-Limit"] == "10"
    assert login["X-RateLimit-Remaining"] == "9"


def test_login_limit_answers_429_after_ten_attempts(personas):
    client = APIClient()
    for _ in range(10):
        client.post("/api/auth/callback/credentials", {"username": "mary", "password": "wrong"}, format="json")
    response = client.post("/api/auth/callback/credentials", {"username": "mary", "password": PASSWORD}, format="json")
    assert response.status_code == 429
    assert response["X-RateLimit-Remaining"] == "0"
    assert set(response.json()) == {"error"}


# --------------------------------------------------------------------------- projects (seed 001)


def test_list_projects_matches_the_example(personas):
    response = personas.client("viewer").get("/api/projects")
    assert response.status_code == 200
    same_shape(response.json(), [PROJECT_EXAMPLE])
    [project] = response.json()
    assert project["id"] == str(personas.project.pk)
    assert project["key"] == "BLOG"
    assert ISO_MS.match(project["createdAt"])
    assert personas.client("outsider").get("/api/projects").json() == []


def test_create_project_with_the_documents_body(personas):
    response = personas.client("outsider").post("/api/projects", CREATE_PROJECT_BODY, format="json")
    assert response.status_code == 201
    body = response.json()
    same_shape(body, PROJECT_EXAMPLE)
    assert {k: body[k] for k in CREATE_PROJECT_BODY} == CREATE_PROJECT_BODY
    # The creating user is automatically assigned as the project owner.
    members = personas.client("outsider").get(f"/api/projects/{body['id']}/members").json()
    assert [(m["user"]["username"], m["role"]) for m in members] == [("oscar", "owner")]


def test_create_project_without_colour_gets_one(personas):
    response = personas.client("member").post("/api/projects", {"name": "Docs", "key": "DOCS"}, format="json")
    assert response.status_code == 201
    assert response.json()["color"].startswith("#") and len(response.json()["color"]) == 7
    assert response.json()["description"] == ""


def test_projects_are_still_named_by_id_or_key_when_a_slug_was_chosen(personas):
    # seed 001's [projectId]: an id, or here also the key; the URL slug is /api/v1's.
    response = personas.client("member").post(
        "/api/projects", {"name": "My project", "key": "MYPROJ", "slug": "myproject"}, format="json"
    )
    assert response.status_code == 201
    same_shape(response.json(), PROJECT_EXAMPLE)
    assert Project.objects.get(key="MYPROJ").slug == "myproject"
    member = personas.client("member")
    assert member.get(f"/api/projects/{response.json()['id']}").status_code == 200
    assert member.get("/api/projects/MYPROJ").json()["key"] == "MYPROJ"
    assert member.get("/api/projects/myproject").status_code == 404


def test_a_taken_lowercased_key_can_be_given_a_slug(personas):
    ProjectFactory(owner_user=personas.owner, key="ZED", slug="docs")
    refused = personas.client("member").post("/api/projects", {"name": "Docs", "key": "DOCS"}, format="json")
    assert refused.status_code == 400
    assert [d["field"] for d in refused.json()["details"]] == ["slug"]
    created = personas.client("member").post(
        "/api/projects", {"name": "Docs", "key": "DOCS", "slug": "docs-2"}, format="json"
    )
    assert created.status_code == 201


def test_create_project_validation_errors_have_details(personas):
    response = personas.client("member").post("/api/projects", {}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "error": "Validation failed",
        "details": [{"field": "name", "message": "Name is required"}, {"field": "key", "message": "Key is required"}],
    }
    bad_key = personas.client("member").post("/api/projects", {"name": "X", "key": "x"}, format="json")
    assert bad_key.status_code == 400
    assert [d["field"] for d in bad_key.json()["details"]] == ["key"]
    taken = personas.client("member").post("/api/projects", {"name": "Other", "key": "BLOG"}, format="json")
    assert taken.status_code == 400
    assert [d["field"] for d in taken.json()["details"]] == ["key"]


@pytest.mark.parametrize("by", ["id", "key"])
def test_get_project_by_id_or_key_needs_membership(personas, by):
    assert personas.matrix("get", project_url(personas, by=by)) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }
    response = personas.client("member").get(project_url(personas, by=by))
    same_shape(response.json(), PROJECT_EXAMPLE)


def test_unknown_project_is_404(personas):
    assert personas.client("owner").get("/api/projects/999999").status_code == 404
    assert personas.client("owner").get("/api/projects/99999999999999999999").status_code == 404
    assert personas.client("owner").get("/api/projects/NOPE").status_code == 404
    assert personas.client("owner").get(project_url(personas, "/tickets/99999999999999999999")).status_code == 404
    assert personas.client("owner").get(project_url(personas, "/tickets/NOPE-1")).status_code == 404


def test_update_project_needs_admin_or_owner(personas):
    assert personas.matrix("patch", project_url(personas), UPDATE_PROJECT_BODY) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 403,
        "admin": 200,
        "owner": 200,
    }
    response = personas.client("admin").patch(project_url(personas), UPDATE_PROJECT_BODY, format="json")
    same_shape(response.json(), PROJECT_EXAMPLE)
    assert {k: response.json()[k] for k in UPDATE_PROJECT_BODY} == UPDATE_PROJECT_BODY


def test_project_key_cannot_change(personas):
    response = personas.client("owner").patch(project_url(personas), {"key": "NEW"}, format="json")
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "key"
    personas.project.refresh_from_db()
    assert personas.project.key == "BLOG"
    same = personas.client("owner").patch(project_url(personas), {"key": "BLOG", "name": "Blog 2"}, format="json")
    assert same.status_code == 200


def test_delete_project_is_owner_only_and_permanent(personas):
    TicketFactory(project=personas.project)
    LabelFactory(project=personas.project)
    assert personas.matrix("delete", project_url(personas)) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 403,
        "admin": 403,
        "owner": 200,
    }
    assert not Project.objects.filter(pk=personas.project.pk).exists()
    assert not Ticket.objects.filter(project_id=personas.project.pk).exists()
    assert not Label.objects.filter(project_id=personas.project.pk).exists()
    assert personas.client("owner").get(project_url(personas)).status_code == 404


# --------------------------------------------------------------------------- columns


def test_columns_match_the_example(personas):
    response = personas.client("viewer").get(project_url(personas, "/columns"))
    assert response.status_code == 200
    same_shape(response.json(), COLUMNS_EXAMPLE)
    assert [(c["name"], c["order"]) for c in response.json()] == [("To Do", 0), ("In Progress", 1), ("Done", 2)]


def test_columns_are_created_on_first_read(personas):
    project = Project.objects.create(
        owner_user=personas.owner, name="Bare", path="bare", key="BARE", slug="bare", color="#3B82F6"
    )
    project.memberships.create(user=personas.owner, role="owner")
    assert not Column.objects.filter(project=project).exists()
    response = personas.client("owner").get(f"/api/projects/{project.pk}/columns")
    assert [c["name"] for c in response.json()] == ["To Do", "In Progress", "Done"]
    assert Column.objects.filter(project=project).count() == 3


def test_columns_role_matrix(personas):
    assert personas.matrix("get", project_url(personas, "/columns")) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


# --------------------------------------------------------------------------- members


def test_members_match_the_example(personas):
    response = personas.client("viewer").get(project_url(personas, "/members"))
    assert response.status_code == 200
    same_shape(response.json(), MEMBERS_EXAMPLE)
    rows = {m["user"]["username"]: m for m in response.json()}
    assert {name: row["role"] for name, row in rows.items()} == {
        "olivia": "owner",
        "adam": "admin",
        "mary": "member",
        "victor": "viewer",
    }
    mary = rows["mary"]
    assert mary["userId"] == str(personas.member.pk) == mary["user"]["id"]
    assert mary["projectId"] == str(personas.project.pk)
    assert mary["user"]["avatar"] is None


def test_members_are_managed_by_admins_except_the_owner(personas):
    new = UserFactory(username="nina")
    assert personas.matrix(
        "post",
        project_url(personas, "/members"),
        {"userId": str(new.pk), "role": "member"},
        fresh=lambda: new.memberships.all().delete(),
    ) == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 403, "admin": 201, "owner": 201}
    membership = new.memberships.get()
    url = project_url(personas, f"/members/{membership.pk}")
    assert personas.client("admin").patch(url, {"role": "viewer"}, format="json").json()["role"] == "viewer"
    owner_row = personas.project.memberships.get(role="owner")
    refused = personas.client("admin").patch(
        project_url(personas, f"/members/{owner_row.pk}"), {"role": "member"}, format="json"
    )
    assert refused.status_code == 403
    assert personas.client("admin").delete(url).json() == {"success": True}
    assert not new.memberships.exists()


# --------------------------------------------------------------------------- labels


def test_labels_match_the_example_and_create_with_the_documents_body(personas):
    LabelFactory(project=personas.project, name="bug", color="#EF4444")
    response = personas.client("viewer").get(project_url(personas, "/labels"))
    assert response.status_code == 200
    same_shape(response.json(), LABELS_EXAMPLE)
    created = personas.client("member").post(project_url(personas, "/labels"), CREATE_LABEL_BODY, format="json")
    assert created.status_code == 201
    same_shape(created.json(), LABELS_EXAMPLE[0])
    assert created.json()["name"] == "documentation" and created.json()["color"] == "#3B82F6"


def test_label_without_colour_gets_one(personas):
    response = personas.client("member").post(project_url(personas, "/labels"), {"name": "ops"}, format="json")
    assert response.status_code == 201
    color = response.json()["color"]
    assert color.startswith("#") and len(color) == 7


def test_label_roles(personas):
    assert personas.matrix("post", project_url(personas, "/labels"), lambda role: {"name": f"l-{role}"}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 201,
        "admin": 201,
        "owner": 201,
    }


def test_delete_label(personas):
    label = LabelFactory(project=personas.project, name="gone")
    url = project_url(personas, f"/labels/{label.pk}")
    assert personas.client("viewer").delete(url).status_code == 403
    response = personas.client("member").delete(url)
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert personas.client("member").delete(url).status_code == 404


# --------------------------------------------------------------------------- tickets (seed 000 style)


def test_create_ticket_with_the_documents_body(personas):
    response = personas.client("member").post(project_url(personas, "/tickets"), TICKET_BODY, format="json")
    assert response.status_code == 201
    body = response.json()
    same_shape({k: body[k] for k in TICKET_RESPONSE_EXAMPLE}, TICKET_RESPONSE_EXAMPLE)
    assert body["title"] == "My new ticket" and body["type"] == "Task" and body["priority"] == "Medium"
    assert body["key"] == "BLOG-1" and body["number"] == 1
    assert body["projectId"] == str(personas.project.pk)
    assert body["creatorId"] == str(personas.member.pk)
    assert body["status"] == "todo"
    assert isinstance(body["id"], str)


def test_ticket_defaults_are_task_and_medium(personas):
    response = personas.client("member").post(project_url(personas, "/tickets"), {"title": "Bare"}, format="json")
    assert (response.json()["type"], response.json()["priority"]) == ("Task", "Medium")


def test_missing_title_is_the_documents_error(personas):
    response = personas.client("member").post(project_url(personas, "/tickets"), {"type": "Task"}, format="json")
    assert response.status_code == 400
    assert response.json() == ERROR_EXAMPLE


def test_unknown_type_is_a_field_error(personas):
    response = personas.client("member").post(
        project_url(personas, "/tickets"), {"title": "x", "type": "Chore"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "type"


def test_service_errors_name_punt_fields(personas):
    url = project_url(personas, "/tickets")
    for body, field in [
        ({"title": "x", "assigneeId": str(personas.outsider.pk)}, "assigneeId"),
        ({"title": "x", "parentId": "999999"}, "parentId"),
        ({"title": "x", "labelIds": ["999999"]}, "labelIds"),
        ({"title": "x", "dueDate": "soon"}, "dueDate"),
        ({"title": "x", "columnId": "999999"}, "columnId"),
        ({"title": "x", "sprintId": "999999"}, "sprintId"),
    ]:
        response = personas.client("member").post(url, body, format="json")
        assert response.status_code == 400, body
        assert response.json()["details"][0]["field"] == field, body
    sprint = personas.client("member").post(
        project_url(personas, "/sprints"), {"name": "S", "startDate": "2024-02-01", "endDate": "2024-01-01"}
    )
    assert sprint.json()["details"][0]["field"] == "endDate"


def test_ticket_roles(personas):
    assert personas.matrix("post", project_url(personas, "/tickets"), TICKET_BODY) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 201,
        "admin": 201,
        "owner": 201,
    }
    assert personas.matrix("get", project_url(personas, "/tickets")) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_ticket_list_get_update_move_delete(personas):
    client = personas.client("member")
    label = LabelFactory(project=personas.project, name="bug")
    created = client.post(
        project_url(personas, "/tickets"),
        {
            "title": "Fix it",
            "type": "Bug",
            "priority": "High",
            "labelIds": [str(label.pk)],
            "assigneeId": str(personas.member.pk),
        },
        format="json",
    ).json()
    assert created["labels"] == [{"id": str(label.pk), "name": "bug", "color": "#EF4444"}]
    assert created["assignee"]["username"] == "mary"
    listed = client.get(project_url(personas, "/tickets")).json()
    assert [t["key"] for t in listed] == ["BLOG-1"]
    assert client.get(project_url(personas, "/tickets?type=Bug")).json()[0]["key"] == "BLOG-1"
    assert client.get(project_url(personas, "/tickets?priority=Low")).json() == []
    for ident in (created["id"], "BLOG-1"):
        assert client.get(project_url(personas, f"/tickets/{ident}")).json()["title"] == "Fix it"
    done = personas.project.columns.get(category="done")
    patched = client.patch(
        project_url(personas, "/tickets/BLOG-1"),
        {
            "priority": "Urgent",
            "description": "Steps",
            "columnId": str(done.pk),
            "storyPoints": 3,
            "dueDate": "2024-02-01",
        },
        format="json",
    )
    assert patched.status_code == 200
    body = patched.json()
    assert (body["priority"], body["description"], body["columnId"], body["status"]) == (
        "Urgent",
        "Steps",
        str(done.pk),
        "done",
    )
    assert body["storyPoints"] == 3 and body["dueDate"] == "2024-02-01T00:00:00.000Z"
    assert ISO_MS.match(body["resolvedAt"])
    assert client.patch(project_url(personas, "/tickets/BLOG-1"), {"title": ""}, format="json").status_code == 400
    deleted = client.delete(project_url(personas, "/tickets/BLOG-1"))
    assert deleted.status_code == 200 and deleted.json() == {"success": True}
    assert client.get(project_url(personas, "/tickets/BLOG-1")).status_code == 404
    assert personas.client("viewer").delete(project_url(personas, f"/tickets/{created['id']}")).status_code == 403


def test_ticket_writes_role_matrix(personas):
    ticket = TicketFactory(project=personas.project)
    url = project_url(personas, f"/tickets/{ticket.pk}")
    assert personas.matrix("patch", url, {"priority": "High"}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


# --------------------------------------------------------------------------- sprints


def test_sprints_lifecycle(personas):
    client = personas.client("member")
    created = client.post(
        project_url(personas, "/sprints"),
        {"name": "Sprint 1", "goal": "Ship", "startDate": "2024-01-15", "endDate": "2024-01-29T00:00:00.000Z"},
        format="json",
    )
    assert created.status_code == 201
    sprint = created.json()
    assert sprint["status"] == "planning"
    assert sprint["startDate"] == "2024-01-15T00:00:00.000Z" and sprint["endDate"] == "2024-01-29T00:00:00.000Z"
    assert ISO_MS.match(sprint["createdAt"]) and sprint["ticketCount"] == 0
    ticket = client.post(
        project_url(personas, "/tickets"), {"title": "In sprint", "sprintId": sprint["id"]}, format="json"
    )
    assert ticket.json()["sprintId"] == sprint["id"]
    assert [s["name"] for s in client.get(project_url(personas, "/sprints")).json()] == ["Sprint 1"]
    url = project_url(personas, f"/sprints/{sprint['id']}")
    assert client.patch(url, {"goal": "Ship it"}, format="json").json()["goal"] == "Ship it"
    assert client.post(f"{url}/start").json()["status"] == "active"
    assert client.post(f"{url}/start").status_code == 409
    completed = client.post(f"{url}/complete", {}, format="json")
    assert completed.status_code == 200
    assert completed.json()["sprint"]["status"] == "completed" and completed.json()["movedTickets"] == 1
    assert client.delete(url).json() == {"success": True}
    assert not Sprint.objects.filter(pk=int(sprint["id"])).exists()


def test_sprint_roles(personas):
    assert personas.matrix("post", project_url(personas, "/sprints"), {"name": "S"}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 201,
        "admin": 201,
        "owner": 201,
    }


def test_sprint_missing_name(personas):
    response = personas.client("member").post(project_url(personas, "/sprints"), {}, format="json")
    assert response.json() == {
        "error": "Validation failed",
        "details": [{"field": "name", "message": "Name is required"}],
    }


# --------------------------------------------------------------------------- admin


@pytest.fixture
def site_admin(db):
    return UserFactory(username="root", is_staff=True)


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_admin_users_is_for_site_admins(personas, site_admin):
    assert personas.client("anonymous").get("/api/admin/users").status_code == 401
    assert personas.client("owner").get("/api/admin/users").status_code == 403
    response = _client(site_admin).get("/api/admin/users")
    assert response.status_code == 200
    rows = {u["username"]: u for u in response.json()}
    assert rows["root"]["isSystemAdmin"] is True and rows["mary"]["isSystemAdmin"] is False
    assert ISO_MS.match(rows["mary"]["createdAt"])


def test_admin_creates_and_updates_users(personas, site_admin):
    client = _client(site_admin)
    created = client.post(
        "/api/admin/users",
        {"username": "newbie", "email": "n@example.com", "password": "a long enough passphrase", "name": "New"},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["name"] == "New" and created.json()["isActive"] is True
    url = f"/api/admin/users/{created.json()['id']}"
    updated = client.patch(url, {"isSystemAdmin": True, "isActive": False}, format="json")
    assert updated.status_code == 200
    assert updated.json()["isSystemAdmin"] is True and updated.json()["isActive"] is False
    assert User.objects.get(username="newbie").is_staff
    assert client.get("/api/admin/users/999999").status_code == 404
    assert personas.client("owner").patch(url, {"isActive": True}, format="json").status_code == 403


def test_admin_settings(personas, site_admin):
    client = _client(site_admin)
    response = client.get("/api/admin/settings")
    assert response.status_code == 200
    assert set(response.json()) == {
        "siteName",
        "registrationOpen",
        "maxUploadSize",
        "allowedFileTypes",
        "defaultMemberRole",
        "webhooksAllowPrivate",
        "updatedAt",
    }
    changed = client.patch(
        "/api/admin/settings", {"siteName": "Tracker", "allowedFileTypes": ["image/*"]}, format="json"
    )
    assert changed.status_code == 200
    assert changed.json()["siteName"] == "Tracker" and changed.json()["allowedFileTypes"] == ["image/*"]
    bad = client.patch("/api/admin/settings", {"maxUploadSize": 1}, format="json")
    assert bad.status_code == 400 and bad.json()["details"][0]["field"] == "maxUploadSize"
    assert personas.client("admin").get("/api/admin/settings").status_code == 403


# --------------------------------------------------------------------------- upload


def _png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    return SimpleUploadedFile("dot.png", buffer.getvalue(), content_type="image/png")


def test_upload_config(personas):
    response = personas.client("viewer").get("/api/upload/config")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"maxSize", "allowedTypes", "maxImagePixels"}
    assert isinstance(body["maxSize"], int) and isinstance(body["allowedTypes"], list)
    assert personas.client("anonymous").get("/api/upload/config").status_code == 401


def test_upload_to_a_ticket(personas):
    TicketFactory(project=personas.project)
    data = {"projectId": "BLOG", "ticketId": "BLOG-1"}
    response = personas.client("member").post("/api/upload", {**data, "file": _png()}, format="multipart")
    assert response.status_code == 201
    body = response.json()
    assert body["filename"] == "dot.png" and body["mimetype"] == "image/png" and body["size"] > 0
    assert body["url"].startswith("/api/v1/projects/blog/attachments/")
    assert (
        personas.client("viewer").post("/api/upload", {**data, "file": _png()}, format="multipart").status_code == 403
    )
    assert (
        personas.client("outsider").post("/api/upload", {**data, "file": _png()}, format="multipart").status_code == 404
    )
    missing = personas.client("member").post("/api/upload", data, format="multipart")
    assert missing.status_code == 400 and missing.json()["details"][0]["field"] == "file"


def test_upload_types_follow_the_admin_setting(personas, site_admin):
    # The default list takes the files teams attach (a CSV here); an empty list takes any type.
    TicketFactory(project=personas.project)
    data = {"projectId": "BLOG", "ticketId": "BLOG-1"}
    member = personas.client("member")
    config = member.get("/api/upload/config").json()
    assert {"text/csv", "application/gzip", "video/mp4"} <= set(config["allowedTypes"])
    csv = SimpleUploadedFile("hours.csv", b"name,hours\nmary,3\n", content_type="text/csv")
    response = member.post("/api/upload", {**data, "file": csv}, format="multipart")
    assert response.status_code == 201 and response.json()["mimetype"] == "text/csv"
    exe = SimpleUploadedFile("setup.exe", b"MZ\x90\x00", content_type="application/x-msdownload")
    refused = member.post("/api/upload", {**data, "file": exe}, format="multipart")
    assert refused.status_code == 400 and refused.json()["details"][0]["field"] == "file"

    admin = _client(site_admin)
    assert admin.patch("/api/admin/settings", {"allowedFileTypes": []}, format="json").json()["allowedFileTypes"] == []
    assert member.get("/api/upload/config").json()["allowedTypes"] == []
    exe.seek(0)
    accepted = member.post("/api/upload", {**data, "file": exe}, format="multipart")
    assert accepted.status_code == 201 and accepted.json()["mimetype"] == "application/x-msdownload"
    download = member.get(accepted.json()["url"])
    assert download["Content-Disposition"] == 'attachment; filename="setup.exe"'
    assert download["X-Content-Type-Options"] == "nosniff"


# --------------------------------------------------------------------------- SSE (seed 001), built in punt/realtime


# The stream's view runs its queries through database_sync_to_async, which closes connections
# a test transaction would hold: a transactional test database, as in tests/realtime/.
@pytest.mark.django_db(transaction=True)
def test_project_sse_accepts_the_same_project_ids(personas):
    assert APIClient().get(project_url(personas, "/events")).status_code == 401
    outsider = APIClient()
    outsider.force_login(personas.outsider)
    assert outsider.get(project_url(personas, "/events", by="key")).status_code == 404
    assert outsider.get(project_url(personas, "/events")).status_code == 404


# --------------------------------------------------------------------------- query counts


def test_lists_cost_the_same_number_of_queries_whatever_their_length(personas, site_admin):
    def grow(count: int) -> None:
        for _ in range(count):
            label = LabelFactory(project=personas.project)
            sprint = SprintFactory(project=personas.project)
            ticket = TicketFactory(project=personas.project, assignee=personas.member, sprint=sprint)
            ticket.labels.add(label)
            MembershipFactory(project=personas.project, user=UserFactory())
            MembershipFactory(project=ProjectFactory(owner_user=personas.owner), user=personas.member)

    member = personas.client("member")
    lists = [
        "/api/projects",
        *(project_url(personas, f"/{name}") for name in ("tickets", "members", "labels", "sprints", "columns")),
    ]
    grow(1)
    before = {url: query_count(member, url) for url in lists}
    before["/api/admin/users"] = query_count(_client(site_admin), "/api/admin/users")
    grow(4)
    after = {url: query_count(member, url) for url in lists}
    after["/api/admin/users"] = query_count(_client(site_admin), "/api/admin/users")
    assert after == before
