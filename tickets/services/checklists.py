"""A ticket's checklist: add, edit, tick, remove and reorder items."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from punt.errors import invalid as _invalid
from tickets.models import ChecklistItem, Event, Ticket
from tickets.services.common import UNSET, _event, _publish_card, _touch


def _checklist_changed(ticket: Ticket, by: Any, text: str, data: dict[str, Any], tab_id: str | None) -> None:
    _event(ticket, by, Event.Kind.ACTION, text, data)
    _touch(ticket)
    _publish_card("board.card_updated", ticket, by=by, tab_id=tab_id)


def _lock_checklist(ticket: Ticket) -> None:
    """Row-lock the ticket before touching its checklist: positions are read and written under
    it, so two writers never hand out the same one. Every checklist writer takes it first (then
    item rows, then the ticket's updated_at), so two of them cannot deadlock. SQLite serialises
    writers anyway."""
    Ticket.objects.select_for_update().filter(pk=ticket.pk).values_list("pk", flat=True).first()


def _clean_item_text(text: Any) -> str:
    cleaned = " ".join(str(text or "").split())
    if not cleaned:
        raise _invalid("text", "A checklist item needs some text.")
    if len(cleaned) > 500:
        raise _invalid("text", "A checklist item has at most 500 characters.")
    return cleaned


@transaction.atomic
def checklist_item_add(
    *, ticket: Ticket, by: Any, text: str, done: bool = False, tab_id: str | None = None
) -> ChecklistItem:
    text = _clean_item_text(text)
    _lock_checklist(ticket)
    last = ticket.checklist.aggregate(last=Max("order"))["last"]
    item = ChecklistItem.objects.create(
        ticket=ticket,
        text=text,
        order=0 if last is None else last + 1,
        done=done,
        done_at=timezone.now() if done else None,
        done_by=by if done else None,
    )
    _checklist_changed(ticket, by, "checklist_add", {"item": {"id": item.pk, "text": item.text}}, tab_id)
    return item


@transaction.atomic
def checklist_item_update(
    *, item: ChecklistItem, by: Any, text: Any = UNSET, done: Any = UNSET, tab_id: str | None = None
) -> ChecklistItem:
    """Edit the text and/or tick the item (done_at/by follow `done`)."""
    _lock_checklist(item.ticket)
    fields: list[str] = []
    verbs: list[str] = []
    if text is not UNSET:
        text = _clean_item_text(text)
        if text != item.text:
            item.text = text
            fields.append("text")
            verbs.append("checklist_edit")
    if done is not UNSET and bool(done) != item.done:
        item.done = bool(done)
        item.done_at = timezone.now() if item.done else None
        item.done_by = by if item.done else None
        fields += ["done", "done_at", "done_by"]
        verbs.append("checklist_check" if item.done else "checklist_uncheck")
    if fields:
        item.save(update_fields=fields)
        for verb in verbs:
            _checklist_changed(item.ticket, by, verb, {"item": {"id": item.pk, "text": item.text}}, tab_id)
    return item


@transaction.atomic
def checklist_item_delete(*, item: ChecklistItem, by: Any, tab_id: str | None = None) -> None:
    data = {"item": {"id": item.pk, "text": item.text}}
    ticket = item.ticket
    _lock_checklist(ticket)
    item.delete()
    _checklist_changed(ticket, by, "checklist_remove", data, tab_id)


@transaction.atomic
def checklist_reorder(
    *, ticket: Ticket, by: Any, order: Sequence[int], tab_id: str | None = None
) -> list[ChecklistItem]:
    """Put the listed items first, in that order; items not listed keep their order after them."""
    if len(set(order)) != len(order):
        raise _invalid("order", "An item is listed twice.")
    _lock_checklist(ticket)
    items = list(ticket.checklist.order_by("order", "id"))
    by_id = {item.pk: item for item in items}
    unknown = [str(pk) for pk in order if pk not in by_id]
    if unknown:
        raise _invalid("order", f"Not items of {ticket.key}: {', '.join(unknown)}.")
    listed = [by_id[pk] for pk in order]
    rest = [item for item in items if item.pk not in set(order)]
    for position, item in enumerate(listed + rest):
        item.order = position
    ChecklistItem.objects.bulk_update(items, ["order"])
    _checklist_changed(ticket, by, "checklist_reorder", {"order": [item.pk for item in listed + rest]}, tab_id)
    return listed + rest
