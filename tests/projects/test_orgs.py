from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from projects.models import Organization, OrganizationMembership, Project
from tests.factories import OrganizationFactory, ProjectFactory, UserFactory

URL = "/api/v1/orgs"
OrgRole = OrganizationMembership.Role
ORG_ROLES = ["anonymous", "outsider", "member", "admin", "owner"]


class OrgPersonas:
    """Organization "acme" with one person per org role, plus an outsider."""

    def __init__(self) -> None:
        self.org = OrganizationFactory(slug="acme", name="Acme")
        self.people = {"outsider": UserFactory(username="oscar")}
        for role, name in (("owner", "otto"), ("admin", "ada"), ("member", "mo")):
            user = UserFactory(username=name)
            OrganizationMembership.objects.create(organization=self.org, user=user, role=role)
            self.people[role] = user

    def client(self, role: str) -> APIClient:
        client = APIClient()
        if role != "anonymous":
            client.force_authenticate(self.people[role])
        return client

    def matrix(self, method: str, url, data=None, *, fresh=None) -> dict[str, int]:
        statuses = {}
        for role in ORG_ROLES:
            if fresh is not None:
                fresh()
            target = url(role) if callable(url) else url
            body = data(role) if callable(data) else data
            statuses[role] = getattr(self.client(role), method.lower())(target, body, format="json").status_code
        return statuses


@pytest.fixture
def acme(db) -> OrgPersonas:
    return OrgPersonas()


def roles(org: Organization) -> dict[str, str]:
    return dict(org.memberships.values_list("user__username", "role"))


# --------------------------------------------------------------------------- role matrices


def test_list_matrix(acme):
    assert acme.matrix("GET", URL) == {"anonymous": 401, "outsider": 200, "member": 200, "admin": 200, "owner": 200}


def test_create_matrix(acme):
    statuses = acme.matrix("POST", URL, lambda role: {"slug": f"org-{role}"})
    assert statuses == {"anonymous": 401, "outsider": 201, "member": 201, "admin": 201, "owner": 201}


