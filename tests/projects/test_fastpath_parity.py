"""projects.fastpath against its ORM twin: the same project, owner, organization and role.

Runs on whichever database the suite runs on (SQLite by default, PostgreSQL with
DATABASE_URL): CI runs both.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import CharField, F, OuterRef, Q, Subquery, Value
from django.utils import timezone

from projects import fastpath
from projects.models import Membership, Organization, Project
from punt.ranges import ID_MAX
from tests.factories import MembershipFactory, OrganizationFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def project_with_role_orm(
    *,
    user_id: int | None,
    slug: str | None = None,
    key: str | None = None,
    project_id: int | None = None,
    namespace: str | None = None,
    path: str | None = None,
) -> Project | None:
    """The ORM twin of fastpath.project_with_role."""
    if user_id is not None:
        role: Any = Subquery(Membership.objects.filter(project=OuterRef("pk"), user_id=user_id).values("role")[:1])
    else:
        role = Value(None, output_field=CharField())
    queryset = Project.objects.select_related("owner_user", "organization").annotate(caller_role=role)
    if slug is not None:
        return queryset.filter(slug=slug).first()
    if key is not None:
        return queryset.filter(key=key).first()
    if project_id is not None:
        return queryset.filter(pk=project_id).first() if 0 <= project_id <= ID_MAX else None
    in_namespace = Q(owner_user__username__iexact=namespace, organization__isnull=True) | Q(
        organization__slug__iexact=namespace
    )
    return (
        queryset.filter(in_namespace, path__iexact=path).order_by(F("archived_at").asc(nulls_first=True), "id").first()
    )


def _fields(instance: Any) -> dict[str, Any] | None:
    if instance is None:
        return None
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def _snapshot(project: Project | None) -> Any:
    if project is None:
        return None
    return (
        _fields(project),
        _fields(project.owner_user),
        _fields(project.organization),
        project.caller_role,
    )


@pytest.fixture
def world() -> dict[str, Any]:
    olivia = UserFactory(username="Olivia", last_login=timezone.now(), is_staff=True)
    member, outsider = UserFactory(), UserFactory()
    acme = OrganizationFactory(slug="acme")
    blog = ProjectFactory(owner_user=olivia, organization=None, key="BLOG", name="My Blog", path="my-blog")
    shop = ProjectFactory(
        owner_user=None, organization=acme, key="SHOP", slug="web-shop", name="Shop", path="shop", created_by=olivia
    )
    old = ProjectFactory(owner_user=olivia, organization=None, key="OLD", name="Old", path="old")
    Project.objects.filter(pk=old.pk).update(archived_at=timezone.now(), ticket_counter=12)
    MembershipFactory(project=shop, user=member, role="viewer")
    MembershipFactory(project=blog, user=member, role="member")
    return {
        "users": [olivia.pk, member.pk, outsider.pk, None],
        "keys": ["BLOG", "SHOP", "OLD", "NOPE"],
        "slugs": ["blog", "web-shop", "shop", "old", "BLOG", "nope"],
        "ids": [blog.pk, shop.pk, old.pk, 0, 10**9, -1, 2**63],
        "paths": [
            ("olivia", "my-blog"),
            ("OLIVIA", "My-Blog"),
            ("acme", "shop"),
            ("Acme", "SHOP"),
            ("olivia", "old"),
            ("acme", "my-blog"),
            ("olivia", "shop"),
            ("nobody", "shop"),
        ],
    }


def test_by_key(world):
    for user_id in world["users"]:
        for key in world["keys"]:
            fast = fastpath.project_with_role(user_id=user_id, key=key)
            assert _snapshot(fast) == _snapshot(project_with_role_orm(user_id=user_id, key=key)), (user_id, key)


def test_by_slug(world):
    for user_id in world["users"]:
        for slug in world["slugs"]:
            fast = fastpath.project_with_role(user_id=user_id, slug=slug)
            assert _snapshot(fast) == _snapshot(project_with_role_orm(user_id=user_id, slug=slug)), (user_id, slug)


def test_by_id(world):
    for user_id in world["users"]:
        for project_id in world["ids"]:
            fast = fastpath.project_with_role(user_id=user_id, project_id=project_id)
            orm = project_with_role_orm(user_id=user_id, project_id=project_id)
            assert _snapshot(fast) == _snapshot(orm), (user_id, project_id)


def test_by_namespace_and_path(world):
    for user_id in world["users"]:
        for namespace, path in world["paths"]:
            fast = fastpath.project_with_role(user_id=user_id, namespace=namespace, path=path)
            orm = project_with_role_orm(user_id=user_id, namespace=namespace, path=path)
            assert _snapshot(fast) == _snapshot(orm), (user_id, namespace, path)


def test_found_ones_are_really_found(world):
    # Parity alone would pass if both sides found nothing.
    olivia = world["users"][0]
    assert fastpath.project_with_role(user_id=olivia, key="OLD").archived_at is not None
    assert fastpath.project_with_role(user_id=world["users"][1], slug="web-shop").caller_role == "viewer"
    assert fastpath.project_with_role(user_id=olivia, slug="shop") is None  # the key is not a slug
    assert fastpath.project_with_role(user_id=olivia, namespace="OLIVIA", path="My-Blog").caller_role == "owner"
    assert fastpath.project_with_role(user_id=world["users"][1], namespace="acme", path="shop").caller_role == "viewer"


def test_one_statement(world, django_assert_num_queries):
    with django_assert_num_queries(1):
        project = fastpath.project_with_role(user_id=world["users"][0], namespace="olivia", path="my-blog")
        assert project.owner_user.username == "Olivia"
        assert project.organization is None


def organization_with_access_orm(*, slug: str, user_id: int | None) -> Organization | None:
    """The ORM twin of fastpath.organization_with_access (what the AgentsMesh views ran before)."""
    organization = Organization.objects.filter(slug__iexact=slug).first()
    if organization is None:
        return None
    projects = Project.objects.filter(organization=organization, memberships__user_id=user_id)
    belongs = user_id is not None and (organization.memberships.filter(user_id=user_id).exists() or projects.exists())
    organization.caller_belongs = belongs
    return organization


def test_organization_with_access(world):
    acme = Organization.objects.get(slug="acme")
    org_member, archived_member = UserFactory(), UserFactory()
    acme.memberships.create(user=org_member, role="member")
    archived = ProjectFactory(
        owner_user=None, organization=acme, key="ARCH", name="Arch", path="arch", created_by=org_member
    )
    Project.objects.filter(pk=archived.pk).update(archived_at=timezone.now())
    MembershipFactory(project=archived, user=archived_member, role="viewer")
    OrganizationFactory(slug="empty")
    users = [*world["users"], org_member.pk, archived_member.pk]
    found = 0
    for slug in ["acme", "ACME", "Acme", "empty", "nope", "acm", "acme%", ""]:
        for user_id in users:
            fast = fastpath.organization_with_access(slug=slug, user_id=user_id)
            twin = organization_with_access_orm(slug=slug, user_id=user_id)
            assert _fields(fast) == _fields(twin), (slug, user_id)
            if twin is not None:
                found += 1
                assert fast.caller_belongs == twin.caller_belongs, (slug, user_id)
    assert found
    belongs = {
        user_id: fastpath.organization_with_access(slug="acme", user_id=user_id).caller_belongs for user_id in users
    }
    # The shop's creator (its owner) and viewer, the organization's member and the archived
    # project's viewer belong.
    assert belongs == {
        world["users"][0]: True,
        world["users"][1]: True,
        world["users"][2]: False,
        None: False,
        org_member.pk: True,
        archived_member.pk: True,
    }
