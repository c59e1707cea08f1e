"""Reads for tickets and what hangs off them.

Every selector is scoped to one project the caller was already checked against, and loads
what its serializer reads, so the number of queries does not grow with the rows.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.models import User
from projects.models import Column, Project
from projects.permissions import visible_projects
from punt.errors import NotFound
from punt.ranges import ID_MAX, as_id, as_int, column_range
from tickets import fastpath
from tickets.models import Attachment, ChecklistItem, Event, GitLink, Ticket, TicketRelation

CARD_KEY_RE = re.compile(r"^([A-Za-z][A-Za-z0-9]{1,9})-([0-9]{1,9})$")


def as_ticket_number(text: str) -> int | None:
    """`text` as a ticket number (a 32-bit column) if it is a plain number one can be, else None."""
    return as_int(text, *column_range(Ticket, "number"))


def column_get(*, project: Project, column_id: int) -> Column:
    """The project's column `column_id` (fastpath: every create and move starts here)."""
    column = (
        fastpath.column_in_project(project_id=project.pk, column_id=column_id) if 0 <= column_id <= ID_MAX else None
    )
    if column is None:
        raise NotFound("Column not found.")
    return column


def _subquery_count(model: Any, **filters: Any) -> Coalesce:
    """A correlated COUNT, so several counts on one row do not multiply each other's joins."""
    query = (
        model.objects.filter(ticket=OuterRef("pk"), **filters)
        .order_by()
        .values("ticket")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(query, output_field=IntegerField()), Value(0))


def tickets_for_project(*, project: Project, deleted: bool = False) -> QuerySet[Ticket]:
    """Tickets with everything the card JSON reads (labels prefetched, people and column joined)."""
    queryset = Ticket.objects.filter(project=project, deleted_at__isnull=not deleted)
    return (
        queryset.select_related("project", "column", "assignee", "reporter", "sprint", "parent", "deleted_by")
        .prefetch_related("labels")
        .annotate(
            checklist_total=_subquery_count(ChecklistItem),
            checklist_done=_subquery_count(ChecklistItem, done=True),
        )
    )


def cards_for_project(*, project: Project, deleted: bool = False) -> QuerySet[Ticket]:
    """The live (or the deleted) tickets of `project`, unjoined: the base the board and the card lists
    filter and page.

    Lists read it through tickets.cards as plain rows instead of model instances: building a
    thousand Tickets with five related objects each is most of a board's time, and the card
    JSON needs a handful of columns.
    """
    return Ticket.objects.filter(project=project, deleted_at__isnull=not deleted)


def _card_lookup(card_id: str | int, project: Project) -> tuple[str, int]:
    """("id", n) or ("number", n) for `card_id`: the numeric id, or this project's key `BLOG-42`
    (case-insensitive). 404 for anything else, ids no row can have included."""
    text = str(card_id).strip()
    card_pk = as_id(text)
    if card_pk is not None:
        return "id", card_pk
    match = CARD_KEY_RE.match(text)
    if match and match.group(1).upper() == project.key:
        return "number", int(match.group(2))
    raise NotFound("Card not found.")


def ticket_lookup_filter(card_id: str | int, project: Project) -> Q:
    """Match `card_id` (see _card_lookup)."""
    field, value = _card_lookup(card_id, project)
    return Q(**{field: value})


def ticket_get(*, project: Project, card_id: str | int, deleted: bool = False) -> Ticket:
    ticket = (
        tickets_for_project(project=project, deleted=deleted).filter(ticket_lookup_filter(card_id, project)).first()
    )
    if ticket is None:
        raise NotFound("Card not found.")
    return ticket


def ticket_row(*, project: Project, card_id: str | int) -> Ticket:
    """The live ticket `card_id` (id or key): its row only (fastpath), with `project` attached.

    For a service that re-reads what it changes (ticket_move) and for reads that build their
    JSON from the card module: the card JSON's joins and prefetches would be thrown away.
    """
    field, value = _card_lookup(card_id, project)
    ticket = fastpath.live_ticket(project_id=project.pk, field=field, value=value)
    if ticket is None:
        raise NotFound("Card not found.")
    ticket.project = project
    return ticket


