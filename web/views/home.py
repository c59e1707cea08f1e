"""Home (my projects, my tickets, recent activity) and the project list with "new project"."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from notifications import selectors as notification_selectors
from notifications import services as notification_services
from projects import selectors as project_selectors
from projects import services as project_services
from projects.permissions import visible_projects
from punt import errors
from punt.api.request import request_user
from tickets.models import Event, Ticket
from web.forms import ProjectForm, add_service_errors

HOME_TICKETS = 30
HOME_EVENTS = 25
HOME_NOTIFICATIONS = 10


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    notifications, _ = notification_selectors.notification_list(user=user, limit=HOME_NOTIFICATIONS)
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "notifications":
        # inbox.js redraws the notifications box live, without the rest of the page.
        return render(request, "web/_home_notifications.html", {"notifications": notifications})
    projects = list(project_selectors.projects_for_user(user=user))
    mine = (
        Ticket.objects.filter(
            assignee=user, deleted_at__isnull=True, state=Ticket.State.OPENED, project__in=visible_projects(user)
        )
        .select_related("project__owner_user", "project__organization", "column")
        .prefetch_related("labels")
        .order_by("-updated_at")[:HOME_TICKETS]
    )
    activity = (
        Event.objects.filter(
            ticket__project__in=visible_projects(user).filter(memberships__user=user),
            ticket__deleted_at__isnull=True,
            deleted_at__isnull=True,
        )
        .select_related("author", "ticket__project__owner_user", "ticket__project__organization")
        .order_by("-created_at", "-id")[:HOME_EVENTS]
    )
    context = {
        "projects": projects,
        "my_tickets": mine,
        "activity": activity,
        "notifications": notifications,
    }
    return render(request, "web/home.html", context)


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    """Mark every notification read, then back to the page the form was on (Home or the inbox)."""
    notification_services.notification_mark_all_read(user=request_user(request))
    target = request.POST.get("next", "")
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return redirect("web:home")
    return redirect(target)


@login_required
@require_GET
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one notification read and go where it points (only ever inside this site)."""
    # Someone else's notification raises punt.errors.NotFound, which is a 404 page.
    notification = notification_selectors.notification_get(user=request.user, notification_id=notification_id)
    notification_services.notification_mark_read(user=request_user(request), notification=notification)
    target = notification.url or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        target = "/"
    return redirect(target)


@login_required
@require_http_methods(["GET", "POST"])
def projects(request: HttpRequest) -> HttpResponse:
    # Where the user may create projects: their own namespace and organizations they run.
    orgs = project_selectors.organizations_for_user(user=request.user)
    namespaces = [request.user.username] + [
        o.slug for o in orgs if request.user.is_staff or o.caller_role in ("owner", "admin")
    ]
    form = ProjectForm(request.POST or None, namespaces=namespaces)
    if request.method == "POST" and form.is_valid():
        try:
            project = project_services.project_create(by=request.user, **form.cleaned_data)
        except errors.Invalid as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Project {project.name} created.")
            return redirect("web:board", project.namespace, project.path)
    projects = list(project_selectors.projects_for_user(user=request.user))
    archived = list(project_selectors.projects_for_user(user=request.user, archived=True))
    return render(request, "web/projects.html", {"projects": projects, "archived": archived, "form": form})
