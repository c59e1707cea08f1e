"""Ticket relations: blocks / is blocked by, duplicates / is duplicated by, relates to.

One row per link (TicketRelation: `source` <kind> `target`); the target's side presents the
inverse kind. Callers pass the kind as either side names it ("is_blocked_by" is stored as the
other ticket blocking this one). Links may cross projects: the caller has checked write access
on `ticket` and read access on `other` (relation_target() resolves a key with that rule).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from projects.permissions import visible_projects
from punt import errors, events
from punt.errors import invalid as _invalid
from tickets.models import Event, Ticket, TicketRelation
from tickets.selectors import presented_kind
from tickets.services.common import _actor_id, _event, _touch

Kind = TicketRelation.Kind

# Every kind a caller may name, from the ticket they link from: (stored kind, is that ticket the source).
KINDS: dict[str, tuple[str, bool]] = {
    "blocks": (Kind.BLOCKS, True),
    "is_blocked_by": (Kind.BLOCKS, False),
    "duplicates": (Kind.DUPLICATES, True),
    "is_duplicated_by": (Kind.DUPLICATES, False),
    "relates_to": (Kind.RELATES_TO, True),
}
KIND_WORDS = {
    "blocks": "blocks",
    "is_blocked_by": "is blocked by",
    "duplicates": "duplicates",
    "is_duplicated_by": "is duplicated by",
    "relates_to": "relates to",
}
# How deep a chain of blockers the cycle check follows; far past any real board.
CYCLE_DEPTH_MAX = 1000


class Blocked(errors.Conflict):
    default_message = "This ticket is blocked by open tickets."
    code = "blocked"


def _brief(ticket: Ticket) -> dict[str, Any]:
    return {"id": ticket.pk, "key": ticket.key}


def relation_target(*, user: Any, key: str) -> Ticket:
    """The live ticket `key` ("DEMO-3", any case) if `user` may read its project; else a 400 on "ticket".

    Tickets the caller cannot see answer as missing ones do, so a key tells an outsider nothing.
    """
    text = (key or "").strip()
    prefix, _, number = text.rpartition("-")
    missing = _invalid("ticket", f"No ticket '{text}' that you can see." if text else "A ticket key is required.")
    if not prefix or not number.isdigit() or len(number) > 9:
        raise missing
    ticket = (
        Ticket.objects.filter(
            project__in=visible_projects(user, include_archived=True),
            project__key__iexact=prefix,
            number=int(number),
            deleted_at__isnull=True,
        )
        .select_related("project", "column")
        .first()
    )
    if ticket is None:
        raise missing
    return ticket


def _blocks_of(frontier: set[int]) -> set[int]:
    """The tickets that the `frontier` tickets block (one query)."""
    return set(
        TicketRelation.objects.filter(kind=Kind.BLOCKS, source_id__in=frontier).values_list("target_id", flat=True)
    )


def blocks_would_cycle(
    *, blocker_id: int, blocked_id: int, successors: Callable[[set[int]], set[int]] = _blocks_of
) -> bool:
    """Whether `blocker` blocks `blocked` would close a cycle: `blocked` already blocks `blocker`
    through a chain. Breadth-first over the blocks links, one `successors` call per level:
    by default the stored links (one query); the importer passes its own graph, which also
    holds the links it is adding in bulk."""
    seen = {blocked_id}
    frontier = {blocked_id}
    for _depth in range(CYCLE_DEPTH_MAX):
        if not frontier:
            return False
        nxt = successors(frontier)
        if blocker_id in nxt:
            return True
        frontier = nxt - seen
        seen |= nxt
    return True


def _publish(event: str, relation: TicketRelation, *, by: Any, tab_id: str | None) -> None:
    """One event per side, to that ticket's project: the other ticket by id only, since members of
    one project may not see the other."""
    for ticket, other in ((relation.source, relation.target), (relation.target, relation.source)):
        payload = {
            "id": ticket.pk,
            "key": ticket.key,
            "relation": {"id": relation.pk, "kind": presented_kind(relation, from_ticket_id=ticket.pk)},
            "other_id": other.pk,
        }
        events.publish(event, payload, project_id=ticket.project_id, tab_id=tab_id, actor_id=_actor_id(by))


def _timeline(verb: str, relation: TicketRelation, *, by: Any) -> None:
    for ticket, other in ((relation.source, relation.target), (relation.target, relation.source)):
        kind = presented_kind(relation, from_ticket_id=ticket.pk)
        _event(ticket, by, Event.Kind.ACTION, verb, {"relation": {"kind": kind, "ticket": _brief(other)}})
        _touch(ticket)


@transaction.atomic
def relation_add(
    *,
    ticket: Ticket,
    other: Ticket,
    kind: str,
    by: Any,
    close: bool = False,
    force: bool = False,
    tab_id: str | None = None,
) -> TicketRelation:
    """Link `ticket` to `other` with `kind` as `ticket` reads it (a key of KINDS).

    Refuses (400) self-links, a link that exists already (either way round for relates_to),
    a `blocks` link that closes a cycle and a pair that duplicate each other. `close` (only with
    "duplicates") also closes `ticket` as ticket_close does, in the same transaction; `force`
    is passed to that close (a blocked ticket or a done column's WIP limit).
    Precondition: the caller may write `ticket` and read `other` (relation_target()).
    Importers write links in bulk instead (imports.links.apply_links), with the same rules.
    """
    if kind not in KINDS:
        raise _invalid("kind", f"'{kind}' is not one of {', '.join(KINDS)}.")
    if close and kind != "duplicates":
        raise _invalid("close", 'Only a "duplicates" link can close the ticket.')
    if other.pk == ticket.pk:
        raise _invalid("ticket", "A ticket cannot be linked to itself.")
    stored, forward = KINDS[kind]
    source, target = (ticket, other) if forward else (other, ticket)
    pair = Q(source=source, target=target) | Q(source=target, target=source)
    existing = TicketRelation.objects.filter(pair)
    if stored == Kind.RELATES_TO:
        existing = existing.filter(kind=stored)
    else:
        existing = existing.filter(Q(kind=stored, source=source) | Q(kind=stored, source=target))
    if found := existing.first():
        word = KIND_WORDS[presented_kind(found, from_ticket_id=ticket.pk)]
        raise _invalid("ticket", f"{ticket.key} already {word} {other.key}.")
    if stored == Kind.BLOCKS and blocks_would_cycle(blocker_id=source.pk, blocked_id=target.pk):
        message = f"{source.key} cannot block {target.key}: {target.key} already blocks it, directly or through others."
        raise _invalid("ticket", message)
    try:
        with transaction.atomic():
            relation = TicketRelation.objects.create(source=source, target=target, kind=stored, created_by=by)
    except IntegrityError as exc:
        # A concurrent request made the same link first.
        raise _invalid("ticket", f"{ticket.key} already {KIND_WORDS[kind]} {other.key}.") from exc
    _timeline("relate", relation, by=by)
    _publish("board.card_linked", relation, by=by, tab_id=tab_id)
    if close:
        from tickets.services.tickets import ticket_close

        ticket_close(ticket=ticket, by=by, force=force, tab_id=tab_id)
    return relation


@transaction.atomic
def relation_remove(*, relation: TicketRelation, by: Any, tab_id: str | None = None) -> None:
    """Delete the link; both tickets' timelines say so. Precondition: the caller may write one
    side and read the other (tickets.selectors.relation_get() finds only such links)."""
    _timeline("unrelate", relation, by=by)
    _publish("board.card_unlinked", relation, by=by, tab_id=tab_id)
    relation.delete()


def check_blockers(*, ticket: Ticket, by: Any) -> None:
    """409 (Blocked) if `ticket` is blocked by an open ticket; the message names the blockers
    `by` can see and counts the others. ticket_move calls this for a move into a done column."""
    blockers = list(
        Ticket.objects.filter(
            relations_out__target=ticket,
            relations_out__kind=Kind.BLOCKS,
            state=Ticket.State.OPENED,
            deleted_at__isnull=True,
        )
        .select_related("project")
        .order_by("project__key", "number")
    )
    if not blockers:
        return
    seen = set(visible_projects(by, include_archived=True).values_list("pk", flat=True)) if by is not None else set()
    keys = [blocker.key for blocker in blockers if blocker.project_id in seen]
    hidden = len(blockers) - len(keys)
    named = ", ".join(keys)
    if hidden:
        more = f"{hidden} ticket{'s' if hidden > 1 else ''} you cannot see"
        named = f"{named} and {more}" if named else more
    raise Blocked(f'{ticket.key} is blocked by open tickets: {named}; send "force": true to move it anyway.')
