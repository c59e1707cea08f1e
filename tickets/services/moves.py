"""Moving cards: ranks, column locks, WIP limits and the open/closed state a column implies.

Card order: `Ticket.rank` is a sparse key (gap RANK_GAP). A move takes the midpoint between
its new neighbours and writes one row; only when two neighbours are adjacent is the column
renumbered, in one pass. The order is always (rank, id), which is total even if ranks tie.
Writers that compute ranks lock the column rows involved (SELECT ... FOR UPDATE on
PostgreSQL; SQLite serializes writers anyway), so concurrent moves never interleave.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from projects.models import Column
from punt import errors, events
from punt.errors import invalid as _invalid
from punt.ranges import ID_MAX
from tickets import cards, fastpath
from tickets.models import Event, Ticket
from tickets.services.common import Action, _actor_id, _event, _reload
from tickets.services.placements import placement_add, placements_add
from tickets.services.relations import check_blockers
from tickets.services.watchers import _notify_watchers

RANK_GAP = 1024


class WipLimitExceeded(errors.Conflict):
    default_message = "The column's WIP limit is reached."
    code = "wip_limit"


def _lock_columns(ids: Iterable[int]) -> dict[int, Column]:
    """Lock column rows in id order (a fixed order, so two movers cannot deadlock)."""
    return fastpath.lock_columns(ids=list(ids))


def _rebalance(column: Column, exclude_id: int | None) -> None:
    """Renumber a column's cards RANK_GAP apart, keeping their order: one pass, one bulk write."""
    cards = Ticket.objects.filter(column=column)
    if exclude_id is not None:
        cards = cards.exclude(pk=exclude_id)
    rows = list(cards.order_by("rank", "id").only("pk", "rank", "project_id", "deleted_at"))
    for index, row in enumerate(rows):
        row.rank = (index + 1) * RANK_GAP
    Ticket.objects.bulk_update(rows, ["rank"], batch_size=500)
    # New numbers, same order: the history keeps the ranks comparable with later moves'.
    placements_add(
        tickets=[row for row in rows if row.deleted_at is None], column=column, from_category=column.category
    )


def _neighbours(
    column: Column, exclude_id: int | None, before_id: int | None, after_id: int | None, index: int | None
) -> tuple[int | None, int | None]:
    """(rank just above, rank just below) the slot the card goes to; None at an end of the column."""
    anchor_id = before_id if before_id is not None else after_id
    if anchor_id is not None:
        field = "before_id" if before_id is not None else "after_id"
        found = None
        if abs(anchor_id) <= ID_MAX:  # larger ids are no card's (and no database integer)
            found = fastpath.neighbour_ranks(
                column_id=column.pk, exclude_id=exclude_id, anchor_id=anchor_id, above=before_id is not None, index=None
            )
        if found is None:
            raise _invalid(field, f"Card {anchor_id} is not in the column '{column.name}'.")
        return found
    index = None if index is None else min(index, ID_MAX)
    found = fastpath.neighbour_ranks(
        column_id=column.pk, exclude_id=exclude_id, anchor_id=None, above=False, index=index
    )
    assert found is not None
    return found


def _rank_for(
    column: Column,
    *,
    exclude_id: int | None = None,
    before_id: int | None = None,
    after_id: int | None = None,
    index: int | None = None,
) -> int:
    """A rank for the slot, renumbering the column once if the neighbours have no room between them.

    Precondition: the column row is locked.
    """
    for _attempt in range(2):
        above, below = _neighbours(column, exclude_id, before_id, after_id, index)
        if above is None:
            return RANK_GAP if below is None else below - RANK_GAP
        if below is None:
            return above + RANK_GAP
        if below - above >= 2:
            return (above + below) // 2
        _rebalance(column, exclude_id)
    raise RuntimeError("A rebalanced column still has no room between neighbours.")


def _check_wip(column: Column, *, exclude_id: int | None, force: bool) -> None:
    if column.wip_limit is None or force:
        return
    live = Ticket.objects.filter(column=column, deleted_at__isnull=True)
    if exclude_id is not None:
        live = live.exclude(pk=exclude_id)
    count = live.count()
    if count >= column.wip_limit:
        raise WipLimitExceeded(
            f"The column '{column.name}' has a WIP limit of {column.wip_limit} and holds {count} cards; "
            'send "force": true to exceed it.'
        )


