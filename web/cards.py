"""Cards as pages draw them: tickets.cards' JSON plus the few values only a page needs.

Pages read cards exactly as the API does (tickets.cards: two statements for any number of
cards), so a field added to the card is in every page's template as `card.<name>` with no
second query path. A page card is the card dict with these keys added:

- `url`: the ticket page;
- `type_label`, `priority_label`: the choices' display names;
- `due`: `due_date` as a date, for the `date` filter.

People (`card.assignee`, ...) stay the card's briefs; the `avatar` tag draws them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from projects.models import Project
from tickets import cards
from tickets.models import Ticket

TYPE_LABELS: dict[str, str] = dict(Ticket.Type.choices)
PRIORITY_LABELS: dict[str, str] = dict(Ticket.Priority.choices)


def ticket_url_prefix(project: Project) -> str:
    """The ticket page URL of `project` up to the ticket number (one reverse() per page, not per card)."""
    sample = reverse("web:ticket", args=[project.namespace, project.path, 0])
    assert sample.endswith("/0"), sample  # the number ends the ticket page's URL
    return sample[:-1]


def page_cards(card_list: list[dict[str, Any]], *, project: Project) -> list[dict[str, Any]]:
    """`card_list` (tickets.cards JSON of `project`'s tickets) as page cards, in the same order."""
    prefix = ticket_url_prefix(project)
    return [
        {
            **card,
            "url": f"{prefix}{card['number']}",
            "type_label": TYPE_LABELS.get(card["type"], card["type"]),
            "priority_label": PRIORITY_LABELS.get(card["priority"], card["priority"]),
            "due": date.fromisoformat(card["due_date"]) if card["due_date"] else None,
        }
        for card in card_list
    ]


def read(tickets: list[int] | QuerySet[Ticket], *, project: Project) -> list[dict[str, Any]]:
    """The page cards of `tickets` (ids, or a queryset of the project's tickets: rank order),
    in tickets.cards' two statements."""
    return page_cards(cards.cards(tickets, project=project), project=project)
