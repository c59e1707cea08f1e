"""The project lookup every project endpoint starts with (hand-written SQL) loads what the ORM loads."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from projects.models import Organization, Project
from projects.permissions import role_of
from punt.errors import NotFound
from tests.factories import MembershipFactory, OrganizationFactory, ProjectFactory, UserFactory
from tickets.selectors import project_for

pytestmark = pytest.mark.django_db


def _fields(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_owned_project_comes_with_owner_and_role_as_the_orm_reads_them():
    owner = UserFactory(is_staff=True, last_login=timezone.now())
    project = ProjectFactory(owner_user=owner, organization=None)
    Project.objects.filter(pk=project.pk).update(ticket_counter=7)
    found = project_for(user=owner, slug=project.key.lower(), needed="owner")

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

    found = project_for(user=viewer, slug=project.key, needed="viewer")
    assert _fields(found.organization) == _fields(Organization.objects.get(pk=organization.pk))
    assert role_of(viewer, found) == "viewer"
    with pytest.raises(Http404):
        project_for(user=outsider, slug=project.key, needed="viewer")
    with pytest.raises(NotFound):
        project_for(user=AnonymousUser(), slug="NOPE", needed="viewer")


def test_archived_project_is_not_found():
    owner = UserFactory()
    project = ProjectFactory(owner_user=owner, organization=None, archived_at=timezone.now())
    with pytest.raises(NotFound):
        project_for(user=owner, slug=project.key, needed="viewer")
