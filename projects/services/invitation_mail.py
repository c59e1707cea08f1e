"""The e-mail of an e-mail invitation, sent by projects.tasks.send_invitation after the
invitation is committed, so a request never waits for SMTP."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from projects.models import Invitation
from projects.services.invitations import hash_token, invitation_status, invitation_url


def _target_name(invitation: Invitation) -> str:
    if invitation.project is not None:
        return invitation.project.name
    assert invitation.organization is not None
    return invitation.organization.name


@transaction.atomic
def invitation_send(*, invitation_id: int) -> bool:
    """Mail a pending e-mail invitation with a fresh token (the task's work). False if there is
    nothing to send (revoked, accepted or expired since). A failing send rolls the token back
    and raises, so the task shows as failed."""
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("project", "organization", "invited_by")
        .filter(pk=invitation_id, kind=Invitation.Kind.EMAIL)
        .first()
    )
    if invitation is None or invitation_status(invitation) != "pending":
        return False
    raw = secrets.token_urlsafe(32)
    invitation.hashed_token = hash_token(raw)
    invitation.sent_at = timezone.now()
    invitation.save(update_fields=["hashed_token", "sent_at"])
    context = {
        "invitation": invitation,
        "target": _target_name(invitation),
        "what": "project" if invitation.project_id else "organization",
        "inviter": invitation.invited_by.name if invitation.invited_by else "Someone",
        "url": invitation_url(raw),
        "site_url": settings.SITE_URL,
    }
    subject = f"You are invited to {context['target']} on PUNT"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("projects/email/invitation.txt", context),
        to=[invitation.email],
    )
    message.attach_alternative(render_to_string("projects/email/invitation.html", context), "text/html")
    message.send()
    return True
