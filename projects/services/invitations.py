"""Invitations to a project or an organization: by e-mail (one invitee) or a shareable link.

Who may invite is checked by the caller (a project's MANAGE role, an organization's admin);
the rules checked here depend on the data: the role ceiling (nobody hands out more than
their own role; a project's owner is only ever made by a transfer), the invitation's state
on accept (revoked, expired, used up) and the e-mail match.

E-mail match: an e-mail invitation is accepted only by an account whose e-mail (its primary
address or one of its allauth addresses) is the invited one. A verified address is NOT
required: the token travels only in the mail sent to that address, so holding it already
proves the mailbox; the match stops a forwarded mail from letting a different account in.

Tokens: only their SHA-256 is stored. A link's token is returned once, to its creator. An
e-mail invitation's token is made by the mail task itself (invitation_send) and exists only
in the mail, so neither the inviter nor the task queue ever holds it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import hash_api_key
from audit.services import audit_record
from projects.models import Invitation, Membership, Organization, OrganizationMembership, Project
from projects.permissions import RANK, role_of
from projects.services.common import OrgRole, Role
from projects.services.members import membership_add
from punt.errors import Conflict, Forbidden, NotFound
from punt.errors import invalid as _invalid
from punt.events import publish

# An e-mail invitation is good for this long unless the inviter says otherwise.
EMAIL_INVITATION_DAYS = 14
# The furthest ahead an invitation may expire.
MAX_INVITATION_DAYS = 365
MAX_USES_LIMIT = 10_000
EMAIL_MAX = Invitation._meta.get_field("email").max_length or 254

ORG_RANK = {OrgRole.MEMBER: 0, OrgRole.ADMIN: 1, OrgRole.OWNER: 2}


def hash_token(raw: str) -> str:
    # 256-bit random tokens: a plain SHA-256 is enough (as for API keys and reset tokens).
    return hash_api_key(raw)


def invitation_url(raw_token: str) -> str:
    return settings.SITE_URL + reverse("web:invite", args=[raw_token])


def invitation_status(invitation: Invitation, now: datetime | None = None) -> str:
    """pending, accepted (an e-mail invitation), used_up (a link), revoked or expired."""
    now = now or timezone.now()
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.kind == Invitation.Kind.EMAIL and invitation.accepted_at is not None:
        return "accepted"
    if invitation.max_uses is not None and invitation.uses >= invitation.max_uses:
        return "used_up"
    if invitation.expires_at is not None and invitation.expires_at <= now:
        return "expired"
    return "pending"


def pending_filter(now: datetime | None = None) -> Q:
    """invitation_status() == "pending", as a filter."""
    now = now or timezone.now()
    return (
        Q(revoked_at__isnull=True)
        & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        & (Q(max_uses__isnull=True) | Q(uses__lt=F("max_uses")))
    )


# --------------------------------------------------------------------------- create


def _inviter_rank(*, project: Project | None, organization: Organization | None, by: Any) -> tuple[int, dict[Any, int]]:
    """The inviter's rank and the rank table of the target's roles."""
    if project is not None:
        role = role_of(by, project)
        if role is None:
            raise NotFound()
        return RANK[Role(role)], dict(RANK)
    assert organization is not None
    if by.is_staff:
        return ORG_RANK[OrgRole.OWNER], dict(ORG_RANK)
    org_role = organization.memberships.filter(user=by).values_list("role", flat=True).first()
    if org_role is None:
        raise NotFound()
    return ORG_RANK[OrgRole(org_role)], dict(ORG_RANK)


def _check_role(*, role: str, project: Project | None, organization: Organization | None, by: Any) -> str:
    choices = Role if project is not None else OrgRole
    if role not in choices.values:
        raise _invalid("role", f"'{role}' is not one of: {', '.join(choices.values)}.")
    if project is not None and role == Role.OWNER:
        raise _invalid("role", "A project has exactly one owner; use transfer-ownership instead.")
    rank, ranks = _inviter_rank(project=project, organization=organization, by=by)
    if ranks[choices(role)] > rank:
        raise Forbidden("You cannot invite someone with a higher role than your own.")
    return role


def _check_expiry(expires_at: datetime | None, now: datetime) -> None:
    if expires_at is None:
        return
    if expires_at <= now:
        raise _invalid("expires_at", "The expiry must be in the future.")
    if expires_at > now + timedelta(days=MAX_INVITATION_DAYS):
        raise _invalid("expires_at", f"An invitation expires within {MAX_INVITATION_DAYS} days.")


@dataclass(frozen=True)
class CreatedInvitation:
    invitation: Invitation
    # The link's token, shown once; None for an e-mail invitation (only the mail carries it).
    token: str | None

    @property
    def url(self) -> str | None:
        return invitation_url(self.token) if self.token else None


@transaction.atomic
def invitation_create(
    *,
    kind: str,
    role: str,
    by: Any,
    project: Project | None = None,
    organization: Organization | None = None,
    email: str = "",
    expires_at: datetime | None = None,
    max_uses: int | None = None,
    request: Any = None,
) -> CreatedInvitation:
    """Invite by e-mail (the mail is sent by a task after commit) or make a shareable link.

    Precondition: the caller checked `by` may manage the target's members (project MANAGE, live
    project; organization admin). A new e-mail invitation to an address with one pending for
    the same target replaces it (its old link stops working). `request`: only for the audit
    log's address.
    """
    if (project is None) == (organization is None):
        raise TypeError("invitation_create needs a project or an organization.")
    if kind not in Invitation.Kind.values:
        raise _invalid("kind", f"'{kind}' is not one of: {', '.join(Invitation.Kind.values)}.")
    _check_role(role=role, project=project, organization=organization, by=by)
    now = timezone.now()
    _check_expiry(expires_at, now)
    if max_uses is not None and not 1 <= max_uses <= MAX_USES_LIMIT:
        raise _invalid("max_uses", f"The use limit is a whole number from 1 to {MAX_USES_LIMIT}.")
    target = {"project": project} if project is not None else {"organization": organization}
    if kind == Invitation.Kind.EMAIL:
        email = (email or "").strip()
        try:
            if len(email) > EMAIL_MAX:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            raise _invalid("email", "Enter a valid e-mail address.") from None
        if max_uses not in (None, 1):
            raise _invalid("max_uses", "An e-mail invitation is used once.")
        max_uses = 1
        expires_at = expires_at or now + timedelta(days=EMAIL_INVITATION_DAYS)
        stale = list(
            Invitation.objects.select_for_update(of=("self",))
            .select_related("project", "organization")
            .filter(pending_filter(now), kind=Invitation.Kind.EMAIL, email__iexact=email, **target)
        )
        for old in stale:
            old.revoked_at = now
            old.save(update_fields=["revoked_at"])
            _audit("invitation.revoked", old, actor=by, request=request, data={"replaced": True})
    elif email:
        raise _invalid("email", "A link invites whoever opens it; leave the e-mail out.")
    raw = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        kind=kind,
        role=role,
        email=email if kind == Invitation.Kind.EMAIL else "",
        hashed_token=hash_token(raw),
        expires_at=expires_at,
        max_uses=max_uses,
        invited_by=by,
        **target,
    )
    _audit(
        "invitation.created",
        invitation,
        actor=by,
        request=request,
        data={"max_uses": max_uses, "expires_at": expires_at},
    )
    if kind == Invitation.Kind.EMAIL:
        _send_on_commit(invitation.pk)
        return CreatedInvitation(invitation, None)
    return CreatedInvitation(invitation, raw)


def _audit(
    action: str, invitation: Invitation, *, actor: Any, request: Any, data: dict[str, Any] | None = None
) -> None:
    """Record an invitation's step in the audit log (the e-mail is kept; the token never is)."""
    details = {
        "kind": invitation.kind,
        "role": invitation.role,
        "email": invitation.email,
        "organization": _org_slug(invitation),
        **(data or {}),
    }
    audit_record(
        action=action, actor=actor, request=request, target=invitation, project=invitation.project, data=details
    )


