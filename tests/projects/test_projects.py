from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from projects import services
from projects.models import Column, Membership, OrganizationMembership, Project
from tests.factories import OrganizationFactory, ProjectFactory, TicketFactory, UserFactory

URL = "/api/v1/projects"


def detail(personas) -> str:
    return f"{URL}/{personas.project.slug}"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --------------------------------------------------------------------------- role matrices


def test_list_matrix(personas):
    assert personas.matrix("GET", URL) == {
        "anonymous": 401,
        "outsider": 200,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_create_matrix(personas):
    # Anyone signed in may create a project in their own namespace.
    statuses = personas.matrix("POST", URL, lambda role: {"name": f"New {role}", "key": f"N{role[:4].upper()}"})
    assert statuses == {"anonymous": 401, "outsider": 201, "viewer": 201, "member": 201, "admin": 201, "owner": 201}


def test_detail_matrix(personas):
    assert personas.matrix("GET", detail(personas)) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_update_matrix(personas):
    assert personas.matrix("PUT", detail(personas), {"description": "Ours"}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 403,
        "admin": 200,
        "owner": 200,
    }


def test_archive_matrix(personas):
    assert personas.matrix("DELETE", detail(personas)) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 403,
        "admin": 403,
        "owner": 204,
    }


def test_restore_matrix(personas):
    services.project_archive(project=personas.project, by=personas.owner)
    assert personas.matrix("POST", detail(personas) + "/restore") == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 403,
        "admin": 403,
        "owner": 200,
    }


# --------------------------------------------------------------------------- create


