"""The invitation landing page (/invite/<token>) and the member picker's suggestions.

Both call the projects app's services and selectors, as the API does.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts import services as account_services
from projects import selectors as project_selectors
from projects.models import Invitation
from projects.permissions import MANAGE
from projects.services import invitations
from punt import errors
from web.pages import project_for

CANDIDATES = 10  # rows in the member picker
QUERY_MAX = 100


def _landing(invitation: Invitation) -> str:
    """Where a member of the invitation's target goes: the project board or the projects page."""
    project = invitation.project
    if project is not None:
        return reverse("web:board", args=[project.namespace, project.path])
    return reverse("web:projects")


@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest, token: str) -> HttpResponse:
    """Show what the invitation opens; signed in, POST accepts it and lands in the project."""
    invitation = invitations.invitation_by_token(token)
    here = reverse("web:invite", args=[token])
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(reverse("web:login") + "?" + urlencode({"next": here}))
        try:
            accepted = invitations.invitation_accept(token=token, user=request.user, request=request)
        except errors.PuntError as exc:
            messages.error(request, errors.message(exc))
            return redirect(here)
        target = invitation.project or invitation.organization
        name = target.name if target is not None else ""
        if accepted.joined:
            messages.success(request, f"Welcome to {name}: you joined as {accepted.membership.role}.")
        else:
            messages.info(request, f"You are already a member of {name}.")
        return redirect(_landing(invitation))
    status = invitations.invitation_status(invitation)
    context = {
        "invitation": invitation,
        "status": status,
        "refusal": invitations.REFUSALS.get(status),
        "target": invitation.project or invitation.organization,
        "what": "project" if invitation.project else "organization",
        "next": urlencode({"next": here}),
        "registration_open": account_services.registration_open(),
        "email_mismatch": (
            request.user.is_authenticated
            and invitation.kind == Invitation.Kind.EMAIL
            and (request.user.email or "").lower() != invitation.email.lower()
        ),
    }
    return render(request, "web/invite.html", context)


@login_required
@require_GET
def member_candidates(request: HttpRequest, namespace: str, path: str) -> JsonResponse:
    """People on the site for the members section's "add member" field (project admins only;
    e-mails shown to site admins only: projects.selectors.member_candidates)."""
    project_for(request, namespace, path, MANAGE)
    query = request.GET.get("q", "")[:QUERY_MAX]
    rows = project_selectors.member_candidates(query=query, see_emails=request.user.is_staff, limit=CANDIDATES)
    return JsonResponse({"items": rows})
