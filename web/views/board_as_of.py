"""The board as it was at a past instant (`?as_of=` on the board's address): read-only, built
by tickets.as_of.board_as_of from the board's history, drawn with the live board's templates
but with no drag, no quick add and no edit control."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from projects.models import Project
from punt import errors
from tickets.as_of import board_as_of
from web.cards import PRIORITY_LABELS, TYPE_LABELS, ticket_url_prefix
from web.pages import can

AS_OF_HELP = "Give a past date (YYYY-MM-DD) or date and time (YYYY-MM-DDTHH:MM)."


def parse_as_of(text: str) -> tuple[datetime, bool]:
    """The instant `text` names and whether it named a whole day (then: the end of that day).
    A time without a zone is in the site's time zone. Raises Invalid for anything else, or
    for an instant still to come."""
    text = text.strip()
    try:
        moment = parse_datetime(text) if "T" in text or " " in text else None
        day = parse_date(text) if moment is None else None
    except ValueError:  # well formed but impossible (Feb 30, 25:00)
        moment = day = None
    whole_day = day is not None
    if day is not None:
        # The end of the day: its last instant, so the board shows everything done that day.
        moment = datetime.combine(day + timedelta(days=1), time.min) - timedelta(microseconds=1)
    if moment is None:
        raise errors.Invalid(AS_OF_HELP, details=[{"field": "as_of", "message": AS_OF_HELP}])
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if moment > timezone.now():
        message = "That moment has not come yet: the live board is the board now."
        raise errors.Invalid(message, details=[{"field": "as_of", "message": message}])
    return moment, whole_day


def _page_card(card: dict[str, Any], url_prefix: str) -> dict[str, Any]:
    """An as-of card with what the card template reads of a live card (tickets.cards' shape)."""
    assignee = card.get("assignee")
    return {
        **card,
        "url": f"{url_prefix}{card['number']}",
        "type_label": TYPE_LABELS.get(card["type"], card["type"]),
        "priority_label": PRIORITY_LABELS.get(card["priority"], card["priority"]),
        "assignee": {
            "name": assignee.get("display_name") or assignee["username"],
            "username": assignee["username"],
            "avatar": None,  # the picture people have now is not the one they had then
        }
        if assignee
        else None,
    }


def board_as_of_page(request: HttpRequest, project: Project, role: str) -> HttpResponse:
    """The read-only board at `?as_of=`; a bad or future value shows the picker with its error (400)."""
    raw = request.GET.get("as_of", "")[:64]
    context: dict[str, Any] = {
        "project": project,
        "role": role,
        "tab": "board",
        "can_manage": can(role, "admin"),
        "can_write": False,
        "read_only": True,
        "as_of_value": raw,
    }
    try:
        at, whole_day = parse_as_of(raw)
        board = board_as_of(project=project, at=at)
    except errors.Invalid as exc:
        context["as_of_error"] = errors.message(exc)
        return render(request, "web/board_as_of.html", context, status=400)
    prefix = ticket_url_prefix(project)
    columns = [
        {
            "pk": column["id"],
            "name": column["name"],
            "wip_limit": column["wip_limit"],
            "ticket_count": column["card_count"],
            "over_limit": bool(column["wip_limit"] and column["card_count"] > column["wip_limit"]),
            "cards": [_page_card(card, prefix) for card in column["cards"]],
            "more_url": "",
        }
        for column in board["columns"]
    ]
    context.update(at=at, whole_day=whole_day, columns=columns)
    return render(request, "web/board_as_of.html", context)
