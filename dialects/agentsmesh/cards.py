"""AgentsMesh's ticket JSON (seed 002), declared once as tickets.cards.Card fields.

The list item and the single ticket (list item + `parent_slug`) are built from plain rows by
the card module's machinery, as PUNT's own cards are: a new field is one `CardField(...)` line
here. dialects.agentsmesh.serializers describe the same JSON for the OpenAPI schema (and, in
tests/dialects/test_agentsmesh_cards.py, are the ORM twin it is held to byte for byte).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils.dateparse import parse_datetime

from dialects.common import iso_seconds
from tickets.cards import INTEGER, OPTIONAL_INTEGER, TEXT, Card, CardField, Kind, Schema


def seconds(value: datetime | str | None) -> str | None:
    """iso_seconds(), also of a timestamp as SQLite stores it (the card read takes it as text):
    UTC, "YYYY-MM-DD HH:MM:SS[.ffffff]"."""
    if not isinstance(value, str):
        return iso_seconds(value)
    if len(value) in (19, 26) and value[10] == " ":
        return f"{value[:10]}T{value[11:19]}Z"
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError(f"Not a stored timestamp: {value!r}")
    return iso_seconds(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))


def _one(path: str) -> tuple[str, ...]:
    return (path,)


# The slugs: `AM-42`, from the ticket's own project (a list spans the organization's projects).
SLUG = Kind(lambda name: ("project__key", name), 'f"{{{0}}}-{{{1}}}"', Schema("string"))
# A parent lives in the same project as its child.
PARENT_SLUG = Kind(
    lambda name: (f"{name}_id", f"{name}__number", "project__key"),
    'None if {0} is None else f"{{{2}}}-{{{1}}}"',
    Schema("string", nullable=True),
)
# The card's labels by name only (fastpath.card_labels, keyed by the card's id).
LABEL_NAMES = Kind(
    lambda name: ("id",), '[label["name"] for label in labels.get({0}, ())]', Schema("string", many=True)
)
SECONDS = Kind(_one, "seconds({0})", Schema("datetime"))

# The list item. JSON keys come out in this order.
LIST_FIELDS: tuple[CardField, ...] = (
    CardField("id", INTEGER),
    CardField("slug", SLUG, source="number"),
    CardField("type", TEXT),
    CardField("title", TEXT),
    CardField("status", TEXT, source="column__category"),
    CardField("priority", TEXT),
    CardField("assignee_id", OPTIONAL_INTEGER),
    CardField("repository_id", INTEGER, source="project_id"),
    CardField("labels", LABEL_NAMES),
    CardField("created_at", SECONDS),
    CardField("updated_at", SECONDS),
)
# The single ticket (GET by slug, and the answer to every write).
TICKET_FIELDS: tuple[CardField, ...] = (*LIST_FIELDS, CardField("parent_slug", PARENT_SLUG, source="parent"))

HELPERS: dict[str, Any] = {"seconds": seconds}
LIST_ITEM = Card("agentsmesh_list_item", LIST_FIELDS, helpers=HELPERS)
TICKET = Card("agentsmesh_ticket", TICKET_FIELDS, helpers=HELPERS)
