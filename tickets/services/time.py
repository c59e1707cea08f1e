"""Writes for time tracking: log, correct and remove time entries.

Comments that log time create their entries in tickets.services.comment_create; these are
the entries people log, fix or remove directly. An entry that came from a comment keeps the
comment's `minutes` in step, so the timeline never shows time that was corrected away.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from projects.permissions import MANAGE, WRITE, has_role
from punt import events
from punt.errors import Conflict, Forbidden
from punt.errors import invalid as _invalid
from tickets.models import Event, Ticket, TimeEntry

MAX_MINUTES = 24 * 60
NOTE_MAX = 500
# Today in the server's time zone may still be yesterday for someone east of it.
FUTURE_TOLERANCE = timedelta(days=1)


def _clean_minutes(minutes: int) -> int:
    if not 0 < minutes <= MAX_MINUTES:
        raise _invalid("minutes", f"Log between 1 and {MAX_MINUTES} minutes (24 hours) per entry.")
    return minutes


def _clean_date(day: date) -> date:
    if day > timezone.localdate() + FUTURE_TOLERANCE:
        raise _invalid("date", "Time cannot be logged for a day in the future.")
    return day


def _clean_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise _invalid("note", f"A note has at most {NOTE_MAX} characters.")
    return note


def _check_writable(ticket: Ticket) -> None:
    if ticket.project.archived_at is not None:
        raise Conflict("This project is archived and read-only; its owner can restore it.")


def time_entry_payload(entry: TimeEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "ticket": {"id": entry.ticket_id, "key": entry.ticket.key, "title": entry.ticket.title},
        "user_id": entry.user_id,
        "minutes": entry.minutes,
        "date": entry.date.isoformat(),
    }


def _publish(event: str, entry: TimeEntry, *, by: Any, tab_id: str | None) -> None:
    # Computed now: after a delete the row (and its pk) is gone.
    payload = time_entry_payload(entry)
    events.publish(event, payload, project_id=entry.ticket.project_id, tab_id=tab_id, actor_id=getattr(by, "pk", None))


@transaction.atomic
def time_entry_create(
    *,
    ticket: Ticket,
    by: Any,
    minutes: int,
    day: date | None = None,
    note: str = "",
    tab_id: str | None = None,
) -> TimeEntry:
    """Log `minutes` on `ticket` for `by`, on `day` (default today).

    Precondition: the caller checked that `by` is a member (or above) of the ticket's project.
    """
    _check_writable(ticket)
    entry = TimeEntry.objects.create(
        ticket=ticket,
        user=by,
        minutes=_clean_minutes(minutes),
        date=_clean_date(day or timezone.localdate()),
        note=_clean_note(note),
    )
    _publish("time_entry.created", entry, by=by, tab_id=tab_id)
    return entry


def _check_may_change(entry: TimeEntry, by: Any) -> None:
    """Your own entries while you can still write in the project; a project admin's, anyone's."""
    project = entry.ticket.project
    if has_role(by, project, MANAGE):
        return
    if entry.user_id != getattr(by, "pk", None):
        raise Forbidden("Only the person who logged this time or a project admin can change it.")
    if not has_role(by, project, WRITE):
        raise Forbidden("This needs the member role in this project.")


@transaction.atomic
def time_entry_update(
    *,
    entry: TimeEntry,
    by: Any,
    minutes: int | None = None,
    day: date | None = None,
    note: str | None = None,
    tab_id: str | None = None,
) -> TimeEntry:
    """Correct an entry (None = leave as is). Precondition: `by` can see the entry's project."""
    _check_may_change(entry, by)
    _check_writable(entry.ticket)
    fields: list[str] = []
    if minutes is not None:
        entry.minutes = _clean_minutes(minutes)
        fields.append("minutes")
    if day is not None:
        entry.date = _clean_date(day)
        fields.append("date")
    if note is not None:
        entry.note = _clean_note(note)
        fields.append("note")
    if fields:
        entry.save(update_fields=fields)
        if "minutes" in fields and entry.comment_id is not None:
            Event.objects.filter(pk=entry.comment_id).update(minutes=entry.minutes)
        _publish("time_entry.updated", entry, by=by, tab_id=tab_id)
    return entry


@transaction.atomic
def time_entry_delete(*, entry: TimeEntry, by: Any, tab_id: str | None = None) -> None:
    """Remove an entry. Precondition: `by` can see the entry's project."""
    _check_may_change(entry, by)
    _check_writable(entry.ticket)
    _publish("time_entry.deleted", entry, by=by, tab_id=tab_id)
    if entry.comment_id is not None:
        # The comment stays; it no longer claims the time.
        Event.objects.filter(pk=entry.comment_id).update(minutes=None)
    entry.delete()
