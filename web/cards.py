"""Cards as pages draw them: tickets.cards' JSON plus the few values only a page needs.

Pages read cards exactly as the API does (tickets.cards: a fixed number of statements for any number of
cards), so a field added to the card is in every page's template as `card.<name>` with no
second query path. A page card is the card dict with these keys added:

- `url`: the ticket page;
- `type_label`, `priority_label`: the choices' display names;
- `due`: `due_date` as a date, for the `date` filter;
- `chips`: the values of the custom fields shown on cards (show_on_card), in field order, as
  [{"name", "text", "color"}] ("Severity: 2"; a select's chip has its option's colour).

People (`card.assignee`, ...) stay the card's briefs; the `avatar` tag draws them.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from projects.models import Project
from tickets import cards
from tickets.custom_field_selectors import custom_fields_on_cards
from tickets.models import CustomField, Ticket

TYPE_LABELS: dict[str, str] = dict(Ticket.Type.choices)
PRIORITY_LABELS: dict[str, str] = dict(Ticket.Priority.choices)


def ticket_url_prefix(project: Project) -> str:
    """The ticket page URL of `project` up to the ticket number (one reverse() per page, not per card)."""
    sample = reverse("web:ticket", args=[project.namespace, project.path, 0])
    assert sample.endswith("/0"), sample  # the number ends the ticket page's URL
    return sample[:-1]


CHIP_TEXT_MAX = 40  # a long text shown on a card is cut here


@dataclass
class OnCard:
    """A custom field a board card shows (show_on_card), with its options' colours by name."""

    key: str
    name: str
    type: str
    unit: str
    colors: dict[str, str] = dataclass_field(default_factory=dict)


def fields_on_cards(project: Project) -> list[OnCard]:
    """The project's live shown-on-card fields in order, with their options' colours: one query
    (the options joined in), whatever the number of fields and cards."""
    rows = (
        custom_fields_on_cards(project=project)
        .order_by("position", "id", "options__position", "options__id")
        .values_list("id", "key", "name", "type", "unit", "options__name", "options__color")
    )
    found: dict[int, OnCard] = {}
    for field_id, key, name, type_, unit, option, color in rows:
        field = found.setdefault(field_id, OnCard(key=key, name=name, type=type_, unit=unit))
        if option is not None:
            field.colors[option] = color
    return list(found.values())


def chip_text(field: OnCard, value: Any) -> str:
    """One value as a card chip shows it after the field's name."""
    if field.type == CustomField.Type.CHECKBOX:
        return "Yes" if value else "No"
    if field.type == CustomField.Type.USER:
        return f"@{value}"
    if field.type == CustomField.Type.NUMBER and field.unit:
        return f"{value} {field.unit}"
    text = str(value)
    return text if len(text) <= CHIP_TEXT_MAX else text[: CHIP_TEXT_MAX - 1] + "…"


def card_chips(fields: list[OnCard], values: dict[str, Any]) -> list[dict[str, Any]]:
    """The chips of one card: `fields` are fields_on_cards(), `values` the card's custom_fields."""
    chips: list[dict[str, Any]] = []
    for field in fields:
        value = values.get(field.key)
        if value is None:
            continue
        if field.type in (CustomField.Type.SELECT, CustomField.Type.MULTI_SELECT):
            names = value if isinstance(value, list) else [value]
            chips.extend({"name": field.name, "text": name, "color": field.colors.get(name)} for name in names)
        else:
            chips.append({"name": field.name, "text": chip_text(field, value), "color": None})
    return chips


def page_cards(card_list: list[dict[str, Any]], *, project: Project) -> list[dict[str, Any]]:
    """`card_list` (tickets.cards JSON of `project`'s tickets) as page cards, in the same order.
    Reads the project's shown-on-card fields once for all cards (one query; none for no card)."""
    prefix = ticket_url_prefix(project)
    on_cards = fields_on_cards(project) if card_list else []
    return [
        {
            **card,
            "url": f"{prefix}{card['number']}",
            "type_label": TYPE_LABELS.get(card["type"], card["type"]),
            "priority_label": PRIORITY_LABELS.get(card["priority"], card["priority"]),
            "due": date.fromisoformat(card["due_date"]) if card["due_date"] else None,
            "chips": card_chips(on_cards, card.get("custom_fields") or {}),
        }
        for card in card_list
    ]


def read(tickets: list[int] | QuerySet[Ticket], *, project: Project) -> list[dict[str, Any]]:
    """The page cards of `tickets` (ids, or a queryset of the project's tickets: rank order),
    in tickets.cards' statements plus one for the shown-on-card custom fields."""
    return page_cards(cards.cards(tickets, project=project), project=project)