def test_detail_matrix(acme):
    assert acme.matrix("GET", f"{URL}/acme") == {
        "anonymous": 401,
        "outsider": 404,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_update_matrix(acme):
    assert acme.matrix("PUT", f"{URL}/acme", {"name": "Acme Inc"}) == {
        "anonymous": 401,
        "outsider": 404,
        "member": 403,
        "admin": 200,
        "owner": 200,
    }


def test_delete_matrix(acme):
    assert acme.matrix("DELETE", f"{URL}/acme") == {
        "anonymous": 401,
        "outsider": 404,
        "member": 403,
        "admin": 403,
        "owner": 204,
    }
    assert not Organization.objects.filter(slug="acme").exists()


def test_members_list_matrix(acme):
    assert acme.matrix("GET", f"{URL}/acme/members") == {
        "anonymous": 401,
        "outsider": 404,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_members_add_matrix(acme):
    for role in ORG_ROLES:
        UserFactory(username=f"join-{role}")
    statuses = acme.matrix("POST", f"{URL}/acme/members", lambda role: {"username": f"join-{role}"})
    assert statuses == {"anonymous": 401, "outsider": 404, "member": 403, "admin": 201, "owner": 201}


def test_members_update_matrix(acme):
    target = UserFactory(username="tia")

    def fresh() -> None:
        OrganizationMembership.objects.update_or_create(
            organization=acme.org, user=target, defaults={"role": OrgRole.MEMBER}
        )

    statuses = acme.matrix("PUT", f"{URL}/acme/members/tia", {"role": "admin"}, fresh=fresh)
    assert statuses == {"anonymous": 401, "outsider": 404, "member": 403, "admin": 200, "owner": 200}


def test_members_remove_matrix(acme):
    target = UserFactory(username="tia")

    def fresh() -> None:
        OrganizationMembership.objects.get_or_create(organization=acme.org, user=target)

    statuses = acme.matrix("DELETE", f"{URL}/acme/members/tia", fresh=fresh)
    assert statuses == {"anonymous": 401, "outsider": 404, "member": 403, "admin": 204, "owner": 204}


# --------------------------------------------------------------------------- rules


def test_create_shape_and_creator_is_owner(db):
    alice = UserFactory(username="alice")
    client = APIClient()
    client.force_authenticate(alice)
    response = client.post(URL, {"slug": "Widgets", "name": "Widgets Ltd"}, format="json")
    assert response.status_code == 201
    body = response.json()
    org = Organization.objects.get(slug="widgets")
    assert body == {
        "id": org.pk,
        "slug": "widgets",
        "name": "Widgets Ltd",
        "description": "",
        "role": "owner",
        "member_count": 1,
        "project_count": 0,
        "default_project_id": None,
        "created_at": body["created_at"],
    }
    assert roles(org) == {"alice": "owner"}
    assert [o["slug"] for o in client.get(URL).json()] == ["widgets"]


@pytest.mark.parametrize("slug", ["OSCAR", "oscar", "acme", "ACME"])
def test_org_slugs_share_the_namespace_with_user_names(acme, slug):
    response = acme.client("outsider").post(URL, {"slug": slug}, format="json")
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "slug"
    assert "already taken" in response.json()["details"][0]["message"]


@pytest.mark.parametrize("slug", ["", "-x", "x-", "a b", "a_b", "é"])
def test_bad_slugs(acme, slug):
    assert acme.client("outsider").post(URL, {"slug": slug}, format="json").status_code == 400


def test_slug_is_immutable(acme):
    response = acme.client("owner").put(f"{URL}/acme", {"slug": "other", "name": "X"}, format="json")
    assert response.status_code == 400
    assert Organization.objects.get(pk=acme.org.pk).name == "Acme"


def test_org_with_projects_cannot_be_deleted(acme):
    ProjectFactory(owner_user=None, organization=acme.org, created_by=acme.people["owner"], key="ACM")
    response = acme.client("owner").delete(f"{URL}/acme")
    assert response.status_code == 409
    assert Organization.objects.filter(slug="acme").exists()


def test_admins_do_not_touch_owners(acme):
    UserFactory(username="nia")
    admin = acme.client("admin")
    assert admin.post(f"{URL}/acme/members", {"username": "nia", "role": "owner"}, format="json").status_code == 403
    assert admin.put(f"{URL}/acme/members/otto", {"role": "member"}, format="json").status_code == 403
    assert admin.delete(f"{URL}/acme/members/otto").status_code == 403
    assert admin.put(f"{URL}/acme/members/mo", {"role": "owner"}, format="json").status_code == 403
    assert roles(acme.org) == {"otto": "owner", "ada": "admin", "mo": "member"}


def test_always_one_owner(acme):
    owner = acme.client("owner")
    response = owner.put(f"{URL}/acme/members/otto", {"role": "admin"}, format="json")
    assert response.status_code == 409
    assert owner.delete(f"{URL}/acme/members/otto").status_code == 409
    # With a second owner the first may step down.
    assert owner.put(f"{URL}/acme/members/ada", {"role": "owner"}, format="json").status_code == 200
    assert owner.put(f"{URL}/acme/members/otto", {"role": "member"}, format="json").status_code == 200
    assert roles(acme.org) == {"otto": "member", "ada": "owner", "mo": "member"}


def test_member_leaves_by_deleting_themselves(acme):
    assert acme.client("member").delete(f"{URL}/acme/members/mo").status_code == 204
    assert "mo" not in roles(acme.org)
    assert acme.client("member").get(f"{URL}/acme").status_code == 404


def test_add_refusals(acme):
    owner = acme.client("owner")
    assert owner.post(f"{URL}/acme/members", {"username": "ghost"}, format="json").status_code == 400
    assert owner.post(f"{URL}/acme/members", {"username": "mo"}, format="json").status_code == 400
    assert owner.post(f"{URL}/acme/members", {"username": "oscar", "role": "god"}, format="json").status_code == 400
    assert owner.put(f"{URL}/acme/members/oscar", {"role": "admin"}, format="json").status_code == 404


def test_list_and_members_query_counts(acme, django_assert_max_num_queries):
    client = acme.client("owner")
    with django_assert_max_num_queries(3) as small:
        client.get(URL)
    with django_assert_max_num_queries(3) as small_members:
        client.get(f"{URL}/acme/members")
    for n in range(6):
        org = OrganizationFactory(slug=f"more{n}")
        OrganizationMembership.objects.create(organization=org, user=acme.people["owner"], role=OrgRole.MEMBER)
        OrganizationMembership.objects.create(organization=acme.org, user=UserFactory(), role=OrgRole.MEMBER)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(client.get(URL).json()) == 7
    with django_assert_max_num_queries(len(small_members.captured_queries)):
        assert len(client.get(f"{URL}/acme/members").json()) == 9


def test_org_writes_need_projects_scope(acme, api_key_client):
    client = api_key_client(acme.people["owner"], ["tickets:write"])
    assert client.put(f"{URL}/acme", {"name": "Nope"}, format="json").status_code == 403


# --------------------------------------------------------------------------- default project (seed 002)


def org_project(acme: OrgPersonas, key: str, **fields):
    return ProjectFactory(
        owner_user=None, organization=acme.org, created_by=acme.people["owner"], key=key, name=key, **fields
    )


def test_default_project_matrix(acme):
    org_project(acme, "ONE")
    two = org_project(acme, "TWO")
    statuses = acme.matrix("PATCH", f"{URL}/acme", {"default_project_id": two.pk})
    assert statuses == {"anonymous": 401, "outsider": 404, "member": 403, "admin": 200, "owner": 200}


def test_default_project_needs_the_projects_write_scope(acme, api_key_client):
    org_project(acme, "ONE")
    two = org_project(acme, "TWO")
    body = {"default_project_id": two.pk}
    for scopes in (["tickets:write"], ["projects:read"]):
        client = api_key_client(acme.people["owner"], scopes)
        assert client.patch(f"{URL}/acme", body, format="json").status_code == 403, scopes
    assert Organization.objects.get(pk=acme.org.pk).default_project_id is None
    client = api_key_client(acme.people["owner"], ["projects:write"])
    assert client.patch(f"{URL}/acme", body, format="json").status_code == 200


def test_default_project_reads_as_the_first_live_project_until_one_is_chosen(acme):
    member = acme.client("member")
    assert member.get(f"{URL}/acme").json()["default_project_id"] is None
    one, two = org_project(acme, "ONE"), org_project(acme, "TWO")
    assert member.get(f"{URL}/acme").json()["default_project_id"] == one.pk

    admin = acme.client("admin")
    response = admin.put(f"{URL}/acme", {"default_project_id": two.pk}, format="json")
    assert response.status_code == 200
    assert response.json()["default_project_id"] == two.pk
    assert Organization.objects.get(pk=acme.org.pk).default_project_id == two.pk
    assert [o["default_project_id"] for o in member.get(URL).json()] == [two.pk]
    # Name and description are left alone; null goes back to the first project.
    assert admin.patch(f"{URL}/acme", {"name": "Acme Inc"}, format="json").json()["default_project_id"] == two.pk
    response = admin.patch(f"{URL}/acme", {"default_project_id": None}, format="json")
    assert response.json()["default_project_id"] == one.pk
    assert Organization.objects.get(pk=acme.org.pk).default_project_id is None
    # A chosen default archived later is passed over while it is archived.
    admin.patch(f"{URL}/acme", {"default_project_id": two.pk}, format="json")
    Project.objects.filter(pk=two.pk).update(archived_at=timezone.now())
    assert member.get(f"{URL}/acme").json()["default_project_id"] == one.pk
    Project.objects.filter(pk=one.pk).update(archived_at=timezone.now())
    assert member.get(f"{URL}/acme").json()["default_project_id"] is None


def test_default_project_must_be_a_live_project_of_the_organization(acme):
    elsewhere = ProjectFactory(
        organization=OrganizationFactory(slug="globex"), owner_user=None, created_by=UserFactory(), key="GLX"
    )
    users_own = ProjectFactory(owner_user=acme.people["owner"], key="MINE")
    archived = org_project(acme, "OLD", archived_at="2025-01-01T00:00:00Z")
    owner = acme.client("owner")
    for value in (elsewhere.pk, users_own.pk, archived.pk, 10**12, 0, -1, "abc", True):
        response = owner.patch(f"{URL}/acme", {"default_project_id": value}, format="json")
        assert response.status_code == 400, value
        assert [d["field"] for d in response.json()["details"]] == ["default_project_id"], value
    assert Organization.objects.get(pk=acme.org.pk).default_project_id is None


def test_setting_the_default_project_publishes_org_updated(acme, published):
    two = org_project(acme, "TWO")
    acme.client("owner").patch(f"{URL}/acme", {"default_project_id": two.pk}, format="json")
    [call] = published.named("org.updated")
    assert call["payload"] == {"org": "acme", "name": "Acme", "default_project_id": two.pk}


def test_detail_with_a_default_project_costs_a_fixed_number_of_queries(acme, django_assert_max_num_queries):
    client = acme.client("member")
    with django_assert_max_num_queries(3) as empty:
        client.get(f"{URL}/acme")
    for key in ("ONE", "TWO", "THREE"):
        org_project(acme, key)
    with django_assert_max_num_queries(len(empty.captured_queries)):
        assert client.get(f"{URL}/acme").json()["default_project_id"] is not None