def _send_on_commit(invitation_id: int) -> None:
    def enqueue() -> None:
        from projects.tasks import send_invitation  # the task module imports this one

        send_invitation.enqueue(invitation_id)

    transaction.on_commit(enqueue, robust=True)


# --------------------------------------------------------------------------- revoke


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, by: Any, request: Any = None) -> Invitation:
    """Revoke an invitation (the caller may manage the target's members). Revoking twice is a no-op."""
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        _audit("invitation.revoked", invitation, actor=by, request=request)
    return invitation


# --------------------------------------------------------------------------- look up and accept


def invitation_by_token(token: str) -> Invitation:
    """The invitation a token opens, whatever its state; NotFound for an unknown token."""
    invitation = (
        # The project's namespace too: pages link to its board.
        Invitation.objects.select_related("project__owner_user", "project__organization", "organization", "invited_by")
        .filter(hashed_token=hash_token((token or "").strip()))
        .first()
    )
    if invitation is None:
        raise NotFound("This invitation link is not valid.")
    return invitation


def _user_emails(user: Any) -> set[str]:
    # allauth's addresses of the account (by the app registry: allauth ships no type hints).
    addresses = apps.get_model("account", "EmailAddress").objects.filter(user=user)
    emails = {address.lower() for address in addresses.values_list("email", flat=True)}
    if user.email:
        emails.add(user.email.lower())
    return emails