def test_create_returns_the_whole_project_and_sets_up_owner_and_columns(db):
    alice = UserFactory(username="alice")
    response = client_for(alice).post(URL, {"name": "My Blog", "key": "BLOG", "description": "Posts"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    project = Project.objects.get(key="BLOG")
    assert body == {
        "id": project.pk,
        "key": "BLOG",
        "slug": "blog",
        "name": "My Blog",
        "path": "my-blog",
        "namespace": "alice",
        "namespace_kind": "user",
        "description": "Posts",
        "color": body["color"],
        "role": "owner",
        "member_count": 1,
        "open_ticket_count": 0,
        "archived_at": None,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert body["color"] in services.PALETTE
    assert project.memberships.get().role == Membership.Role.OWNER
    assert project.created_by == alice
    assert [(c.name, c.category, c.order) for c in project.columns.all()] == [
        ("To Do", Column.Category.TODO, 0),
        ("In Progress", Column.Category.IN_PROGRESS, 1),
        ("Done", Column.Category.DONE, 2),
    ]


@pytest.mark.parametrize("key", ["A", "ABCDEFGHIJK", "1ABC", "ab", "Proj", "PR-1", "PR 1", ""])
def test_bad_keys_are_400_in_the_error_shape(db, key):
    alice = UserFactory(username="alice")
    response = client_for(alice).post(URL, {"name": "Thing", "key": key}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Validation failed"
    assert [d["field"] for d in body["details"]] == ["key"]
    assert not Project.objects.exists()


@pytest.mark.parametrize("key", ["AB", "ABCDEFGHIJ", "A1", "X9Y8"])
def test_good_keys(db, key):
    response = client_for(UserFactory()).post(URL, {"name": "Thing", "key": key}, format="json")
    assert response.status_code == 201
    assert response.json()["slug"] == key.lower()


def test_key_is_unique_site_wide(personas):
    response = client_for(personas.outsider).post(URL, {"name": "Other", "key": "BLOG"}, format="json")
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "key"


def test_a_slug_taken_by_a_concurrent_create_is_a_400_naming_slug(personas, monkeypatch):
    # The check passed, then another create took the slug before the insert: the index decides.
    monkeypatch.setattr("projects.services.projects.slug_validate", lambda slug, default=False: "blog")
    response = client_for(personas.member).post(URL, {"name": "Racer", "key": "RACE", "slug": "blog"}, format="json")
    assert response.status_code == 400
    assert response.json()["details"] == [
        {"field": "slug", "message": "The URL slug 'blog' was just taken; choose another."}
    ]
    assert not Project.objects.filter(key="RACE").exists()


def test_name_unique_in_namespace_case_insensitive(personas):
    client = client_for(personas.owner)
    response = client.post(URL, {"name": "BLOG", "key": "BLOG2"}, format="json")
    assert response.status_code == 400
    assert response.json()["details"] == [
        {"field": "name", "message": "A project named 'BLOG' already exists in this namespace."}
    ]
    # Another namespace may reuse the name.
    assert client_for(personas.outsider).post(URL, {"name": "Blog", "key": "BLOG3"}, format="json").status_code == 201


def test_names_that_slugify_alike_clash_on_path(db):
    client = client_for(UserFactory())
    assert client.post(URL, {"name": "My Blog", "key": "MB"}, format="json").status_code == 201
    response = client.post(URL, {"name": "My-Blog", "key": "MB2"}, format="json")
    assert response.status_code == 400
    assert "my-blog" in response.json()["details"][0]["message"]


def test_colour_is_validated_and_normalised(db):
    client = client_for(UserFactory())
    response = client.post(URL, {"name": "A", "key": "AA", "color": "red"}, format="json")
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "color"
    response = client.post(URL, {"name": "A", "key": "AA", "color": "#ef4444"}, format="json")
    assert response.status_code == 201
    assert response.json()["color"] == "#EF4444"


def test_missing_fields_are_400(db):
    response = client_for(UserFactory()).post(URL, {}, format="json")
    assert response.status_code == 400
    assert {d["field"] for d in response.json()["details"]} == {"name", "key"}


# --------------------------------------------------------------------------- namespaces


def test_create_in_an_org_needs_owner_or_admin_there(db):
    org = OrganizationFactory(slug="acme")
    boss, helper, staffer = UserFactory(), UserFactory(), UserFactory()
    OrganizationMembership.objects.create(organization=org, user=boss, role=OrganizationMembership.Role.OWNER)
    OrganizationMembership.objects.create(organization=org, user=helper, role=OrganizationMembership.Role.ADMIN)
    OrganizationMembership.objects.create(organization=org, user=staffer, role=OrganizationMembership.Role.MEMBER)

    response = client_for(boss).post(URL, {"name": "Site", "key": "SITE", "namespace": "ACME"}, format="json")
    assert response.status_code == 201
    assert (response.json()["namespace"], response.json()["namespace_kind"]) == ("acme", "org")
    assert Project.objects.get(key="SITE").organization == org

    ok = client_for(helper).post(URL, {"name": "Docs", "key": "DOCS", "namespace": "acme"}, format="json")
    assert ok.status_code == 201
    refused = client_for(staffer).post(URL, {"name": "Ops", "key": "OPS", "namespace": "acme"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["details"][0]["field"] == "namespace"
    # Names are unique per namespace: the org's "Site" does not block a user's "Site".
    mine = client_for(staffer).post(URL, {"name": "Site", "key": "SITE2"}, format="json")
    assert mine.status_code == 201


def test_create_in_someone_elses_user_namespace_is_refused(personas):
    response = client_for(personas.member).post(
        URL, {"name": "Sneaky", "key": "SNK", "namespace": "olivia"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "namespace"
    assert not Project.objects.filter(key="SNK").exists()


# --------------------------------------------------------------------------- list


def test_list_shows_only_visible_projects_with_the_callers_role(personas):
    ProjectFactory(name="Hidden", key="HID")
    response = personas.client("viewer").get(URL)
    assert [(p["key"], p["role"]) for p in response.json()] == [("BLOG", "viewer")]
    assert personas.client("outsider").get(URL).json() == []


def test_site_admin_sees_every_project_as_admin(personas):
    ProjectFactory(name="Hidden", key="HID")
    staff = UserFactory(is_staff=True)
    response = client_for(staff).get(URL)
    assert sorted((p["key"], p["role"]) for p in response.json()) == [("BLOG", "admin"), ("HID", "admin")]


def test_list_query_count_does_not_grow(personas, django_assert_max_num_queries):
    client = personas.client("owner")
    with django_assert_max_num_queries(3) as small:
        assert len(client.get(URL).json()) == 1
    for n in range(8):
        project = ProjectFactory(name=f"More {n}", key=f"MORE{n}")
        Membership.objects.create(project=project, user=personas.owner, role=Membership.Role.ADMIN)
        TicketFactory(project=project)
    with django_assert_max_num_queries(len(small.captured_queries)):
        body = client.get(URL).json()
    assert len(body) == 9
    assert {p["open_ticket_count"] for p in body if p["key"].startswith("MORE")} == {1}
    assert {p["member_count"] for p in body if p["key"].startswith("MORE")} == {2}


# --------------------------------------------------------------------------- update


def test_update_renames_and_recomputes_path(personas):
    response = personas.client("admin").put(detail(personas), {"name": "Dev Log", "color": "#22c55e"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["path"], body["color"], body["key"]) == ("Dev Log", "dev-log", "#22C55E", "BLOG")


def test_key_is_immutable(personas):
    client = personas.client("owner")
    response = client.put(detail(personas), {"key": "NEWK", "name": "Changed"}, format="json")
    assert response.status_code == 400
    assert response.json()["details"] == [
        {"field": "key", "message": "The project key cannot be changed after creation."}
    ]
    personas.project.refresh_from_db()
    assert (personas.project.key, personas.project.name) == ("BLOG", "Blog")
    # Sending the same key back is fine (a full PUT of what GET returned).
    assert client.put(detail(personas), {"key": "BLOG", "name": "Blog 2"}, format="json").status_code == 200


def test_rename_onto_a_sibling_is_400(personas):
    ProjectFactory(owner_user=personas.owner, created_by=personas.owner, name="Shop", key="SHOP")
    response = personas.client("owner").put(detail(personas), {"name": "shop"}, format="json")
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "name"


def test_update_publishes_an_event(personas, published):
    personas.client("owner").put(detail(personas), {"description": "x"}, format="json", HTTP_X_TAB_ID="tab-1")
    [call] = published.named("project.updated")
    assert (call["project_id"], call["tab_id"], call["actor_id"]) == (
        personas.project.pk,
        "tab-1",
        personas.owner.pk,
    )


# --------------------------------------------------------------------------- archive and restore


def test_archive_hides_and_restore_brings_back(personas):
    owner = personas.client("owner")
    assert owner.delete(detail(personas)).status_code == 204
    personas.project.refresh_from_db()
    assert personas.project.archived_at is not None
    assert owner.get(URL).json() == []
    archived = owner.get(URL + "?archived=true").json()
    assert [(p["key"], p["archived_at"] is not None) for p in archived] == [("BLOG", True)]
    # The archived project is read-only until restored.
    assert owner.get(detail(personas)).status_code == 200
    refused = owner.put(detail(personas), {"description": "x"}, format="json")
    assert refused.status_code == 409
    assert "archived" in refused.json()["error"]
    assert personas.client("member").post(detail(personas) + "/labels", {"name": "x"}, format="json").status_code == 409
    assert owner.delete(detail(personas)).status_code == 409

    response = owner.post(detail(personas) + "/restore")
    assert response.status_code == 200
    assert response.json()["archived_at"] is None
    assert [p["key"] for p in owner.get(URL).json()] == ["BLOG"]
    assert owner.post(detail(personas) + "/restore").status_code == 409


def test_archived_list_only_has_the_callers(personas):
    other = ProjectFactory(name="Other", key="OTH")
    services.project_archive(project=other, by=other.created_by)
    services.project_archive(project=personas.project, by=personas.owner)
    assert [p["key"] for p in personas.client("viewer").get(URL + "?archived=true").json()] == ["BLOG"]
    assert personas.client("outsider").get(URL + "?archived=true").json() == []


def test_project_delete_removes_everything(personas, published):
    TicketFactory(project=personas.project)
    services.project_delete(project=personas.project, by=personas.owner)
    assert not Project.objects.filter(key="BLOG").exists()
    assert not Column.objects.filter(project_id=personas.project.pk).exists()
    [call] = published.named("project.deleted")
    assert personas.member.pk in call["user_ids"]


# --------------------------------------------------------------------------- API keys


def test_api_key_scopes(personas, api_key_client):
    tickets_only = api_key_client(personas.owner, ["tickets:read"])
    response = tickets_only.post(URL, {"name": "Via key", "key": "KEY"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"error": "This API key lacks the 'projects:write' scope."}
    assert tickets_only.put(detail(personas), {"description": "x"}, format="json").status_code == 403
    assert tickets_only.get(URL).status_code == 403

    reader = api_key_client(personas.owner, ["projects:read"])
    assert reader.get(detail(personas)).status_code == 200
    assert reader.put(detail(personas), {"description": "x"}, format="json").status_code == 403

    writer = api_key_client(personas.owner, ["projects:write"])
    assert writer.put(detail(personas), {"description": "via key"}, format="json").status_code == 200
    # A key never has more rights than its owner.
    viewer_key = api_key_client(personas.viewer, [])
    assert viewer_key.put(detail(personas), {"description": "x"}, format="json").status_code == 403


def test_detail_query_count_does_not_grow(personas, django_assert_max_num_queries):
    client = personas.client("viewer")
    with django_assert_max_num_queries(3) as small:
        assert client.get(detail(personas)).json()["member_count"] == 4
    for _ in range(6):
        Membership.objects.create(project=personas.project, user=UserFactory(), role=Membership.Role.MEMBER)
        TicketFactory(project=personas.project)
    with django_assert_max_num_queries(len(small.captured_queries)):
        body = client.get(detail(personas)).json()
    assert (body["member_count"], body["open_ticket_count"]) == (10, 6)