def _apply_state(ticket: Ticket, *, column: Column, by: Any) -> Action | None:
    """Keep `state` in line with the column: entering done closes, leaving done reopens."""
    done = column.category == Column.Category.DONE
    if done and ticket.state != Ticket.State.CLOSED:
        ticket.state = Ticket.State.CLOSED
        ticket.closed_at = timezone.now()
        ticket.closed_by = by if getattr(by, "pk", None) else None
        return "close"
    if not done and ticket.state != Ticket.State.OPENED:
        ticket.state = Ticket.State.OPENED
        ticket.closed_at = None
        ticket.closed_by = None
        return "reopen"
    return None


@transaction.atomic
def ticket_move(
    *,
    ticket: Ticket,
    column: Column,
    by: Any,
    before_id: int | None = None,
    after_id: int | None = None,
    index: int | None = None,
    force: bool = False,
    tab_id: str | None = None,
    reload: bool = True,
) -> Ticket:
    """Put the card in `column` before/after a neighbour card, at `index` (0 = top), or at the bottom.

    Writes the card's row only (the column is renumbered in one pass when a gap is used up).
    Entering a done column closes the ticket; leaving it reopens it. A WIP limit refuses
    cards from other columns unless `force`; so does a done column a card blocked by an open
    ticket (relations.Blocked, naming the blockers). Returns the ticket re-read with everything its
    serializers show; `reload=False` is for a caller that answers with the card only: it
    gets the ticket as moved, with `ticket.card` the full card's JSON (the one read that
    also made the event), and skips re-reading the model with its relations (a third of a move).
    """
    if sum(x is not None for x in (before_id, after_id, index)) > 1:
        raise _invalid("non_field_errors", "Give only one of before_id, after_id or index.")
    if column.project_id != ticket.project_id:
        raise _invalid("column_id", "That column belongs to another project.")
    # Lock both columns, then re-read the card: another mover may have changed it meanwhile.
    locked_source = ticket.column_id
    while True:
        columns = _lock_columns([locked_source, column.pk])
        column_id, state = fastpath.ticket_place_for_update(ticket_id=ticket.pk)
        if column_id in columns:
            break
        locked_source = column_id
    source = columns[column_id]
    target = columns[column.pk]
    ticket.state = state
    if source.pk == target.pk and before_id is None and after_id is None and index is None:
        # Nowhere to go: a reorder without a position keeps the place.
        if reload:
            return _reload(ticket)
        ticket.card = cards.card(ticket, shape=cards.FULL)
        return ticket
    if before_id == ticket.pk or after_id == ticket.pk:
        raise _invalid("before_id" if before_id == ticket.pk else "after_id", "A card cannot be its own neighbour.")
    if source.pk != target.pk:
        _check_wip(target, exclude_id=ticket.pk, force=force)
        if target.category == Column.Category.DONE and source.category != Column.Category.DONE and not force:
            check_blockers(ticket=ticket, by=by)
    rank = _rank_for(target, exclude_id=ticket.pk, before_id=before_id, after_id=after_id, index=index)

    ticket.column = target
    ticket.rank = rank
    fields = ["column", "rank", "updated_at"]
    state_action = _apply_state(ticket, column=target, by=by)
    if state_action:
        fields += ["state", "closed_at", "closed_by"]
    ticket.save(update_fields=fields)
    placement_add(ticket=ticket, column=target, from_category=source.category)

    if source.pk != target.pk:
        _event(
            ticket,
            by,
            Event.Kind.ACTION,
            "move",
            {
                "from_column": {"id": source.pk, "name": source.name, "category": source.category},
                "to_column": {"id": target.pk, "name": target.name, "category": target.category},
            },
        )
        if state_action:
            _event(ticket, by, Event.Kind.ACTION, state_action)
        _notify_watchers(
            ticket=ticket,
            by=by,
            action=state_action or "moved",
            summary=f"moved it from {source.name} to {target.name}",
            tab_id=tab_id,
        )
    # One read of the card serves the event and the caller (publishing changes nothing on it).
    ticket.card = cards.card(ticket, shape=cards.FULL)
    payload = {**cards.compact(ticket.card), "from_column_id": source.pk, "to_column_id": target.pk}
    events.publish("board.card_moved", payload, project_id=ticket.project_id, tab_id=tab_id, actor_id=_actor_id(by))
    return _reload(ticket) if reload else ticket
