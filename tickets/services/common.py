"""Small helpers the tickets services share: actor ids, payloads, timeline rows, input checks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db.models import Q, TextChoices
from django.utils import timezone

from projects.models import Project
from punt import events
from punt.errors import invalid as _invalid
from tickets import cards
from tickets.models import Event, Ticket

UNSET: Any = object()
Action = str  # the verb of an action event


def _actor_id(by: Any) -> int | None:
    return getattr(by, "pk", None)


# --------------------------------------------------------------------------- payloads


def ticket_brief(ticket: Ticket) -> dict[str, Any]:
    return {"id": ticket.pk, "key": ticket.key, "title": ticket.title}


def _publish_card(event_type: str, ticket: Ticket, *, by: Any, tab_id: str | None) -> None:
    """A board event carrying the ticket's compact card, read as the board reads its cards."""
    events.publish(event_type, cards.card(ticket), project_id=ticket.project_id, tab_id=tab_id, actor_id=_actor_id(by))


def _reload(ticket: Ticket) -> Ticket:
    from tickets.selectors import tickets_for_project

    return tickets_for_project(project=ticket.project, deleted=ticket.deleted_at is not None).get(pk=ticket.pk)


def _json(value: Any) -> Any:
    """A value as it is stored in an update event's old/new data."""
    if isinstance(value, date):
        return value.isoformat()
    return value


def ticket_html_url(project: Project, number: int) -> str:
    return f"/projects/{project.namespace}/{project.path}/tickets/{number}"


def _excerpt(text: str, limit: int = 200) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- timeline


def _event(ticket: Ticket, by: Any, kind: str, text: str = "", data: dict[str, Any] | None = None) -> Event:
    return Event.objects.create(ticket=ticket, kind=kind, author=by, text=text, data=data or {})


def _touch(ticket: Ticket) -> None:
    """Bump updated_at for changes that live in other tables (comments, checklist, ...)."""
    now = timezone.now()
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=now)
    ticket.updated_at = now


# --------------------------------------------------------------------------- input checks


def _iexact_any(field: str, values: Iterable[str]) -> Q:
    """Case-insensitive `field IN values` (portable: no database-specific collation)."""
    condition = Q(pk__in=[])
    for value in values:
        condition |= Q(**{f"{field}__iexact": value})
    return condition


def _choice(field: str, value: str, choices: type[TextChoices]) -> str:
    if value not in choices.values:
        raise _invalid(field, f"'{value}' is not one of {', '.join(choices.values)}.")
    return value
