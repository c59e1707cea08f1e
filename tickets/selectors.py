"""Reads for tickets and what hangs off them.

Every selector is scoped to one project the caller was already checked against, and loads
what its serializer reads, so the number of queries does not grow with the rows.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, TextField, Value
from django.db.models.functions import Cast, Coalesce
from rest_framework.exceptions import NotFound

from accounts.models import User
from projects.models import Column, Membership, Project
from projects.permissions import check_role, remember_role
from tickets.models import Attachment, ChecklistItem, Event, GitLink, Ticket

CARD_KEY_RE = re.compile(r"^([A-Za-z][A-Za-z0-9]{1,9})-([0-9]{1,9})$")


def project_for(*, user: Any, slug: str, needed: str) -> Project:
    """The live project `slug` (its lowercased key) if `user` has `needed`: 404 for outsiders, 403 below."""
    projects = Project.objects.select_related("owner_user", "organization").filter(
        key=slug.upper(), archived_at__isnull=True
    )
    member = user is not None and user.is_authenticated
    if member:
        # The caller's role in the same query: one round trip fewer on every project request.
        role = Membership.objects.filter(project=OuterRef("pk"), user=user).values("role")[:1]
        projects = projects.annotate(caller_role=Subquery(role))
    project = projects.first()
    if project is None:
        raise NotFound("Project not found.")
    if member:
        remember_role(user, project, project.caller_role)
    check_role(user, project, needed)
    return project


def column_get(*, project: Project, column_id: int) -> Column:
    column = project.columns.filter(pk=column_id).first()
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


def cards_for_project(*, project: Project) -> QuerySet[Ticket]:
    """The live tickets of `project`, unjoined: the base the board and the card list filter and page.

    Lists read it through card_values()/card_labels() as plain rows instead of model
    instances: building a thousand Tickets with five related objects each is most of a
    board's time, and the card JSON needs a handful of columns.
    """
    return Ticket.objects.filter(project=project, deleted_at__isnull=True)


# What a card's JSON reads (serializers.card_payloads), joined in the same query. The people
# come in with the row, so there is no per-row or per-person query either.
_PERSON_FIELDS = ("id", "username", "display_name", "avatar")
COMPACT_CARD_FIELDS = (
    "id",
    "number",
    "title",
    "type",
    "column__category",
    "state",
    "column_id",
    "rank",
    "priority",
    *(f"assignee__{name}" for name in _PERSON_FIELDS),
    "sprint_id",
    "sprint__name",
    "parent_id",
    "parent__number",
    "parent__title",
    "due_date",
    "estimate",
    "created_at",
    "updated_at",
    "closed_at",
)
# Read as stored text on SQLite (see card_values).
CARD_TEXT_FIELDS = ("due_date", "created_at", "updated_at", "closed_at")
FULL_CARD_FIELDS = (*COMPACT_CARD_FIELDS, "body", "body_html", *(f"reporter__{name}" for name in _PERSON_FIELDS))


def card_values(
    queryset: QuerySet[Ticket], *, full: bool = False, extra: tuple[str, ...] = (), checklist: bool = False
) -> QuerySet[Ticket]:
    """`queryset` (filtered and ordered) as dict rows of what the card JSON reads.

    `full` adds the body and the reporter (CardSerializer); without it the rows are the
    board's compact cards (CardCompactSerializer). `extra`: more fields or annotations.
    `checklist`: count each card's checklist items in the same query (for one card); lists
    and boards read them with card_checklists() instead, one grouped query for the page.
    """
    fields = FULL_CARD_FIELDS if full else COMPACT_CARD_FIELDS
    annotations = {}
    if checklist:
        annotations["checklist_total"] = _subquery_count(ChecklistItem)
        annotations["checklist_done"] = _subquery_count(ChecklistItem, done=True)
        fields = (*fields, "checklist_total", "checklist_done")
    if connection.vendor == "sqlite":
        # SQLite keeps dates and timestamps (UTC) as ISO text. Read as text, they skip being parsed
        # into Python objects only for the JSON to turn them straight back into text: a third of a
        # big board's time. With no converters left, Django also skips its per-row converter pass.
        annotations.update({f"{name}_text": Cast(name, TextField()) for name in CARD_TEXT_FIELDS})
        fields = (*(name for name in fields if name not in CARD_TEXT_FIELDS), *(f"{n}_text" for n in CARD_TEXT_FIELDS))
    return queryset.annotate(**annotations).values(*fields, *(name for name in extra if name not in fields))


def card_row(ticket: Ticket) -> dict[str, Any]:
    """The card_values(full=True, checklist=True) row of a ticket in memory, built without a query.

    The ticket carries its column, people, sprint and parent as objects: ticket_create's new
    ticket, or one read by tickets_for_project() (which also counts its checklist items; a
    new ticket has none).
    """
    row = {name: getattr(ticket, name) for name in _CARD_OWN_FIELDS}
    row["type"], row["priority"], row["state"] = str(ticket.type), str(ticket.priority), str(ticket.state)
    row["column__category"] = ticket.column.category
    for role in ("assignee", "reporter"):
        person = getattr(ticket, role)
        for name in _PERSON_FIELDS:
            value = None if person is None else getattr(person, name)
            row[f"{role}__{name}"] = value.name if name == "avatar" and value is not None else value
    row["sprint__name"] = ticket.sprint.name if ticket.sprint is not None else None
    row["parent__number"] = ticket.parent.number if ticket.parent is not None else None
    row["parent__title"] = ticket.parent.title if ticket.parent is not None else None
    row["checklist_total"] = getattr(ticket, "checklist_total", 0)
    row["checklist_done"] = getattr(ticket, "checklist_done", 0)
    return row


_CARD_OWN_FIELDS = (
    "id",
    "number",
    "title",
    "column_id",
    "rank",
    "sprint_id",
    "parent_id",
    "due_date",
    "estimate",
    "created_at",
    "updated_at",
    "closed_at",
    "body",
    "body_html",
)


def card_checklists(*, tickets: list[int] | QuerySet[Ticket]) -> dict[int, tuple[int, int]]:
    """{ticket id: (done, total)} for the tickets that have checklist items, in one query.

    `tickets`: ids, or a queryset of tickets (as for card_labels()).
    """
    if isinstance(tickets, QuerySet):
        tickets = tickets.order_by().values("pk")
    counts = (
        ChecklistItem.objects.filter(ticket_id__in=tickets)
        .order_by()
        .values_list("ticket_id")
        .annotate(done=Count("pk", filter=Q(done=True)), total=Count("pk"))
    )
    return {ticket_id: (done, total) for ticket_id, done, total in counts}


def card_labels(*, tickets: list[int] | QuerySet[Ticket]) -> dict[int, list[dict[str, Any]]]:
    """{ticket id: [{id, name, color}, ...]} in label-name order, in one query.

    `tickets`: ids, or a queryset of tickets (a subquery: a whole board's ids would be
    a thousand query parameters).
    """
    if isinstance(tickets, QuerySet):
        tickets = tickets.order_by().values("pk")
    links = (
        Ticket.labels.through.objects.filter(ticket_id__in=tickets)
        .order_by("label__name")
        .values_list("ticket_id", "label_id", "label__name", "label__color")
    )
    labels: dict[int, list[dict[str, Any]]] = {}
    briefs: dict[int, dict[str, Any]] = {}  # one dict per label, shared by its cards
    for ticket_id, label_id, name, color in links:
        brief = briefs.get(label_id)
        if brief is None:
            brief = briefs[label_id] = {"id": label_id, "name": name, "color": color}
        labels.setdefault(ticket_id, []).append(brief)
    return labels


def ticket_lookup_filter(card_id: str | int, project: Project) -> Q:
    """Match `card_id`: the numeric id, or the key `BLOG-42` (case-insensitive) of this project."""
    text = str(card_id).strip()
    if text.isdigit():
        return Q(pk=int(text))
    match = CARD_KEY_RE.match(text)
    if match and match.group(1).upper() == project.key:
        return Q(number=int(match.group(2)))
    raise NotFound("Card not found.")


def ticket_get(*, project: Project, card_id: str | int, deleted: bool = False) -> Ticket:
    ticket = (
        tickets_for_project(project=project, deleted=deleted).filter(ticket_lookup_filter(card_id, project)).first()
    )
    if ticket is None:
        raise NotFound("Card not found.")
    return ticket


def ticket_for_write(*, project: Project, card_id: str | int) -> Ticket:
    """The live ticket to hand to a service that re-reads what it changes (ticket_move).

    Only the row, with `project` attached: the card JSON's joins and prefetches would be
    thrown away, since the service answers with a fresh read after its writes.
    """
    ticket = (
        Ticket.objects.filter(project=project, deleted_at__isnull=True)
        .filter(ticket_lookup_filter(card_id, project))
        .first()
    )
    if ticket is None:
        raise NotFound("Card not found.")
    ticket.project = project
    return ticket


def ticket_detail(*, project: Project, card_id: str | int) -> Ticket:
    """One ticket with its sub-tasks, watchers, checklist progress and counts (constant queries).

    Reads the ticket through `project.tickets`, so it comes back attached to `project` with no
    join, and its five counts with one plain SQL statement: as correlated-subquery
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
    for name, value in ticket_counts(ticket_id=ticket.pk).items():
        setattr(ticket, name, value)
    return ticket


