"""Backlog and sprints: plan by dragging tickets between the backlog and sprints, start and
complete sprints, and the burndown of the active one. Writes go through the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from insights.forecast import forecast_remaining
from projects import selectors as project_selectors
from projects import services as project_services
from projects.models import Column, Project, Sprint
from projects.permissions import MANAGE, READ, WRITE
from punt import errors
from punt.ranges import as_id
from tickets import selectors as ticket_selectors
from tickets import services as ticket_services
from tickets.models import Ticket
from web import cards as page_cards
from web.burndown import burndown_svg
from web.pages import can, project_for, tab_id
from web.views.saved_views import narrowed, switcher


class SprintForm(forms.Form):
    name = forms.CharField(max_length=100)
    goal = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    start_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


def _live(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return tickets.filter(deleted_at__isnull=True)


def _back(project: Project) -> HttpResponse:
    return redirect("web:backlog", project.namespace, project.path)


@login_required
@require_GET
def backlog(request: HttpRequest, namespace: str, path: str) -> HttpResponse:
    project, role = project_for(request, namespace, path, READ)
    # One query for every sprint: the open ones are planned here, the last five closed listed.
    every_sprint = list(project_selectors.project_sprints(project=project))
    sprints = [s for s in every_sprint if s.status != Sprint.Status.CLOSED]
    sprints.sort(key=lambda s: (s.status != Sprint.Status.ACTIVE, s.created_at, s.pk))
    closed = [s for s in every_sprint if s.status == Sprint.Status.CLOSED][:5]
    # The open backlog and every open sprint's tickets as cards (tickets.cards), grouped here.
    tickets = ticket_selectors.cards_for_project(project=project).filter(
        Q(sprint__isnull=True, state=Ticket.State.OPENED) | Q(sprint__in=[s.pk for s in sprints])
    )
    views = switcher(request, project)
    tickets, views.error = narrowed(tickets, views.current, user=request.user)
    columns = {column.pk: column for column in project.columns.all()}
    by_sprint: dict[int | None, list[dict[str, Any]]] = {None: []}
    # Board order: by column, then rank (the cards come in rank order; the sort is stable).
    for card in sorted(page_cards.read(tickets, project=project), key=lambda card: columns[card["column_id"]].order):
        card["column_name"] = columns[card["column_id"]].name
        sprint_id = card["sprint"]["id"] if card["sprint"] else None
        by_sprint.setdefault(sprint_id, []).append(card)
    for sprint in sprints:
        sprint_cards = by_sprint.get(sprint.pk, [])
        # For the template only: not fields the model declares.
        sprint.__dict__.update(cards=sprint_cards, points=sum(card["estimate"] or 0 for card in sprint_cards))
    active = next((s for s in sprints if s.status == Sprint.Status.ACTIVE), None)
    context: dict[str, Any] = {
        "project": project,
        "role": role,
        "tab": "backlog",
        "can_write": can(role, WRITE),
        "can_manage": can(role, MANAGE),
        "sprints": sprints,
        "closed_sprints": closed,
        "backlog_cards": by_sprint[None],
        "active": active,
        "burndown": burndown_svg(project_selectors.sprint_burndown(sprint=active)) if active else "",
        # When the active sprint's open tickets finish, at the project's recent pace.
        "forecast": forecast_remaining(project=project, tickets=_live(active.tickets.all())) if active else None,
        "planned": [s for s in sprints if s.status == Sprint.Status.PLANNED],
        "form": SprintForm(),
        "done_category": Column.Category.DONE,
        "views": views,
    }
    return render(request, "web/backlog.html", context)


@login_required
@require_POST
def sprint_create(request: HttpRequest, namespace: str, path: str) -> HttpResponse:
    project, _ = project_for(request, namespace, path, WRITE)
    form = SprintForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A sprint needs a name (and valid dates).")
        return _back(project)
    try:
        sprint = project_services.sprint_create(
            project=project, by=request.user, tab_id=tab_id(request), **form.cleaned_data
        )
    except errors.PuntError as exc:
        messages.error(request, errors.message(exc))
    else:
        messages.success(request, f"{sprint.name} planned.")
    return _back(project)


def _sprint(project: Project, sprint_id: str) -> Sprint:
    pk = as_id(sprint_id)
    sprint = project.sprints.filter(pk=pk).first() if pk is not None else None
    if sprint is None:
        raise Http404("No such sprint.")
    sprint.project = project
    return sprint


@login_required
@require_POST
def sprint_start(request: HttpRequest, namespace: str, path: str, sprint_id: str) -> HttpResponse:
    project, _ = project_for(request, namespace, path, WRITE)
    sprint = _sprint(project, sprint_id)
    try:
        project_services.sprint_start(sprint=sprint, by=request.user, tab_id=tab_id(request))
    except errors.PuntError as exc:
        messages.error(request, errors.message(exc))
    else:
        messages.success(request, f"{sprint.name} started.")
    return _back(project)


@login_required
@require_POST
def sprint_complete(request: HttpRequest, namespace: str, path: str, sprint_id: str) -> HttpResponse:
    project, _ = project_for(request, namespace, path, WRITE)
    sprint = _sprint(project, sprint_id)
    move_to_id = request.POST.get("move_to", "")
    move_to = _sprint(project, move_to_id) if move_to_id else None
    try:
        result = project_services.sprint_complete(
            sprint=sprint, by=request.user, move_to=move_to, tab_id=tab_id(request)
        )
    except errors.PuntError as exc:
        messages.error(request, errors.message(exc))
    else:
        where = move_to.name if move_to else "the backlog"
        messages.success(request, f"{sprint.name} completed; {result['moved']} unfinished ticket(s) went to {where}.")
    return _back(project)


@login_required
@require_POST
def ticket_plan(request: HttpRequest, namespace: str, path: str, number: str) -> JsonResponse:
    """A ticket dragged into a sprint (`sprint` = id) or back to the backlog (`sprint` empty)."""
    project, _ = project_for(request, namespace, path, WRITE)
    ticket = Ticket.objects.filter(project=project, number=int(number), deleted_at__isnull=True).first()
    if ticket is None:
        raise Http404("Ticket not found.")
    ticket.project = project
    try:
        ticket_services.ticket_update(
            ticket=ticket, by=request.user, sprint=request.POST.get("sprint") or None, tab_id=tab_id(request)
        )
    except errors.PuntError as exc:
        return JsonResponse({"error": errors.message(exc)}, status=exc.status)
    return JsonResponse({"ok": True})
