"""The inbox page (notifications: unread or all, mark read, jump to the place) and the top bar's counts.

The page, its list fragment and the counts update live: inbox.js listens on the user socket
and fetches the list (HX-Target: notification-list) or the counts when something arrives.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from notifications import selectors as notification_selectors
from notifications import services as notification_services
from punt.api.request import request_user
from punt.ranges import as_id
from web.context_processors import InboxCounts

PAGE = 50


def _list_context(request: HttpRequest) -> dict[str, object]:
    show = "unread" if request.GET.get("show") == "unread" else "all"
    before = as_id(request.GET.get("before", ""))
    rows, more = notification_selectors.notification_list(
        user=request.user, unread_only=show == "unread", before=before, limit=PAGE
    )
    return {"notifications": rows, "more": more, "show": show, "before": before}


@login_required
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    context = _list_context(request)
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "notification-list":
        return render(request, "web/_notification_list.html", context)
    return render(request, "web/notifications.html", context)


@login_required
@require_POST
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one notification read; htmx gets the list back, a plain form goes back to the page."""
    notification = notification_selectors.notification_get(user=request.user, notification_id=notification_id)
    notification_services.notification_mark_read(user=request_user(request), notification=notification)
    if request.headers.get("HX-Request"):
        return render(request, "web/_notification_list.html", _list_context(request))
    return redirect(reverse("web:notifications") + ("?show=unread" if request.GET.get("show") == "unread" else ""))


@login_required
@require_GET
def inbox_counts(request: HttpRequest) -> JsonResponse:
    """The top bar's numbers, for inbox.js when the user socket says they changed."""
    counts = InboxCounts(request.user)
    response = JsonResponse({"notifications": counts.notifications, "messages": counts.messages})
    response["Cache-Control"] = "no-store"
    return response