def ticket_detail(*, project: Project, card_id: str | int) -> Ticket:
    """One ticket with its sub-tasks, watchers, checklist progress and counts (constant queries).

    Reads the ticket through `project.tickets`, so it comes back attached to `project` with no
    join, and its five counts with one fastpath statement: as correlated-subquery
    annotations they cost more to compile (~2 ms) than to run.
    """
    subtasks = Ticket.objects.filter(deleted_at__isnull=True).select_related("column", "project").order_by("number")
    ticket = (
        project.tickets.filter(deleted_at__isnull=True)
        .filter(ticket_lookup_filter(card_id, project))
        .select_related("column", "assignee", "reporter", "sprint", "parent")
        .prefetch_related(
            "labels",
            Prefetch("subtasks", queryset=subtasks, to_attr="live_subtasks"),
            Prefetch("watchers", queryset=User.objects.order_by("username"), to_attr="watcher_list"),
        )
        .first()
    )
    if ticket is None:
        raise NotFound("Card not found.")
    for name, value in fastpath.ticket_counts(ticket_id=ticket.pk).items():
        setattr(ticket, name, value)
    return ticket


def board_columns(*, project: Project) -> list[Column]:
    return list(project.columns.order_by("order", "id"))


def ticket_events(*, ticket: Ticket) -> QuerySet[Event]:
    """The timeline: every event except deleted comments, oldest first."""
    return ticket.events.filter(deleted_at__isnull=True).select_related("author").order_by("created_at", "id")


def ticket_comments(*, ticket: Ticket) -> QuerySet[Event]:
    return ticket_events(ticket=ticket).filter(kind=Event.Kind.COMMENT).select_related("time_entry")


def comment_get(*, project: Project, comment_id: int, ticket: Ticket | None = None) -> Event:
    queryset = Event.objects.filter(
        pk=comment_id,
        kind=Event.Kind.COMMENT,
        deleted_at__isnull=True,
        ticket__project=project,
        ticket__deleted_at__isnull=True,
    )
    if ticket is not None:
        queryset = queryset.filter(ticket=ticket)
    comment = queryset.select_related("author", "ticket", "ticket__project", "time_entry").first()
    if comment is None:
        raise NotFound("Comment not found.")
    return comment


def checklist_items(*, ticket: Ticket) -> QuerySet[ChecklistItem]:
    return ticket.checklist.select_related("done_by").order_by("order", "id")


def checklist_item_get(*, project: Project, item_id: int, ticket: Ticket | None = None) -> ChecklistItem:
    queryset = ChecklistItem.objects.filter(pk=item_id, ticket__project=project, ticket__deleted_at__isnull=True)
    if ticket is not None:
        queryset = queryset.filter(ticket=ticket)
    item = queryset.select_related("ticket", "ticket__project", "done_by").first()
    if item is None:
        raise NotFound("Checklist item not found.")
    return item


def attachments_for(*, ticket: Ticket) -> QuerySet[Attachment]:
    return ticket.attachments.select_related("uploaded_by").order_by("created_at", "id")


def attachment_get(*, project: Project, attachment_id: int, ticket: Ticket | None = None) -> Attachment:
    queryset = Attachment.objects.filter(pk=attachment_id, ticket__project=project, ticket__deleted_at__isnull=True)
    if ticket is not None:
        queryset = queryset.filter(ticket=ticket)
    attachment = queryset.select_related("ticket", "ticket__project", "uploaded_by").first()
    if attachment is None:
        raise NotFound("Attachment not found.")
    return attachment


def git_links_for(*, ticket: Ticket) -> QuerySet[GitLink]:
    return ticket.git_links.select_related("created_by").order_by("created_at", "id")


# --------------------------------------------------------------------------- relations

