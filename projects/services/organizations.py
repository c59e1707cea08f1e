"""Writes for organizations and their members."""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction

from audit.services import audit_record
from projects.models import Organization, OrganizationMembership, Project
from projects.services.common import _UNSET, OrgRole, User
from punt.errors import Conflict, Forbidden
from punt.errors import invalid as _invalid
from punt.events import publish

ORG_SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,148}[a-z0-9])?$")


def organization_slug_taken(name: str) -> bool:
    """True if an organization uses `name` (case-insensitive); user names may not take it."""
    return Organization.objects.filter(slug__iexact=name).exists()


def namespace_taken(name: str) -> bool:
    """True if a user or an organization already uses `name` (case-insensitive)."""
    return (
        User.objects.filter(username__iexact=name).exists() or Organization.objects.filter(slug__iexact=name).exists()
    )


def _org_owner_count(org: Organization) -> int:
    return org.memberships.filter(role=OrgRole.OWNER).count()


@transaction.atomic
def organization_create(*, slug: str, name: str, description: str = "", by: Any) -> Organization:
    slug = (slug or "").strip().lower()
    if not ORG_SLUG_RE.match(slug):
        raise _invalid("slug", "Use lowercase letters, digits and hyphens (not at either end).")
    if namespace_taken(slug):
        raise _invalid("slug", f"The name '{slug}' is already taken by a user or an organization.")
    try:
        with transaction.atomic():
            org = Organization.objects.create(slug=slug, name=name.strip() or slug, description=description)
    except IntegrityError:
        # Two creates raced past the check above; the unique index decided.
        raise _invalid("slug", f"The name '{slug}' is already taken by a user or an organization.") from None
    OrganizationMembership.objects.create(organization=org, user=by, role=OrgRole.OWNER)
    publish("org.created", {"org": org.slug, "user_id": by.pk}, user_ids=[by.pk], actor_id=by.pk)
    return org


def _default_project_check(*, org: Organization, project_id: int) -> int:
    # Locked, so a delete cannot slip in between this check and the save.
    project = Project.objects.select_for_update().filter(pk=project_id, organization=org).values("archived_at").first()
    if project is None:
        raise _invalid("default_project_id", f"No project {project_id} in this organization.")
    if project["archived_at"] is not None:
        raise _invalid("default_project_id", "This project is archived; restore it or choose another.")
    return project_id


@transaction.atomic
def organization_update(
    *,
    org: Organization,
    by: Any,
    name: str | None = None,
    description: str | None = None,
    default_project_id: int | None = _UNSET,
) -> Organization:
    """Change the name, the description or the default project (one of the organization's live
    projects; None: back to its first project). The caller is an org owner or admin."""
    fields = []
    if name is not None:
        if not name.strip():
            raise _invalid("name", "This field may not be blank.")
        org.name = name.strip()
        fields.append("name")
    if description is not None:
        org.description = description
        fields.append("description")
    if default_project_id is not _UNSET:
        if default_project_id is not None:
            _default_project_check(org=org, project_id=default_project_id)
        org.default_project_id = default_project_id
        fields.append("default_project")
    if fields:
        org.save(update_fields=fields)
        member_ids = list(org.memberships.values_list("user_id", flat=True))
        payload = {"org": org.slug, "name": org.name, "default_project_id": org.default_project_id}
        publish("org.updated", payload, user_ids=member_ids, actor_id=by.pk)
    return org


@transaction.atomic
def organization_delete(*, org: Organization, by: Any) -> None:
    """Delete an organization that holds no projects (deleting them by cascade would be a trap)."""
    if org.projects.exists():
        raise Conflict("This organization still has projects; delete or move them first.")
    member_ids = list(org.memberships.values_list("user_id", flat=True))
    slug = org.slug
    org.delete()
    publish("org.deleted", {"org": slug}, user_ids=member_ids, actor_id=by.pk)


def _org_check_manage(*, org: Organization, by: Any, target_role: str | None, new_role: str | None) -> None:
    """Org admins manage members and admins; only owners touch owners."""
    actor_role = (
        OrgRole.OWNER if by.is_staff else org.memberships.filter(user=by).values_list("role", flat=True).first()
    )
    if actor_role == OrgRole.OWNER:
        return
    if OrgRole.OWNER in (target_role, new_role):
        raise Forbidden("Only an organization owner can add, change or remove owners.")


def _org_user(username: str) -> Any:
    user = User.objects.filter(username__iexact=username, is_active=True).first()
    if user is None:
        raise _invalid("username", f"No active user named '{username}'.")
    return user


@transaction.atomic
def organization_member_add(
    *, org: Organization, username: str, role: str = OrgRole.MEMBER, by: Any, request: Any = None
) -> OrganizationMembership:
    user = _org_user(username)
    _org_check_manage(org=org, by=by, target_role=None, new_role=role)
    if org.memberships.filter(user=user).exists():
        raise _invalid("username", f"{user.username} is already a member of this organization.")
    try:
        with transaction.atomic():
            membership = OrganizationMembership.objects.create(organization=org, user=user, role=role)
    except IntegrityError:
        raise _invalid("username", f"{user.username} is already a member of this organization.") from None
    publish("org.member_added", {"org": org.slug, "user_id": user.pk, "role": role}, user_ids=[user.pk], actor_id=by.pk)
    audit_record(
        action="member.added",
        actor=by,
        request=request,
        target=user,
        after={"role": role},
        data={"organization": org.slug},
    )
    return membership


@transaction.atomic
def organization_member_update(
    *, membership: OrganizationMembership, role: str, by: Any, request: Any = None
) -> OrganizationMembership:
    org = membership.organization
    # Lock the owners so two demotions cannot leave the organization without one.
    list(org.memberships.select_for_update().filter(role=OrgRole.OWNER))
    _org_check_manage(org=org, by=by, target_role=membership.role, new_role=role)
    if membership.role == OrgRole.OWNER and role != OrgRole.OWNER and _org_owner_count(org) <= 1:
        raise Conflict("An organization needs at least one owner; make someone else owner first.")
    before = {"role": membership.role}
    membership.role = role
    membership.save(update_fields=["role"])
    if before["role"] != role:
        audit_record(
            action="member.role_changed",
            actor=by,
            request=request,
            target=membership.user,
            before=before,
            after={"role": role},
            data={"organization": org.slug},
        )
    publish(
        "org.member_updated",
        {"org": org.slug, "user_id": membership.user_id, "role": role},
        user_ids=[membership.user_id],
        actor_id=by.pk,
    )
    return membership


@transaction.atomic
def organization_member_remove(*, membership: OrganizationMembership, by: Any, request: Any = None) -> None:
    org = membership.organization
    list(org.memberships.select_for_update().filter(role=OrgRole.OWNER))
    if membership.user_id != by.pk:
        _org_check_manage(org=org, by=by, target_role=membership.role, new_role=None)
    if membership.role == OrgRole.OWNER and _org_owner_count(org) <= 1:
        raise Conflict("An organization needs at least one owner; make someone else owner first.")
    user_id = membership.user_id
    audit_record(
        action="member.removed",
        actor=by,
        request=request,
        target=membership.user,
        before={"role": membership.role},
        data={"organization": org.slug},
    )
    membership.delete()
    publish("org.member_removed", {"org": org.slug, "user_id": user_id}, user_ids=[user_id], actor_id=by.pk)