TICKET_COUNT_NAMES = ("checklist_total", "checklist_done", "comment_count", "attachment_count", "link_count")


def ticket_counts(*, ticket_id: int) -> dict[str, int]:
    """checklist_total/_done, comment_count (live comments), attachment_count, link_count."""
    quote = connection.ops.quote_name
    checklist, event = quote(ChecklistItem._meta.db_table), quote(Event._meta.db_table)
    attachment, link = quote(Attachment._meta.db_table), quote(GitLink._meta.db_table)
    # Only model table names are interpolated; every value is a parameter.
    sql = (
        f"SELECT (SELECT COUNT(*) FROM {checklist} WHERE ticket_id = %s),"  # noqa: S608
        f" (SELECT COUNT(*) FROM {checklist} WHERE ticket_id = %s AND done = %s),"
        f" (SELECT COUNT(*) FROM {event} WHERE ticket_id = %s AND kind = %s AND deleted_at IS NULL),"
        f" (SELECT COUNT(*) FROM {attachment} WHERE ticket_id = %s),"
        f" (SELECT COUNT(*) FROM {link} WHERE ticket_id = %s)"
    )
    params = [ticket_id, ticket_id, True, ticket_id, Event.Kind.COMMENT.value, ticket_id, ticket_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return dict(zip(TICKET_COUNT_NAMES, (int(value) for value in row), strict=True))


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