# A kind as the link's source side says it, and as its target side does.
INVERSE = {
    TicketRelation.Kind.BLOCKS: "is_blocked_by",
    TicketRelation.Kind.DUPLICATES: "is_duplicated_by",
    TicketRelation.Kind.RELATES_TO: "relates_to",
}


def presented_kind(relation: TicketRelation, *, from_ticket_id: int) -> str:
    """The relation's kind as the ticket `from_ticket_id` (either side) reads it."""
    return relation.kind if relation.source_id == from_ticket_id else INVERSE[TicketRelation.Kind(relation.kind)]


def relations_for(*, ticket: Ticket, user: Any, project_ids: set[int] | None = None) -> list[dict[str, Any]]:
    """`ticket`'s links whose other ticket `user` may see, as the API shows them, oldest first.

    Two queries (the links with both tickets, their projects and columns; the visible projects)
    whatever the number of links; `project_ids` (the visible projects' ids) saves the second.
    """
    if project_ids is None:
        project_ids = set(visible_projects(user, include_archived=True).values_list("pk", flat=True))
    rows = (
        TicketRelation.objects.filter(Q(source=ticket) | Q(target=ticket))
        .filter(Q(source__deleted_at__isnull=True) & Q(target__deleted_at__isnull=True))
        .select_related(
            "source__project__organization",
            "source__project__owner_user",
            "source__column",
            "target__project__organization",
            "target__project__owner_user",
            "target__column",
            "created_by",
        )
        .order_by("created_at", "id")
    )
    found = []
    for relation in rows:
        other = relation.target if relation.source_id == ticket.pk else relation.source
        if other.project_id not in project_ids:
            continue
        found.append(relation_json(relation, ticket_id=ticket.pk, other=other))
    return found


def relation_json(relation: TicketRelation, *, ticket_id: int, other: Ticket) -> dict[str, Any]:
    project = other.project
    return {
        "id": relation.pk,
        "kind": presented_kind(relation, from_ticket_id=ticket_id),
        "ticket": {
            "id": other.pk,
            "key": other.key,
            "title": other.title,
            "status": other.column.category,
            "column": {"id": other.column_id, "name": other.column.name},
            "state": other.state,
            "project": {"id": project.pk, "key": project.key, "slug": project.slug, "name": project.name},
            # The ticket page (tickets.services.ticket_html_url, which this module cannot import).
            "html_url": f"/projects/{project.namespace}/{project.path}/tickets/{other.number}",
        },
        "created_by": None if relation.created_by is None else {"username": relation.created_by.username},
        "created_at": relation.created_at,
    }


def relation_get(*, ticket: Ticket, user: Any, relation_id: int) -> TicketRelation:
    """The link `relation_id` of `ticket` whose other side `user` may see; 404 otherwise."""
    relation = (
        TicketRelation.objects.filter(Q(source=ticket) | Q(target=ticket), pk=relation_id)
        .select_related("source__project", "target__project")
        .first()
    )
    if relation is None:
        raise NotFound("Relation not found.")
    other = relation.target if relation.source_id == ticket.pk else relation.source
    if not visible_projects(user, include_archived=True).filter(pk=other.project_id).exists():
        raise NotFound("Relation not found.")
    return relation


# What hangs off a ticket, by the name `?include=` gives it: the ticket page and the detail's
# included lists read the same querysets (tickets.detail pages them as plain rows).
TICKET_PARTS = ("comments", "events", "checklist", "attachments", "links")


def ticket_parts(*, ticket: Ticket, names: tuple[str, ...] = TICKET_PARTS) -> dict[str, QuerySet[Any]]:
    """{name: queryset} of the parts `names` (TICKET_PARTS) of `ticket`, each in its list
    endpoint's order. Nothing is read until a queryset is."""
    read = {
        "comments": ticket_comments,
        "events": ticket_events,
        "checklist": checklist_items,
        "attachments": attachments_for,
        "links": git_links_for,
    }
    return {name: read[name](ticket=ticket) for name in names}
