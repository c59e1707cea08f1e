"""Editing helpers for the ticket panel and every Markdown box: the preview, the `@` / `#`
autocomplete, close/reopen and the restore behind "Undo" after a delete.

Each calls the same selectors and services as the API; the panel's own views are in ticket.py.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from projects.models import Membership
from projects.permissions import READ, WRITE, visible_projects
from punt import errors
from tickets import services as ticket_services
from tickets.models import Ticket
from tickets.services.inputs import BODY_MAX
from web.pages import project_for, tab_id
from web.views.ticket import _pk_for, _ticket, _ticket_url, after_change

SUGGESTIONS = 8  # rows in an autocomplete list
QUERY_MAX = 100


@login_required
@require_POST
def markdown_preview(request: HttpRequest, namespace: str, path: str) -> HttpResponse:
    """`text` rendered exactly as a saved description or comment is (sanitized, references linked)."""
    project, _ = project_for(request, namespace, path, READ, allow_archived=True)
    text = request.POST.get("text", "")
    if len(text) > BODY_MAX:
        return JsonResponse({"error": f"The text has at most {BODY_MAX} characters."}, status=400)
    html = ticket_services.render_markdown(project=project, by=request.user, text=text)
    return HttpResponse(html or '<p class="muted">Nothing to preview.</p>', content_type="text/html; charset=utf-8")


@login_required
@require_GET
def autocomplete(request: HttpRequest, namespace: str, path: str) -> JsonResponse:
    """Suggestions for a Markdown box: `kind=people` (project members, inserted as `@username`)
    or `kind=tickets` (live tickets by number, key or title, inserted as `KEY-12`, the reference
    form tickets.markdown links and the services turn into cross-references); for the ticket
    page's Relations box `kind=keys` (tickets of every project the caller can see)."""
    project, _ = project_for(request, namespace, path, READ, allow_archived=True)
    kind = request.GET.get("kind", "")
    query = request.GET.get("q", "").strip()[:QUERY_MAX]
    items: list[dict[str, Any]] = []
    if kind == "people":
        memberships = (
            Membership.objects.filter(project=project, user__is_active=True)
            .filter(Q(user__username__istartswith=query) | Q(user__display_name__icontains=query))
            .select_related("user")
            .order_by("user__username")[:SUGGESTIONS]
        )
        for membership in memberships:
            user = membership.user
            items.append({"value": f"@{user.username}", "label": user.username, "detail": user.name})
    elif kind == "tickets":
        tickets = Ticket.objects.filter(project=project, deleted_at__isnull=True)
        number = re.sub(rf"^(?:{re.escape(project.key)}-|#)", "", query, flags=re.IGNORECASE)
        if number.isdigit() and len(number) <= 9:
            tickets = tickets.filter(Q(number=int(number)) | Q(title__icontains=query))
        elif query:
            tickets = tickets.filter(title__icontains=query)
        for number_, title in tickets.order_by("-number").values_list("number", "title")[:SUGGESTIONS]:
            key = f"{project.key}-{number_}"
            items.append({"value": key, "label": key, "detail": title})
    elif kind == "keys":
        items = _ticket_keys(request, query)
    else:
        return JsonResponse({"error": "Ask for kind=people, kind=tickets or kind=keys."}, status=400)
    return JsonResponse({"items": items})


def _ticket_keys(request: HttpRequest, query: str) -> list[dict[str, Any]]:
    """A ticket link's other side: live tickets of every project the caller can see, by key
    (`DEMO-3`, `DEMO-`, `demo`) or by words of the title, newest first."""
    tickets = Ticket.objects.filter(
        project__in=visible_projects(request.user, include_archived=True), deleted_at__isnull=True
    )
    prefix, dash, number = query.rpartition("-")
    if dash and prefix and (number.isdigit() or not number) and len(number) <= 9:
        tickets = tickets.filter(project__key__iexact=prefix)
        if number:
            tickets = tickets.filter(number=int(number))
    elif query:
        tickets = tickets.filter(Q(title__icontains=query) | Q(project__key__iexact=query))
    rows = tickets.order_by("-updated_at", "-id").values_list("project__key", "number", "title")[:SUGGESTIONS]
    return [{"value": f"{key}-{n}", "label": f"{key}-{n}", "detail": title} for key, n, title in rows]


@login_required
@require_POST
def ticket_close(request: HttpRequest, namespace: str, path: str, number: str) -> HttpResponse:
    """Close the ticket (`reopen`=1 reopens it). An htmx answer carries the Undo: the same URL,
    the other way round."""
    project, _ = project_for(request, namespace, path, WRITE)
    ticket = _ticket(project, int(number))
    reopen = request.POST.get("reopen") == "1"
    try:
        if reopen:
            ticket = ticket_services.ticket_reopen(ticket=ticket, by=request.user, tab_id=tab_id(request))
        else:
            ticket = ticket_services.ticket_close(ticket=ticket, by=request.user, tab_id=tab_id(request))
    except errors.PuntError as exc:
        if request.headers.get("HX-Request") or _wants_json(request):
            return JsonResponse({"error": errors.message(exc)}, status=exc.status)
        messages.error(request, errors.message(exc))
        return HttpResponseRedirect(_ticket_url(project, ticket.number))
    text = f"{ticket.key} {'reopened' if reopen else 'closed'}."
    if _wants_json(request):
        return JsonResponse({"ok": True, "state": ticket.state, "url": _ticket_url(project, ticket.number)})
    if not request.headers.get("HX-Request"):
        messages.success(request, text)
    response = after_change(request, project, ticket.number)
    if request.headers.get("HX-Request"):
        url = reverse("web:ticket_close", args=[project.namespace, project.path, ticket.number])
        undo = {"text": text, "url": url, "data": {"reopen": "0" if reopen else "1"}}
        response["HX-Trigger"] = json.dumps({"punt:undo": undo})
    return response


@login_required
@require_POST
def ticket_restore(request: HttpRequest, namespace: str, path: str, number: str) -> HttpResponse:
    """Bring a deleted ticket back (ticket_restore, the API's restore). Admins restore any; a
    member may restore what they deleted themselves, which is what Undo after a delete needs."""
    project, _ = project_for(request, namespace, path, WRITE)
    ticket = Ticket.objects.filter(project=project, number=int(number), deleted_at__isnull=False).first()
    if ticket is None:
        if Ticket.objects.filter(pk=_pk_for(project, int(number))).exists():
            return JsonResponse({"error": "This ticket is not deleted."}, status=400)
        raise Http404("Ticket not found.")
    ticket = ticket_services.ticket_restore(ticket=ticket, by=request.user, tab_id=tab_id(request))
    url = _ticket_url(project, ticket.number)
    if _wants_json(request) or request.headers.get("HX-Request"):
        return JsonResponse({"ok": True, "key": ticket.key, "url": url})
    messages.success(request, f"{ticket.key} was restored.")
    return HttpResponseRedirect(url)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")
