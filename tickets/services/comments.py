"""Comments on a ticket's timeline; a comment can log time."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from notifications.services import notification_batch
from projects.permissions import MANAGE, has_role
from punt import events
from punt.errors import Forbidden
from punt.errors import invalid as _invalid
from tickets.models import Event, Ticket, TimeEntry
from tickets.services.common import _actor_id, _excerpt, _touch, ticket_brief
from tickets.services.mentions import _write_mentions, render_markdown
from tickets.services.watchers import _notify_watchers, _watch

COMMENT_MAX = 50_000
COMMENT_MINUTES_MAX = 100_000  # the API's limit too; the pages and dialects come straight here


def comment_payload(comment: Event) -> dict[str, Any]:
    from tickets.serializers import CommentSerializer

    return dict(CommentSerializer(comment).data)


def _clean_comment(body: Any) -> str:
    cleaned = str(body or "").strip()
    if not cleaned:
        raise _invalid("body", "A comment needs some text.")
    if len(cleaned) > COMMENT_MAX:
        raise _invalid("body", f"A comment has at most {COMMENT_MAX} characters.")
    return cleaned


@transaction.atomic
@notification_batch()
def comment_create(
    *, ticket: Ticket, by: Any, body: str, minutes: int | None = None, tab_id: str | None = None
) -> Event:
    """A comment; `minutes` > 0 also logs that much time for the author, dated today."""
    body = _clean_comment(body)
    if minutes is not None and minutes < 0:
        raise _invalid("minutes", "Minutes cannot be negative.")
    if minutes is not None and minutes > COMMENT_MINUTES_MAX:
        raise _invalid("minutes", f"One comment logs at most {COMMENT_MINUTES_MAX} minutes.")
    comment = Event.objects.create(
        ticket=ticket,
        kind=Event.Kind.COMMENT,
        author=by,
        text=body,
        html=render_markdown(project=ticket.project, by=by, text=body),
        minutes=minutes or None,
    )
    if minutes:
        TimeEntry.objects.create(
            ticket=ticket,
            user=by,
            minutes=minutes,
            date=timezone.localdate(),
            note=_excerpt(body, 500),
            comment=comment,
        )
    _watch(ticket, [by])
    _touch(ticket)
    _write_mentions(ticket=ticket, by=by, old_text="", new_text=body, comment=comment, tab_id=tab_id)
    events.publish(
        "comment.created",
        {"card": ticket_brief(ticket), "comment": comment_payload(comment)},
        project_id=ticket.project_id,
        tab_id=tab_id,
        actor_id=_actor_id(by),
    )
    _notify_watchers(
        ticket=ticket, by=by, action="commented", summary=f"commented: {_excerpt(body)}", tab_id=tab_id, snippet=body
    )
    return comment


@transaction.atomic
def comment_update(*, comment: Event, by: Any, body: str, tab_id: str | None = None) -> Event:
    """Edit a comment: only its author may."""
    if comment.author_id != _actor_id(by):
        raise Forbidden("Only the author can edit a comment.")
    body = _clean_comment(body)
    old_text = comment.text
    if body != old_text:
        comment.text = body
        comment.html = render_markdown(project=comment.ticket.project, by=by, text=body)
        comment.save(update_fields=["text", "html", "updated_at"])
        _write_mentions(ticket=comment.ticket, by=by, old_text=old_text, new_text=body, comment=comment, tab_id=tab_id)
        events.publish(
            "comment.updated",
            {"card": ticket_brief(comment.ticket), "comment": comment_payload(comment)},
            project_id=comment.ticket.project_id,
            tab_id=tab_id,
            actor_id=_actor_id(by),
        )
    return comment


@transaction.atomic
def comment_delete(*, comment: Event, by: Any, tab_id: str | None = None) -> None:
    """Soft-delete a comment: its author, or a project admin. Time it logged goes with it."""
    if comment.author_id != _actor_id(by) and not has_role(by, comment.ticket.project, MANAGE):
        raise Forbidden("Only the author or a project admin can delete this comment.")
    comment.deleted_at = timezone.now()
    comment.save(update_fields=["deleted_at", "updated_at"])
    TimeEntry.objects.filter(comment=comment).delete()
    events.publish(
        "comment.deleted",
        {"card": ticket_brief(comment.ticket), "id": comment.pk},
        project_id=comment.ticket.project_id,
        tab_id=tab_id,
        actor_id=_actor_id(by),
    )
