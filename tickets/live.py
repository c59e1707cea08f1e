"""Live PQL views: the tickets of a project that match a subscriber's query, kept up to date as
ticket events happen (the project WebSocket's `subscribe` messages, punt/realtime/README.md).

Nothing here queries per subscriber per event. A view is opened with one query (the ids that
match now); after that, each ticket event is read against every view in memory: the event's
ticket's facts are loaded once (`pql.load_facts`, three queries) by whoever hands the event to
the views, and each view's compiled query tests them (`Compiled.test`, the Python reading of
the same query).

A view remembers which tickets it matches, so it knows when one stops matching ("left"). It
keeps at most KNOWN_MAX ids: a query that matched more when it was opened is `complete=False`,
and then a ticket that does not match is reported as left unless it is known not to have
matched (it left before): a left for a card the client never had is harmless to drop.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from projects.models import Project
from tickets import pql
from tickets.selectors import cards_for_project

# The bus events that can change whether a ticket matches, with the ticket's id in `payload["id"]`.
TICKET_EVENTS = frozenset({"board.card_created", "board.card_updated", "board.card_moved", "board.card_deleted"})
GONE = "board.card_deleted"
KNOWN_MAX = 2000
ENTERED, LEFT, UPDATED = "view.entered", "view.left", "view.updated"
# A move's payload is the compact card plus where it came from and went to.
_NOT_CARD = ("from_column_id", "to_column_id")


@dataclass
class LiveView:
    """One subscription: its client-chosen id, its query, and the ids it matches now."""

    id: str
    text: str
    project_id: int
    compiled: pql.Compiled
    matching: set[int]
    complete: bool = True
    # Tickets seen to stop matching while the view was incomplete (so no second left for them).
    left: set[int] = field(default_factory=set)

    def matches(self, facts: pql.Facts | None) -> bool:
        return facts is not None and facts.project_id == self.project_id and self.compiled.test(facts)

    def matched_before(self, ticket_id: int) -> bool:
        if ticket_id in self.matching:
            return True
        return not self.complete and ticket_id not in self.left


def open_view(view_id: str, text: str, *, project: Project, user: Any) -> LiveView:
    """Compile `text` for `user` in `project` and read what it matches now (one query after the
    compiler's name lookups). Raises pql.PqlError for a query the language refuses."""
    compiled = pql.compile_query(text, pql.project_scope(project, user))
    ids = list(cards_for_project(project=project).filter(compiled.q()).values_list("pk", flat=True)[: KNOWN_MAX + 1])
    return LiveView(
        id=view_id,
        text=text,
        project_id=project.pk,
        compiled=compiled,
        matching=set(ids[:KNOWN_MAX]),
        complete=len(ids) <= KNOWN_MAX,
    )


def event_ticket_id(event: str, payload: dict[str, Any]) -> int | None:
    """The id of the ticket a bus event is about, if it is an event that views read."""
    ticket_id = payload.get("id") if event in TICKET_EVENTS else None
    return ticket_id if isinstance(ticket_id, int) and not isinstance(ticket_id, bool) else None


def changes(
    views: Iterable[LiveView], *, event: str, payload: dict[str, Any], facts: pql.Facts | None
) -> list[tuple[LiveView, dict[str, Any]]]:
    """What each view says about one ticket event: (view, message) for those it concerns, where a
    message is `{"type": "view.entered" | "view.left" | "view.updated", "payload": {...}}`. Updates
    the views' memory of what they match. `facts` are the ticket's as they are now (None: gone)."""
    ticket_id = event_ticket_id(event, payload)
    if ticket_id is None:
        return []
    if event == GONE:
        facts = None
    out = []
    for view in views:
        before = view.matched_before(ticket_id)
        now = view.matches(facts)
        if now:
            view.matching.add(ticket_id)
            view.left.discard(ticket_id)
            kind = UPDATED if before else ENTERED
        elif before:
            view.matching.discard(ticket_id)
            if not view.complete:
                view.left.add(ticket_id)
            kind = LEFT
        else:
            continue
        out.append((view, {"type": kind, "payload": _view_payload(view, kind, ticket_id, payload, facts)}))
    return out


def _view_payload(
    view: LiveView, kind: str, ticket_id: int, payload: dict[str, Any], facts: pql.Facts | None
) -> dict[str, Any]:
    number = facts.number if facts is not None else payload.get("number") or _number_of(payload.get("key"))
    body: dict[str, Any] = {"id": view.id, "ticket_id": ticket_id, "number": number, "key": payload.get("key")}
    if kind != LEFT:
        body["card"] = {name: value for name, value in payload.items() if name not in _NOT_CARD}
    return body


def _number_of(key: Any) -> int | None:
    """BLOG-12 → 12 (a deleted card's event carries its key, not its number)."""
    tail = str(key or "").rpartition("-")[2]
    return int(tail) if tail.isdigit() else None
