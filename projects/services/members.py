"""Writes for a project's members and its ownership."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from accounts.services import system_settings
from audit.services import audit_record
from projects.models import Membership, Project
from projects.services.common import Role, User, _check_choice
from punt.errors import Conflict, Forbidden, NotFound
from punt.errors import invalid as _invalid
from punt.events import publish


def _member_payload(membership: Membership) -> dict[str, Any]:
    return {
        "id": membership.pk,
        "project_id": membership.project_id,
        "user_id": membership.user_id,
        "username": membership.user.username,
        "role": membership.role,
    }


def _user_by_name(username: str) -> Any:
    user = User.objects.filter(username__iexact=(username or "").strip(), is_active=True).first()
    if user is None:
        raise _invalid("username", f"No active user named '{username}'.")
    return user


def _publish_member(event: str, membership: Membership, *, by: Any, tab_id: str | None) -> None:
    # The user's own group too: their project list changes, and on member.removed the
    # real-time layer closes their sockets for this project.
    publish(
        event,
        _member_payload(membership),
        project_id=membership.project_id,
        user_ids=[membership.user_id],
        tab_id=tab_id,
        actor_id=by.pk,
    )


@transaction.atomic
def membership_add(
    *,
    project: Project,
    username: str,
    role: str | None = None,
    by: Any,
    tab_id: str | None = None,
    request: Any = None,
    audit_data: dict[str, Any] | None = None,
) -> Membership:
    """Add a member (the caller has MANAGE, or holds an invitation). Owners are made by
    transfer, never added.

    Without a role the member gets the site's default member role (system settings).
    `audit_data` is kept with the audit entry (e.g. the invitation that let them in).
    """
    if role is None:
        role = system_settings().default_member_role
    _check_choice("role", role, Role)
    if role == Role.OWNER:
        raise _invalid("role", "A project has exactly one owner; use transfer-ownership instead.")
    user = _user_by_name(username)
    if project.memberships.filter(user=user).exists():
        raise _invalid("username", f"{user.username} is already a member of this project.")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(project=project, user=user, role=role)
    except IntegrityError:
        # A concurrent add of the same person won the race.
        raise _invalid("username", f"{user.username} is already a member of this project.") from None
    _publish_member("member.added", membership, by=by, tab_id=tab_id)
    audit_record(
        action="member.added",
        actor=by,
        request=request,
        target=user,
        project=project,
        after={"role": role},
        data=audit_data,
    )
    return membership


@transaction.atomic
def membership_update(
    *, membership: Membership, role: str, by: Any, tab_id: str | None = None, request: Any = None
) -> Membership:
    """Change a member's role (the caller has MANAGE). Nobody changes the owner's role here."""
    _check_choice("role", role, Role)
    if role == Role.OWNER:
        raise _invalid("role", "A project has exactly one owner; use transfer-ownership instead.")
    if membership.role == Role.OWNER:
        raise Forbidden("The owner's role cannot be changed; transfer ownership first.")
    if membership.role != role:
        before = {"role": membership.role}
        membership.role = role
        membership.save(update_fields=["role"])
        _publish_member("member.updated", membership, by=by, tab_id=tab_id)
        _role_change_record(membership, before=before, by=by, request=request)
    return membership


def _role_change_record(membership: Membership, *, before: dict[str, Any], by: Any, request: Any) -> None:
    audit_record(
        action="member.role_changed",
        actor=by,
        request=request,
        target=membership.user,
        project=membership.project,
        before=before,
        after={"role": membership.role},
    )


@transaction.atomic
def membership_remove(*, membership: Membership, by: Any, tab_id: str | None = None, request: Any = None) -> None:
    """Remove a member (the caller has MANAGE, or is leaving). The owner is never removed."""
    if membership.role == Role.OWNER:
        raise Forbidden("The project owner cannot be removed; transfer ownership first.")
    payload_membership = Membership(
        pk=membership.pk, project_id=membership.project_id, user=membership.user, role=membership.role
    )
    audit_record(
        action="member.removed",
        actor=by,
        request=request,
        target=membership.user,
        project=membership.project,
        before={"role": membership.role},
    )
    membership.delete()
    _publish_member("member.removed", payload_membership, by=by, tab_id=tab_id)


@transaction.atomic
def membership_leave(*, project: Project, by: Any, tab_id: str | None = None, request: Any = None) -> None:
    membership = project.memberships.select_related("user").filter(user=by).first()
    if membership is None:
        # A site admin sees every project without being in it: nothing to leave.
        raise NotFound("You are not a member of this project.")
    if membership.role == Role.OWNER:
        raise Conflict("The owner cannot leave; transfer ownership first.")
    membership_remove(membership=membership, by=by, tab_id=tab_id, request=request)


@transaction.atomic
def project_transfer_ownership(
    *, project: Project, username: str, by: Any, tab_id: str | None = None, request: Any = None
) -> Membership:
    """Make another member the owner; the old owner becomes admin. Exactly one owner throughout."""
    # Lock the project's memberships so two transfers cannot interleave.
    memberships = list(project.memberships.select_for_update().select_related("user"))
    user = _user_by_name(username)
    new_owner = next((m for m in memberships if m.user_id == user.pk), None)
    if new_owner is None:
        raise _invalid("username", f"{user.username} is not a member of this project; add them first.")
    old_owner = next((m for m in memberships if m.role == Role.OWNER), None)
    new_owner_role = new_owner.role
    if old_owner is not None and old_owner.pk == new_owner.pk:
        raise _invalid("username", f"{user.username} already owns this project.")
    if old_owner is not None:
        # one_owner_per_project is checked per statement: demote before promoting.
        old_owner.role = Role.ADMIN
        old_owner.save(update_fields=["role"])
    new_owner.role = Role.OWNER
    new_owner.save(update_fields=["role"])
    if old_owner is not None:
        _publish_member("member.updated", old_owner, by=by, tab_id=tab_id)
        _role_change_record(old_owner, before={"role": Role.OWNER.value}, by=by, request=request)
    _publish_member("member.updated", new_owner, by=by, tab_id=tab_id)
    _role_change_record(new_owner, before={"role": new_owner_role}, by=by, request=request)
    return new_owner
