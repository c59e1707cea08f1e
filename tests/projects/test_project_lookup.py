"""The project lookup every surface starts with (projects.selectors.project_for, hand-written SQL)
loads what the ORM loads."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from projects.models import Organization, Project
from projects.permissions import role_of
from projects.selectors import project_for
from punt.errors import Conflict, NotFound
from tests.factories import MembershipFactory, OrganizationFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def _fields(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_owned_project_comes_with_owner_and_role_as_the_orm_reads_them():
    owner = UserFactory(is_staff=True, last_login=timezone.now())
    project = ProjectFactory(owner_user=owner, organization=None)
    Project.objects.filter(pk=project.pk).update(ticket_counter=7)
    found = project_for(owner, slug=project.key.lower(), min_role="owner")

    assert _fields(found) == _fields(Project.objects.get(pk=project.pk))
    assert _fields(found.owner_user) == _fields(User.objects.get(pk=owner.pk))
    assert found.owner_user.is_staff is True and found.owner_user.is_active is True
    assert found.created_at.tzinfo is not None
    assert found.organization is None
    assert role_of(owner, found) == "owner"


def test_organization_project_and_a_non_members_role():
    organization = OrganizationFactory()
    project = ProjectFactory(owner_user=None, organization=organization, created_by=UserFactory())
    viewer, outsider = UserFactory(), UserFactory()
    MembershipFactory(project=project, user=viewer, role="viewer")

    found = project_for(viewer, slug=project.key, min_role="viewer")
    assert _fields(found.organization) == _fields(Organization.objects.get(pk=organization.pk))
    assert role_of(viewer, found) == "viewer"
    with pytest.raises(Http404):
        project_for(outsider, slug=project.key, min_role="viewer")
    with pytest.raises(NotFound):
        project_for(AnonymousUser(), slug="NOPE", min_role="viewer")


def test_archived_project_reads_but_refuses_writes_unless_the_action_is_meant_for_it():
    # Was: an archived project was not found by this lookup (it 404'd every card endpoint).
    owner = UserFactory()
    project = ProjectFactory(owner_user=owner, organization=None, archived_at=timezone.now())
    assert project_for(owner, slug=project.key, min_role="viewer").pk == project.pk
    with pytest.raises(Conflict, match="archived and read-only"):
        project_for(owner, slug=project.key, min_role="member")
    assert project_for(owner, slug=project.key, min_role="owner", allow_archived=True).pk == project.pk


def test_by_id_and_by_owner_and_path():
    owner = UserFactory(username="olivia")
    project = ProjectFactory(owner_user=owner, organization=None, name="My Blog", path="my-blog")
    assert project_for(owner, project_id=project.pk).pk == project.pk
    assert project_for(owner, owner="OLIVIA", path="My-Blog").pk == project.pk
    with pytest.raises(NotFound):
        project_for(owner, project_id=2**63)
    with pytest.raises(NotFound):
        project_for(owner, owner="someone-else", path="my-blog")