def _existing_membership(invitation: Invitation, user: Any) -> Membership | OrganizationMembership | None:
    if invitation.project_id is not None:
        return Membership.objects.filter(project_id=invitation.project_id, user=user).first()
    return OrganizationMembership.objects.filter(organization=invitation.organization, user=user).first()


REFUSALS = {
    "revoked": "This invitation was revoked; ask for a new one.",
    "expired": "This invitation has expired; ask for a new one.",
    "used_up": "This invitation link has been used as many times as it allows; ask for a new one.",
    "accepted": "This invitation has already been accepted.",
}


@dataclass(frozen=True)
class Accepted:
    invitation: Invitation
    membership: Membership | OrganizationMembership
    # False: the user was already a member (nothing changed, no use counted).
    joined: bool


@transaction.atomic
def invitation_accept(*, token: str, user: Any, request: Any = None) -> Accepted:
    """Join the invitation's project or organization with its role.

    Locks the invitation row, so concurrent accepts of a link count their uses one at a time
    and the use limit holds. Someone already a member gets their membership back unchanged
    (no use counted), whatever the invitation's state.
    """
    hashed = hash_token((token or "").strip())
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("project", "organization")
        .filter(hashed_token=hashed)
        .first()
    )
    if invitation is None:
        raise NotFound("This invitation link is not valid.")
    status = invitation_status(invitation)
    addressed = invitation.kind == Invitation.Kind.LINK or invitation.email.lower() in _user_emails(user)
    existing = _existing_membership(invitation, user)
    if existing is not None:
        if status == "pending" and invitation.kind == Invitation.Kind.EMAIL and addressed:
            # Nothing to join, but the invitation is answered: it leaves the pending list.
            _mark_used(invitation, user)
        return Accepted(invitation, existing, False)
    if status != "pending":
        raise Conflict(REFUSALS[status])
    if not addressed:
        raise Forbidden(
            f"This invitation was sent to {invitation.email}; sign in with the account that uses that address."
        )
    membership: Membership | OrganizationMembership
    via = {"via": "invitation", "invitation_id": invitation.pk}
    if invitation.project_id is not None:
        project = invitation.project
        assert project is not None
        if project.archived_at is not None:
            raise Conflict("This project is archived; ask its owner to restore it.")
        # membership_add records member.added, with the invitation named.
        membership = membership_add(
            project=project, username=user.username, role=invitation.role, by=user, request=request, audit_data=via
        )
    else:
        organization = invitation.organization
        assert organization is not None
        membership = OrganizationMembership.objects.create(organization=organization, user=user, role=invitation.role)
        publish(
            "org.member_added",
            {"org": organization.slug, "user_id": user.pk, "role": invitation.role},
            user_ids=[user.pk],
            actor_id=user.pk,
        )
        audit_record(
            action="member.added",
            actor=user,
            request=request,
            target=membership,
            after={"user": user.username, "role": membership.role},
            data={**via, "organization": organization.slug},
        )
    _mark_used(invitation, user)
    _audit("invitation.accepted", invitation, actor=user, request=request, data={"uses": invitation.uses})
    return Accepted(invitation, membership, True)


def _org_slug(invitation: Invitation) -> str | None:
    return invitation.organization.slug if invitation.organization is not None else None


def _mark_used(invitation: Invitation, user: Any) -> None:
    """Count one use (the caller holds the row's lock)."""
    invitation.uses += 1
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["uses", "accepted_at", "accepted_by"])


__all__ = [
    "EMAIL_INVITATION_DAYS",
    "Accepted",
    "CreatedInvitation",
    "hash_token",
    "invitation_accept",
    "invitation_by_token",
    "invitation_create",
    "invitation_revoke",
    "invitation_status",
    "invitation_url",
    "pending_filter",
]
