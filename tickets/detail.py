"""A ticket in one request: the card detail (CardDetailSerializer's JSON) and, on request, the
first page of what hangs off it (`?include=comments,events,checklist,attachments,links`).

Everything is read as plain rows (the card through tickets.cards, the rest as values_list()
of the selectors' querysets) and written as the JSON the DRF serializers in
tickets.serializers give, byte for byte (tests/tickets/test_card_include.py holds it to them):
the detail with 50 comments was two requests and ~70 ms of CPU through model instances and
serializers (issue 20). The number of queries does not grow with the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import QuerySet

from projects.models import Project
from punt.errors import Invalid
from punt.files import shows_inline
from tickets import cards, fastpath, selectors
from tickets.models import Ticket

# Relations depend on who asks (links to tickets they cannot see are left out): read apart.
INCLUDES = (*selectors.TICKET_PARTS, "relations")
# The page size of the paginated parts: their endpoints' default (tickets.api.EventPagination).
PAGE = 100
PAGINATED = ("comments", "events")

Person = Callable[[int | None, str, str, str], dict[str, Any] | None]


def parse_include(values: Iterable[str]) -> tuple[str, ...]:
    """The part names of `?include=` (comma-separated, may repeat), in INCLUDES order; 400 for a
    name that is not one."""
    asked = {name.strip() for value in values for name in value.split(",") if name.strip()}
    unknown = sorted(asked - set(INCLUDES))
    if unknown:
        message = f"Unknown include {', '.join(repr(name) for name in unknown)}: use {', '.join(INCLUDES)}."
        raise Invalid(message, details=[{"field": "include", "message": message}])
    return tuple(name for name in INCLUDES if name in asked)


def card_detail(*, project: Project, card_id: str | int, user_id: int | None) -> tuple[Ticket, dict[str, Any]]:
    """(the ticket's row, CardDetailSerializer's JSON) of the live ticket `card_id`: 6 queries.

    Precondition: the caller may read `project`. 404 (punt.errors.NotFound) for no such card.
    """
    ticket = selectors.ticket_row(project=project, card_id=card_id)
    return ticket, card_detail_of(ticket, user_id=user_id)


def card_detail_of(ticket: Ticket, *, user_id: int | None) -> dict[str, Any]:
    """CardDetailSerializer's JSON of `ticket` (`ticket.project` attached), read afresh."""
    project = ticket.project
    card = cards.cards([ticket.pk], project=project, shape=cards.FULL)[0]
    key_prefix = f"{project.key}-"  # a sub-task is in its parent's project
    subtasks = [
        {"id": pk, "key": f"{key_prefix}{number}", "title": title, "status": status, "state": state}
        for pk, number, title, status, state in fastpath.subtask_rows(ticket_id=ticket.pk)
    ]
    person = cards.person_briefs()
    watchers = [person(*row) for row in fastpath.watcher_rows(ticket_id=ticket.pk)]
    counts = fastpath.ticket_counts(ticket_id=ticket.pk)
    return {
        **card,
        "subtasks": subtasks,
        "watchers": watchers,
        "counts": {
            "comments": counts["comment_count"],
            "attachments": counts["attachment_count"],
            "links": counts["link_count"],
            "subtasks": len(subtasks),
            "watchers": len(watchers),
        },
        "watching": any(watcher is not None and watcher["id"] == user_id for watcher in watchers),
    }


# --------------------------------------------------------------------------- the parts


def _comments(ticket: Ticket, queryset: QuerySet[Any], person: Person, zone: Any) -> list[dict[str, Any]]:
    """CommentSerializer's JSON (the rows: fastpath.comment_rows, the twin of `queryset`)."""
    iso = cards.iso_datetime
    return [
        {
            "id": pk,
            "card_id": ticket_id,
            "body": text,
            "body_html": html,
            "minutes": minutes,
            "author": person(author_id, username, display_name, avatar),
            "created_at": iso(created_at, zone),
            "updated_at": iso(updated_at, zone),
        }
        for pk, ticket_id, text, html, minutes, author_id, username, display_name, avatar, created_at, updated_at in (
            fastpath.comment_rows(ticket_id=ticket.pk, limit=PAGE)
        )
    ]


def _events(ticket: Ticket, queryset: QuerySet[Any], person: Person, zone: Any) -> list[dict[str, Any]]:
    """EventSerializer's JSON."""
    columns = (
        "id",
        "kind",
        "text",
        "html",
        "data",
        "minutes",
        "created_at",
        "updated_at",
        *cards.person_columns("author"),
    )
    iso = cards.iso_datetime_object
    return [
        {
            "id": pk,
            "type": kind,
            "text": text,
            "html": html,
            "data": data,
            "minutes": minutes,
            "created_at": iso(created_at, zone),
            "last_updated_at": iso(updated_at, zone),
            "author": person(author_id, username, display_name, avatar),
        }
        for pk, kind, text, html, data, minutes, created_at, updated_at, author_id, username, display_name, avatar in (
            queryset.values_list(*columns)[:PAGE]
        )
    ]


