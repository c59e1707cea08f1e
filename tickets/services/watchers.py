"""Watchers: who follows a ticket, and the notifications they (and assignees) get."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from accounts.models import User
from accounts.serializers import user_brief
from notifications.services import notify
from punt import events
from tickets import fastpath
from tickets.models import Ticket, Watcher
from tickets.services.common import _actor_id, ticket_brief, ticket_html_url


def _watch(ticket: Ticket, users: Iterable[Any]) -> None:
    rows = [Watcher(ticket=ticket, user=user) for user in {u.pk: u for u in users if u is not None}.values()]
    if rows:
        Watcher.objects.bulk_create(rows, ignore_conflicts=True)


def _watchers_to_notify(ticket: Ticket, actor_id: int | None) -> list[User]:
    """The active watchers of `ticket` but the actor (an actor-less change, a system action,
    notifies every watcher)."""
    return fastpath.active_watchers(ticket_id=ticket.pk, except_user_id=actor_id)


def _notify_watchers(
    *, ticket: Ticket, by: Any, action: str, summary: str, tab_id: str | None, snippet: str = ""
) -> None:
    """`notification.ticket` to every watcher but the one who made the change.

    `snippet`: the Markdown that was written (a comment), quoted in the e-mail."""
    watchers = _watchers_to_notify(ticket, _actor_id(by))
    if not watchers:
        return
    ids = [user.pk for user in watchers]
    notify(
        recipients=watchers,
        kind="watched",
        actor=by,
        # "BLOG-3 Fix login: olivia changed the priority" (a system change has no name to give).
        text=f"{ticket.key} {ticket.title}: {' '.join(filter(None, [getattr(by, 'username', ''), summary]))}",
        url=ticket_html_url(ticket.project, ticket.number),
        project=ticket.project,
        data={"ticket": ticket_brief(ticket), "action": action},
        snippet=snippet,
    )
    events.publish(
        "notification.ticket",
        {
            "ticket": ticket_brief(ticket),
            "project": {"id": ticket.project.pk, "key": ticket.project.key, "name": ticket.project.name},
            "action": action,
            "summary": summary,
            "actor": user_brief(by),
        },
        user_ids=ids,
        tab_id=tab_id,
        actor_id=_actor_id(by),
    )


def _notify_assigned(*, ticket: Ticket, by: Any, tab_id: str | None) -> None:
    if ticket.assignee_id is None or ticket.assignee_id == _actor_id(by):
        return
    assignee = ticket.assignee
    assert assignee is not None  # assignee_id is set
    notify(
        recipients=[assignee],
        kind="assigned",
        actor=by,
        text=f"{getattr(by, 'username', 'Someone')} assigned you {ticket.key} {ticket.title}",
        url=ticket_html_url(ticket.project, ticket.number),
        project=ticket.project,
        data={"ticket": ticket_brief(ticket)},
        snippet=ticket.body,
    )
    events.publish(
        "notification.assigned",
        {
            "ticket": ticket_brief(ticket),
            "project": {"id": ticket.project.pk, "key": ticket.project.key, "name": ticket.project.name},
            "actor": user_brief(by),
        },
        user_ids=[ticket.assignee_id],
        tab_id=tab_id,
        actor_id=_actor_id(by),
    )


# --------------------------------------------------------------------------- watching


@transaction.atomic
def ticket_watch(*, ticket: Ticket, user: Any) -> bool:
    """Start watching; returns True if the user was not watching yet."""
    if Watcher.objects.filter(ticket=ticket, user=user).exists():
        return False
    # ignore_conflicts: a double click racing itself is not an error.
    Watcher.objects.bulk_create([Watcher(ticket=ticket, user=user)], ignore_conflicts=True)
    return True


@transaction.atomic
def ticket_unwatch(*, ticket: Ticket, user: Any) -> bool:
    deleted, _ = Watcher.objects.filter(ticket=ticket, user=user).delete()
    return bool(deleted)
