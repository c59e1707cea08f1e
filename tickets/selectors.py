"""Reads for tickets and what hangs off them.

Every selector is scoped to one project the caller was already checked against, and loads
what its serializer reads, so the number of queries does not grow with the rows.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.models import User
from projects.models import Column, Project
from punt import db
from punt.errors import NotFound
from tickets.models import Attachment, ChecklistItem, Event, GitLink, Ticket

CARD_KEY_RE = re.compile(r"^([A-Za-z][A-Za-z0-9]{1,9})-([0-9]{1,9})$")
ROW_ID_MAX = 2**63 - 1


def column_get(*, project: Project, column_id: int) -> Column:
    """The project's column `column_id` (plain SQL: every create and move starts here)."""
    if not 0 <= column_id <= ROW_ID_MAX:
        raise NotFound("Column not found.")
    sql = f'SELECT {db.columns(Column, "c")} FROM "projects_column" c WHERE c."id" = %s AND c."project_id" = %s'  # noqa: S608
    row = db.fetch_one(sql, [column_id, project.pk])
    if row is None:
        raise NotFound("Column not found.")
    return db.instance(Column, "c", row)


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

    Lists read it through card_rows()/card_labels() as plain rows instead of model
    instances: building a thousand Tickets with five related objects each is most of a
    board's time, and the card JSON needs a handful of columns.
    """
    return Ticket.objects.filter(project=project, deleted_at__isnull=True)


# What a card's JSON reads (serializers.card_payloads), in the order it unpacks it. The
# people come in with the row, so there is no per-row or per-person query either.
_PERSON_FIELDS = ("id", "username", "display_name", "avatar")
# Read as stored text on SQLite (see card_rows).
CARD_TEXT_FIELDS = ("due_date", "created_at", "updated_at", "closed_at")


def _person_columns(alias: str, role: str) -> str:
    return ", ".join(
        f't."{role}_id" AS "{role}__id"' if name == "id" else f'{alias}."{name}" AS "{role}__{name}"'
        for name in _PERSON_FIELDS
    )


def _card_select(full: bool) -> str:
    """The SELECT ... FROM ... of card_rows() (the same for every page and board)."""
    # SQLite keeps dates and timestamps (UTC) as ISO text. Read as text, they skip being parsed
    # into Python objects only for the JSON to turn them straight back into text: a third of a
    # big board's time. (A bare column would be parsed by the driver: Django registers
    # converters for the declared types.) PostgreSQL's driver hands over the objects.
    if connection.vendor == "sqlite":
        dates = ", ".join(f'CAST(t."{name}" AS text) AS "{name}_text"' for name in CARD_TEXT_FIELDS)
    else:
        dates = ", ".join(f't."{name}"' for name in CARD_TEXT_FIELDS)
    # Only these constant names are spliced into the SQL; values always go as parameters.
    columns = (
        't."id", t."number", t."title", t."type", c."category" AS "column__category", t."state", t."column_id", '  # noqa: S608
        f't."rank", t."priority", {_person_columns("a", "assignee")}, t."sprint_id", s."name" AS "sprint__name", '
        't."parent_id", p."number" AS "parent__number", p."title" AS "parent__title", t."estimate", '
        f"{dates}, "
        '(SELECT COUNT(*) FROM "tickets_checklistitem" i WHERE i."ticket_id" = t."id" AND i."done") '
        'AS "checklist_done", '
        '(SELECT COUNT(*) FROM "tickets_checklistitem" i WHERE i."ticket_id" = t."id") AS "checklist_total"'
    )
    joins = (
        'FROM "tickets_ticket" t INNER JOIN "projects_column" c ON c."id" = t."column_id" '
        'LEFT JOIN "accounts_user" a ON a."id" = t."assignee_id" '
        'LEFT JOIN "projects_sprint" s ON s."id" = t."sprint_id" '
        'LEFT JOIN "tickets_ticket" p ON p."id" = t."parent_id"'
    )
    if full:
        columns += f', t."body", t."body_html", {_person_columns("r", "reporter")}'
        joins += ' LEFT JOIN "accounts_user" r ON r."id" = t."reporter_id"'
    return f"SELECT {columns} {joins}"


def _ids_sql(tickets: list[int] | QuerySet[Ticket]) -> tuple[str, list[Any]]:
    """`IN (...)` for ids, or for a queryset of tickets as a subquery (a whole board's ids would
    be thousands of query parameters)."""
    if isinstance(tickets, QuerySet):
        sql, params = tickets.order_by().values("pk").query.sql_with_params()
        if connection.vendor == "postgresql":
            # Given IN (subquery), PostgreSQL hash-joined it against a scan of every ticket
            # (30 ms for a 1,000-card board in a 100k-ticket database); with the ids as one
            # array it looks each up by primary key (4 ms).
            return f"= ANY(ARRAY({sql}))", list(params)
        return f"IN ({sql})", list(params)
    return f"IN ({db.placeholders(tickets)})", list(tickets)


def card_rows(tickets: list[int] | QuerySet[Ticket], *, full: bool = False) -> list[tuple[Any, ...]]:
    """The rows serializers.card_payloads() makes cards of, checklist counts included, in one query.

    Tuples, in the column order of _card_select() (serializers.card_payloads unpacks them):
    a thousand rows as dicts cost 1.5 ms to build.

    `tickets`: ids (the rows come in that order) or a queryset of tickets (a board: the rows
    come in rank order). `full` adds the body and the reporter (CardSerializer); without it
    the rows are the board's compact cards (CardCompactSerializer).

    Written as SQL: the ORM spent ~1.3 ms building this statement for a 50-card page and
    ~0.1 ms running it, and model instances or values() dicts for a thousand cards were most
    of a board's time.
    """
    if not isinstance(tickets, QuerySet) and not tickets:
        return []
    where, params = _ids_sql(tickets)
    sql = f'{_card_select(full)} WHERE t."id" {where}'
    if isinstance(tickets, QuerySet):
        return db.fetch_all(f'{sql} ORDER BY t."rank", t."id"', params)
    rows = db.fetch_all(sql, params)
    position = {ticket_id: index for index, ticket_id in enumerate(tickets)}
    rows.sort(key=lambda row: position[row[0]])
    return rows


def card_row(ticket: Ticket) -> tuple[Any, ...]:
    """The card_rows(full=True) row of a ticket in memory, built without a query.

    The ticket carries its column, people, sprint and parent as objects: ticket_create's new
    ticket, or one read by tickets_for_project() (which also counts its checklist items; a
    new ticket has none).
    """

    def person(user: Any) -> tuple[Any, ...]:
        if user is None:
            return (None, None, None, None)
        return (user.pk, user.username, user.display_name, user.avatar.name)

    sprint, parent = ticket.sprint, ticket.parent
    return (
        *(ticket.pk, ticket.number, ticket.title, str(ticket.type), ticket.column.category, str(ticket.state)),
        *(ticket.column_id, ticket.rank, str(ticket.priority), *person(ticket.assignee)),
        *(ticket.sprint_id, sprint.name if sprint is not None else None),
        *(ticket.parent_id, *((parent.number, parent.title) if parent is not None else (None, None))),
        *(ticket.estimate, ticket.due_date, ticket.created_at, ticket.updated_at, ticket.closed_at),
        *(getattr(ticket, "checklist_done", 0), getattr(ticket, "checklist_total", 0)),
        *(ticket.body, ticket.body_html, *person(ticket.reporter)),
    )


def card_labels(*, tickets: list[int] | QuerySet[Ticket]) -> dict[int, list[dict[str, Any]]]:
    """{ticket id: [{id, name, color}, ...]} in label-name order, in one query.

    `tickets`: ids, or a queryset of tickets (a subquery: a whole board's ids would be
    a thousand query parameters).
    """
    if not isinstance(tickets, QuerySet) and not tickets:
        return {}
    where, params = _ids_sql(tickets)
    sql = (
        'SELECT tl."ticket_id", l."id", l."name", l."color" FROM "tickets_ticket_labels" tl '  # noqa: S608
        f'INNER JOIN "projects_label" l ON l."id" = tl."label_id" WHERE tl."ticket_id" {where} ORDER BY l."name"'
    )
    links = db.fetch_all(sql, params)
    labels: dict[int, list[dict[str, Any]]] = {}
    briefs: dict[int, dict[str, Any]] = {}  # one dict per label, shared by its cards
    for ticket_id, label_id, name, color in links:
        brief = briefs.get(label_id)
        if brief is None:
            brief = briefs[label_id] = {"id": label_id, "name": name, "color": color}
        labels.setdefault(ticket_id, []).append(brief)
    return labels


def _card_lookup(card_id: str | int, project: Project) -> tuple[str, int]:
    """("id", n) or ("number", n) for `card_id`: the numeric id, or this project's key `BLOG-42`
    (case-insensitive). 404 for anything else, ids no row can have included."""
    text = str(card_id).strip()
    if text.isascii() and text.isdigit():
        if int(text) > ROW_ID_MAX:
            raise NotFound("Card not found.")
        return "id", int(text)
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


def ticket_for_write(*, project: Project, card_id: str | int) -> Ticket:
    """The live ticket to hand to a service that re-reads what it changes (ticket_move).

    Only the row, with `project` attached: the card JSON's joins and prefetches would be
    thrown away, since the service answers with a fresh read after its writes.
    """
    field, value = _card_lookup(card_id, project)
    sql = (
        f'SELECT {db.columns(Ticket, "t")} FROM "tickets_ticket" t '  # noqa: S608
        f'WHERE t."project_id" = %s AND t."deleted_at" IS NULL AND t."{field}" = %s'
    )
    row = db.fetch_one(sql, [project.pk, value])
    if row is None:
        raise NotFound("Card not found.")
    ticket = db.instance(Ticket, "t", row)
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
    row = db.fetch_one(sql, params)
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
