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
