"""References in text: `#14` / `PROJ-14` linked in Markdown, `@user` mentions and cross-references."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from accounts.models import User
from accounts.serializers import user_brief
from notifications.services import notify
from projects.models import Project
from projects.permissions import visible_projects
from punt import events
from tickets import markdown
from tickets.models import Event, Ticket
from tickets.services.common import _actor_id, _excerpt, _iexact_any, ticket_brief, ticket_html_url

MAX_REFERENCES = 50  # references resolved per text; more is spam, not cross-linking


def _referenced_tickets(
    *, project: Project, by: Any, refs: Iterable[tuple[str | None, int]]
) -> dict[tuple[str, int], Ticket]:
    """Live tickets that `refs` name, limited to projects `by` can see (one query)."""
    wanted = {(key or project.key, number) for key, number in list(refs)[:MAX_REFERENCES]}
    if not wanted:
        return {}
    condition = Q()
    for key, number in wanted:
        condition |= Q(project__key=key, number=number)
    queryset = Ticket.objects.filter(condition, deleted_at__isnull=True, project__archived_at__isnull=True)
    if any(key != project.key for key, _ in wanted) and by is not None:
        queryset = queryset.filter(Q(project=project) | Q(project__in=visible_projects(by).values("pk")))
    else:
        queryset = queryset.filter(project=project)
    queryset = queryset.select_related("project", "project__owner_user", "project__organization")
    return {(ticket.project.key, ticket.number): ticket for ticket in queryset}


def render_markdown(*, project: Project, by: Any, text: str) -> str:
    """Sanitized HTML of `text` with `#14` / `PROJ-14` linked to the tickets that exist."""
    if not text:
        return ""
    references = markdown.find_references(text)
    found = _referenced_tickets(project=project, by=by, refs=references.tickets)

    def resolve(key: str | None, number: int) -> str | None:
        target = found.get((key or project.key, number))
        return None if target is None else ticket_html_url(target.project, target.number)

    return markdown.render(text, resolve, _mentionable(project=project, usernames=references.usernames))


def _mentionable(*, project: Project, usernames: Iterable[str]) -> set[str]:
    """The lower-cased names among `usernames` of the project's active members (a query only when any)."""
    names = {name.lower() for name in usernames}
    names = set(sorted(names)[:MAX_REFERENCES])
    if not names:
        return set()
    members = User.objects.filter(memberships__project=project, is_active=True).filter(_iexact_any("username", names))
    return {username.lower() for username in members.values_list("username", flat=True)}


def _write_mentions(
    *, ticket: Ticket, by: Any, old_text: str, new_text: str, comment: Event | None = None, tab_id: str | None
) -> None:
    """Mention events for what `new_text` newly references, plus notifications and cross-references.

    `@user` counts only for project members; `#14` / `PROJ-14` also write a mention on the
    referenced ticket, so both timelines show the link.
    """
    old = markdown.find_references(old_text)
    new = markdown.find_references(new_text)
    project = ticket.project
    usernames = {name.lower() for name in new.usernames} - {name.lower() for name in old.usernames}
    old_refs = {(key or project.key, number) for key, number in old.tickets}
    raw_refs: dict[tuple[str, int], str] = {}
    for key, number in sorted(new.tickets, key=lambda ref: (ref[0] or "", ref[1])):
        normal = (key or project.key, number)
        if normal not in old_refs:
            raw_refs.setdefault(normal, f"{key}-{number}" if key else f"#{number}")
    source: dict[str, Any] = {"source": "comment" if comment is not None else "ticket"}
    if comment is not None:
        source["comment_id"] = comment.pk
    rows: list[Event] = []
    if usernames:
        mentioned = list(
            User.objects.filter(memberships__project=project, is_active=True)
            .filter(_iexact_any("username", usernames))
            .order_by("username")[:MAX_REFERENCES]
        )
        notify(
            recipients=mentioned,
            kind="mention",
            actor=by,
            text=f"{getattr(by, 'username', 'Someone')} mentioned you in {ticket.key}: {_excerpt(new_text, 160)}",
            url=ticket_html_url(project, ticket.number),
            project=project,
            data={"ticket": ticket_brief(ticket), **source},
            snippet=new_text,
        )
        for user in mentioned:
            rows.append(
                Event(
                    ticket=ticket,
                    kind=Event.Kind.MENTION,
                    author=by,
                    text=f"@{user.username}",
                    data={"user": {"id": user.pk, "username": user.username}, **source},
                )
            )
            if user.pk != _actor_id(by):
                events.publish(
                    "notification.mention",
                    {
                        "ticket": ticket_brief(ticket),
                        "project": {"id": project.pk, "key": project.key, "name": project.name},
                        "actor": user_brief(by),
                        "excerpt": _excerpt(new_text),
                        **source,
                    },
                    user_ids=[user.pk],
                    tab_id=tab_id,
                    actor_id=_actor_id(by),
                )
    if raw_refs:
        targets = _referenced_tickets(project=project, by=by, refs=raw_refs.keys())
        for normal, target in targets.items():
            if target.pk == ticket.pk:
                continue
            rows.append(
                Event(
                    ticket=ticket,
                    kind=Event.Kind.MENTION,
                    author=by,
                    text=raw_refs[normal],
                    data={"ticket": ticket_brief(target), **source},
                )
            )
            rows.append(
                Event(
                    ticket=target,
                    kind=Event.Kind.MENTION,
                    author=by,
                    text=ticket.key,
                    data={"ticket": ticket_brief(ticket), "cross_reference": True, **source},
                )
            )
    if rows:
        Event.objects.bulk_create(rows)
