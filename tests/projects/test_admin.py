from __future__ import annotations

import pytest

from projects.models import OrganizationMembership
from tests.factories import LabelFactory, OrganizationFactory, SprintFactory, UserFactory

PAGES = [
    "/admin/projects/organization/?q=acme",
    "/admin/projects/organizationmembership/?role__exact=owner",
    "/admin/projects/project/?archived=yes",
    "/admin/projects/project/?archived=no&q=BLOG",
    "/admin/projects/membership/?role__exact=admin&q=adam",
    "/admin/projects/column/?category__exact=done",
    "/admin/projects/label/?q=bug",
    "/admin/projects/sprint/?status__exact=planned",
]


@pytest.mark.parametrize("url", PAGES)
def test_admin_changelists_load(personas, client, url):
    org = OrganizationFactory(slug="acme")
    OrganizationMembership.objects.create(organization=org, user=personas.owner, role="owner")
    LabelFactory(project=personas.project, name="bug")
    SprintFactory(project=personas.project)
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = client.get(url)
    assert response.status_code == 200


def test_admin_project_change_page_has_inlines(personas, client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = client.get(f"/admin/projects/project/{personas.project.pk}/change/")
    assert response.status_code == 200
    assert b"memberships" in response.content


@pytest.fixture
def root_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_projects_are_not_added_in_the_admin_and_keys_stay(personas, root_client):
    # project_create checks the key, makes the owner and the columns; a bare form would not.
    assert root_client.get("/admin/projects/project/add/").status_code == 403
    page = root_client.get(f"/admin/projects/project/{personas.project.pk}/change/")
    assert "key" in page.context["adminform"].readonly_fields


def test_membership_admin_keeps_exactly_one_owner(personas, root_client):
    from projects.models import Membership

    owner_row = Membership.objects.get(project=personas.project, role="owner")
    mary_row = Membership.objects.get(project=personas.project, user=personas.member)
    base = {"project": personas.project.pk}

    second_owner = root_client.post(
        f"/admin/projects/membership/{mary_row.pk}/change/", {**base, "user": personas.member.pk, "role": "owner"}
    )
    assert second_owner.status_code == 200  # the form again, with the error
    assert "exactly one owner" in str(second_owner.context["adminform"].form.non_field_errors())
    demoted = root_client.post(
        f"/admin/projects/membership/{owner_row.pk}/change/", {**base, "user": personas.owner.pk, "role": "admin"}
    )
    assert demoted.status_code == 200
    assert root_client.post(f"/admin/projects/membership/{owner_row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert list(Membership.objects.filter(project=personas.project, role="owner")) == [owner_row]

    promoted = root_client.post(
        f"/admin/projects/membership/{mary_row.pk}/change/", {**base, "user": personas.member.pk, "role": "admin"}
    )
    assert promoted.status_code == 302
    mary_row.refresh_from_db()
    assert mary_row.role == "admin"
    assert root_client.post(f"/admin/projects/membership/{mary_row.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Membership.objects.filter(pk=mary_row.pk).exists()
