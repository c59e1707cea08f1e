from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from projects.models import Organization, OrganizationMembership
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
