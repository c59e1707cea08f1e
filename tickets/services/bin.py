"""The bin: a ticket soft-deleted (admins can restore it), restored, or destroyed for good."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from notifications.services import notify
from projects.permissions import MANAGE, has_role
from punt import events
from punt.errors import Forbidden
from punt.errors import invalid as _invalid
from tickets.models import Attachment, Event, Ticket
from tickets.services.common import _actor_id, _event, _publish_card, _reload
from tickets.services.moves import _lock_columns, _rank_for
from tickets.services.placements import placement_add
from tickets.services.watchers import _notify_watchers


@transaction.atomic
def ticket_delete(*, ticket: Ticket, by: Any, tab_id: str | None = None) -> None:
    """Soft-delete: the card leaves the board and lists; admins can restore it."""
    if ticket.deleted_at is not None:
        return
    ticket.deleted_at = timezone.now()
    ticket.deleted_by = by if getattr(by, "pk", None) else None
    ticket.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
    placement_add(ticket=ticket, column=None, from_category=ticket.column.category)
    _event(ticket, by, Event.Kind.ACTION, "delete")
    events.publish(
        "board.card_deleted",
        {"id": ticket.pk, "key": ticket.key, "column_id": ticket.column_id},
        project_id=ticket.project_id,
        tab_id=tab_id,
        actor_id=_actor_id(by),
    )
    _notify_watchers(ticket=ticket, by=by, action="deleted", summary="deleted the ticket", tab_id=tab_id)


@transaction.atomic
def ticket_destroy(*, ticket: Ticket, by: Any, tab_id: str | None = None) -> None:
    """Delete a ticket for good (AgentsMesh's DELETE): its timeline, checklist and files go too.

    Sub-tasks lose their parent rather than vanishing with it; the number is never reused.
    """
    payload = {"id": ticket.pk, "key": ticket.key, "column_id": ticket.column_id}
    files = [
        name for attachment in ticket.attachments.all() for name in (attachment.file.name, attachment.thumbnail.name)
    ]
    watching = User.objects.filter(watcher__ticket=ticket, is_active=True)
    actor_id = _actor_id(by)
    if actor_id is not None:
        watching = watching.exclude(pk=actor_id)
    watchers = list(watching)
    ticket.delete()
    if ticket.deleted_at is None:
        events.publish(
            "board.card_deleted", payload, project_id=ticket.project_id, tab_id=tab_id, actor_id=_actor_id(by)
        )
    if watchers:
        notify(
            recipients=watchers,
            kind="watched",
            actor=by,
            text=f"{payload['key']} {ticket.title}: deleted for good",
            project=ticket.project,
            data={"ticket": {"id": payload["id"], "key": payload["key"]}, "action": "destroyed"},
        )
    storage = Attachment.file.field.storage

    def delete_files() -> None:
        for name in files:
            if name:
                storage.delete(name)

    transaction.on_commit(delete_files)


@transaction.atomic
def ticket_restore(*, ticket: Ticket, by: Any, tab_id: str | None = None) -> Ticket:
    """Bring a soft-deleted card back to the bottom of its column.

    A project admin restores any card; a member restores what they deleted themselves (the
    pages' Undo after a delete)."""
    if ticket.deleted_at is None:
        raise _invalid("non_field_errors", f"{ticket.key} is not deleted.")
    if ticket.deleted_by_id != _actor_id(by) and not has_role(by, ticket.project, MANAGE):
        raise Forbidden("Only a project admin or whoever deleted it can restore this ticket.")
    column = _lock_columns([ticket.column_id])[ticket.column_id]
    ticket.rank = _rank_for(column, exclude_id=ticket.pk)
    ticket.deleted_at = None
    ticket.deleted_by = None
    ticket.save(update_fields=["deleted_at", "deleted_by", "rank", "updated_at"])
    placement_add(ticket=ticket, column=column, from_category=None)
    _event(ticket, by, Event.Kind.ACTION, "restore")
    _publish_card("board.card_created", ticket, by=by, tab_id=tab_id)
    _notify_watchers(ticket=ticket, by=by, action="restored", summary="restored the ticket", tab_id=tab_id)
    return _reload(ticket)