def _checklist(ticket: Ticket, queryset: QuerySet[Any], person: Person, zone: Any) -> list[dict[str, Any]]:
    """ChecklistItemSerializer's JSON."""
    columns = ("id", "ticket_id", "text", "done", "order", "done_at", *cards.person_columns("done_by"), "created_at")
    iso = cards.iso_datetime_object
    return [
        {
            "id": pk,
            "card_id": ticket_id,
            "text": text,
            "done": bool(done),
            "order": order,
            "done_at": iso(done_at, zone),
            "done_by": person(done_by_id, username, display_name, avatar),
            "created_at": iso(created_at, zone),
        }
        for pk, ticket_id, text, done, order, done_at, done_by_id, username, display_name, avatar, created_at in (
            queryset.values_list(*columns)
        )
    ]


def _attachments(ticket: Ticket, queryset: QuerySet[Any], person: Person, zone: Any) -> list[dict[str, Any]]:
    """AttachmentSerializer's JSON."""
    columns: tuple[str, ...] = ("id", "ticket_id", "filename", "content_type", "size", "width", "height", "thumbnail")
    columns += (*cards.person_columns("uploaded_by"), "created_at")
    base = f"/api/v1/projects/{ticket.project.slug}/attachments/"
    iso = cards.iso_datetime_object
    return [
        {
            "id": pk,
            "card_id": ticket_id,
            "filename": filename,
            "content_type": content_type,
            "size": size,
            "width": width,
            "height": height,
            "is_image": shows_inline(content_type),
            "download_url": f"{base}{pk}/download",
            "thumbnail_url": f"{base}{pk}/thumbnail" if thumbnail else None,
            "uploaded_by": person(uploader_id, username, display_name, avatar),
            "created_at": iso(created_at, zone),
        }
        for (
            pk,
            ticket_id,
            filename,
            content_type,
            size,
            width,
            height,
            thumbnail,
            uploader_id,
            username,
            display_name,
            avatar,
            created_at,
        ) in queryset.values_list(*columns)
    ]


def _links(ticket: Ticket, queryset: QuerySet[Any], person: Person, zone: Any) -> list[dict[str, Any]]:
    """GitLinkSerializer's JSON."""
    columns = (
        "id",
        "kind",
        "url",
        "title",
        "ref",
        "provider",
        "state",
        *cards.person_columns("created_by"),
        "created_at",
    )
    iso = cards.iso_datetime_object
    return [
        {
            "id": pk,
            "kind": kind,
            "url": url,
            "title": title,
            "ref": ref,
            "provider": provider,
            "state": state,
            "created_by": person(creator_id, username, display_name, avatar),
            "created_at": iso(created_at, zone),
        }
        for pk, kind, url, title, ref, provider, state, creator_id, username, display_name, avatar, created_at in (
            queryset.values_list(*columns)
        )
    ]


_ROWS = {
    "comments": _comments,
    "events": _events,
    "checklist": _checklist,
    "attachments": _attachments,
    "links": _links,
}


def included(
    *,
    ticket: Ticket,
    detail: dict[str, Any],
    names: tuple[str, ...],
    endpoint: Callable[[str], str] | None,
    user: Any = None,
) -> dict[str, dict[str, Any]]:
    """{name: first page} of the parts `names` of `ticket` (`detail`: its card_detail_of()).

    A page is what the part's own list endpoint answers first, in the paginated envelope
    `{count, next, previous, results}`: comments and events page by `PAGE` (`next` is
    `endpoint(name)` with `?limit=&offset=`, the URL of their second page); checklist,
    attachments, links and relations are whole lists (`next` null). One query per part, one
    more for the events' count when they fill a page, two for relations (those `user` may see).
    """
    person = cards.person_briefs()
    zone = cards.current_zone()
    found: dict[str, dict[str, Any]] = {}
    parts = tuple(name for name in names if name != "relations")
    for name, queryset in selectors.ticket_parts(ticket=ticket, names=parts).items():
        results = _ROWS[name](ticket, queryset, person, zone)
        if name == "comments":
            count = detail["counts"]["comments"]
        elif name == "events" and len(results) >= PAGE:
            count = queryset.count()
        else:
            count = len(results)
        next_url = None
        if name in PAGINATED and count > PAGE and endpoint is not None:
            next_url = f"{endpoint(name)}?limit={PAGE}&offset={PAGE}"
        found[name] = {"count": count, "next": next_url, "previous": None, "results": results}
    if "relations" in names:
        relations = selectors.relations_for(ticket=ticket, user=user)
        found["relations"] = {"count": len(relations), "next": None, "previous": None, "results": relations}
    return found
