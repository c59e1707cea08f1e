"""The board as it was at a past instant (`?as_of=` on the board's address): read-only, built
by tickets.as_of.board_as_of from the board's history, drawn with the live board's templates
but with no drag, no quick add and no edit control."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from projects.models import Project
from punt import errors
from tickets.as_of import board_as_of, parse_past_moment
from web.cards import PRIORITY_LABELS, TYPE_LABELS, ticket_url_prefix
from web.pages import can


def _page_card(card: dict[str, Any], url_prefix: str) -> dict[str, Any]:
    """An as-of card (tickets.cards' shape, rewound) with what the card template reads besides.
    No custom field chips: their values are today's, not the moment's."""
    return {
        **card,
        "url": f"{url_prefix}{card['number']}",
        "type_label": TYPE_LABELS.get(card["type"], card["type"]),
        "priority_label": PRIORITY_LABELS.get(card["priority"], card["priority"]),
        "due": date.fromisoformat(card["due_date"]) if card.get("due_date") else None,
        "chips": [],
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
        at, whole_day = parse_past_moment(raw)
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
    # The picker shows the moment in its own format (a date, or a zoned time, reads as blank there).
    as_of_value = timezone.localtime(at).strftime("%Y-%m-%dT%H:%M")
    context.update(at=at, whole_day=whole_day, columns=columns, as_of_value=as_of_value)
    return render(request, "web/board_as_of.html", context)
