"""Writes for tickets, their timeline, checklists, attachments, git links and watchers.

Every public function is keyword-only, runs in one transaction (a bad input leaves
nothing behind) and publishes its events on commit through punt.events.publish.
Callers have already checked the caller's role with projects.permissions; the rules that
depend on *who* acts (edit own comment, delete own or admin) are checked here.

Card order: `Ticket.rank` is a sparse key (gap RANK_GAP). A move takes the midpoint between
its new neighbours and writes one row; only when two neighbours are adjacent is the column
renumbered, in one pass. The order is always (rank, id), which is total even if ranks tie.
Writers that compute ranks lock the column rows involved (SELECT ... FOR UPDATE on
PostgreSQL; SQLite serializes writers anyway), so concurrent moves never interleave.
"""

from __future__ import annotations

import io
import json
import logging
import mimetypes
import os
import warnings
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from accounts.models import User
from accounts.serializers import user_brief
from accounts.services import system_settings
from notifications.services import notify
from projects.models import Column, Label, Membership, Project, Sprint
from projects.permissions import MANAGE, has_role, visible_projects
from projects.services import column_for_category, columns_create_defaults
from punt import errors
from punt.errors import Forbidden
from punt.errors import invalid as _invalid
from punt.events import publish
from tickets import cards, fastpath, markdown
from tickets.models import Attachment, ChecklistItem, Event, GitLink, Ticket, TimeEntry, Watcher

logger = logging.getLogger("punt.tickets")

RANK_GAP = 1024
MAX_REFERENCES = 50  # references resolved per text; more is spam, not cross-linking
TITLE_MAX = 500
BODY_MAX = 100_000
COMMENT_MAX = 50_000
COMMENT_MINUTES_MAX = 100_000  # the API's limit too; the pages and dialects come straight here
# PositiveIntegerField's ceiling on every engine; larger story points are a typo, not a plan.
ESTIMATE_MAX = 2_147_483_647
# Ids are 64-bit: a longer digit string names no row (and would overflow SQLite's integers).
ID_MAX = 2**63 - 1
THUMBNAIL_SIZE = (320, 320)
GIT_LINK_URL_MAX = 500  # GitLink.url's max_length

UNSET: Any = object()

Action = str  # the verb of an action event


class WipLimitExceeded(errors.Conflict):
    default_message = "The column's WIP limit is reached."
    code = "wip_limit"


class PayloadTooLarge(errors.PayloadTooLarge):
    default_message = "The file is too large."


def _actor_id(by: Any) -> int | None:
    return getattr(by, "pk", None)


# --------------------------------------------------------------------------- payloads


def ticket_brief(ticket: Ticket) -> dict[str, Any]:
    return {"id": ticket.pk, "key": ticket.key, "title": ticket.title}


def card_payload(ticket: Ticket, *, full: bool = False) -> dict[str, Any]:
    """The compact card the board events carry (the same shape as the board endpoint).

    `full`: the full card (lists, write responses). Read as the board reads its cards.
    """
    return cards.card(ticket, shape=cards.FULL if full else cards.COMPACT)


def _reload(ticket: Ticket) -> Ticket:
    from tickets.selectors import tickets_for_project

    return tickets_for_project(project=ticket.project, deleted=ticket.deleted_at is not None).get(pk=ticket.pk)


def _json(value: Any) -> Any:
    """A value as it is stored in an update event's old/new data."""
    if isinstance(value, date):
        return value.isoformat()
    return value


# --------------------------------------------------------------------------- references & Markdown


def ticket_html_url(project: Project, number: int) -> str:
    return f"/projects/{project.namespace}/{project.path}/tickets/{number}"


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
    found = _referenced_tickets(project=project, by=by, refs=markdown.find_references(text).tickets)

    def resolve(key: str | None, number: int) -> str | None:
        target = found.get((key or project.key, number))
        return None if target is None else ticket_html_url(target.project, target.number)

    return markdown.render(text, resolve)


def _excerpt(text: str, limit: int = 200) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
    events: list[Event] = []
    if usernames:
        mentioned = (
            User.objects.filter(memberships__project=project, is_active=True)
            .filter(_iexact_any("username", usernames))
            .order_by("username")
        )
        mentioned = list(mentioned[:MAX_REFERENCES])
        notify(
            recipients=mentioned,
            kind="mention",
            actor=by,
            text=f"{getattr(by, 'username', 'Someone')} mentioned you in {ticket.key}: {_excerpt(new_text, 160)}",
            url=ticket_html_url(project, ticket.number),
            project=project,
            data={"ticket": ticket_brief(ticket), **source},
        )
        for user in mentioned:
            events.append(
                Event(
                    ticket=ticket,
                    kind=Event.Kind.MENTION,
                    author=by,
                    text=f"@{user.username}",
                    data={"user": {"id": user.pk, "username": user.username}, **source},
                )
            )
            if user.pk != _actor_id(by):
                publish(
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
            events.append(
                Event(
                    ticket=ticket,
                    kind=Event.Kind.MENTION,
                    author=by,
                    text=raw_refs[normal],
                    data={"ticket": ticket_brief(target), **source},
                )
            )
            events.append(
                Event(
                    ticket=target,
                    kind=Event.Kind.MENTION,
                    author=by,
                    text=ticket.key,
                    data={"ticket": ticket_brief(ticket), "cross_reference": True, **source},
                )
            )
    if events:
        Event.objects.bulk_create(events)


# --------------------------------------------------------------------------- watchers & notifications


def _watch(ticket: Ticket, users: Iterable[Any]) -> None:
    rows = [Watcher(ticket=ticket, user=user) for user in {u.pk: u for u in users if u is not None}.values()]
    if rows:
        Watcher.objects.bulk_create(rows, ignore_conflicts=True)


def _watchers_to_notify(ticket: Ticket, actor_id: int | None) -> list[User]:
    """The active watchers of `ticket` but the actor."""
    return list(ticket.watchers.filter(is_active=True).exclude(pk=actor_id))


def _notify_watchers(*, ticket: Ticket, by: Any, action: str, summary: str, tab_id: str | None) -> None:
    """`notification.ticket` to every watcher but the one who made the change."""
    watchers = _watchers_to_notify(ticket, _actor_id(by))
    if not watchers:
        return
    ids = [user.pk for user in watchers]
    notify(
        recipients=watchers,
        kind="watched",
        actor=by,
        text=f"{ticket.key} {ticket.title}: {summary}",
        url=ticket_html_url(ticket.project, ticket.number),
        project=ticket.project,
        data={"ticket": ticket_brief(ticket), "action": action},
    )
    publish(
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
    notify(
        recipients=[ticket.assignee],
        kind="assigned",
        actor=by,
        text=f"{getattr(by, 'username', 'Someone')} assigned you {ticket.key} {ticket.title}",
        url=ticket_html_url(ticket.project, ticket.number),
        project=ticket.project,
        data={"ticket": ticket_brief(ticket)},
    )
    publish(
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


def _event(ticket: Ticket, by: Any, kind: str, text: str = "", data: dict[str, Any] | None = None) -> Event:
    return Event.objects.create(ticket=ticket, kind=kind, author=by, text=text, data=data or {})


def _touch(ticket: Ticket) -> None:
    """Bump updated_at for changes that live in other tables (comments, checklist, ...)."""
    now = timezone.now()
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=now)
    ticket.updated_at = now


# --------------------------------------------------------------------------- resolving inputs


def _as_id(text: str) -> int | None:
    """`text` as a row id if it is a plain ASCII number in range, else None.

    str.isdigit() alone accepts "²" (int() then raises) and numbers no column can hold.
    """
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= ID_MAX else None


def _clean_estimate(estimate: Any) -> int | None:
    if estimate is None:
        return None
    if estimate < 0:
        raise _invalid("estimate", "The estimate cannot be negative.")
    if estimate > ESTIMATE_MAX:
        raise _invalid("estimate", f"The estimate is at most {ESTIMATE_MAX}.")
    return estimate


def resolve_user(*, project: Project, value: Any, field: str = "assignee") -> User | None:
    """A project member by username (case-insensitive) or id; None/"" clears."""
    if value is None or value == "":
        return None
    if isinstance(value, User):
        user = value
    else:
        text = str(value).strip()
        user_id = _as_id(text)
        lookup = Q(pk=user_id) if user_id is not None else Q(username__iexact=text)
        user = User.objects.filter(lookup).first()
        if user is None:
            raise _invalid(field, f"Unknown user '{text}'.")
    if not Membership.objects.filter(project=project, user=user).exists():
        raise _invalid(field, f"'{user.username}' is not a member of this project.")
    return user


def resolve_labels(*, project: Project, values: Sequence[Any]) -> list[Label]:
    """Labels of this project named by id or by name (case-insensitive); unknown ones are an error.

    A number matches a label id first, then a label named like it ("2024").
    """
    wanted = [str(v).strip() for v in values if str(v).strip()]
    if not wanted:
        return []  # no query to build (building the one that matches nothing cost 0.3 ms a create)
    ids = {label_id for v in wanted if (label_id := _as_id(v)) is not None}
    candidates = list(project.labels.filter(Q(pk__in=ids) | _iexact_any("name", {v.lower() for v in wanted})))
    by_id = {label.pk: label for label in candidates}
    by_name = {label.name.lower(): label for label in candidates}
    chosen: dict[int, Label] = {}
    missing: list[str] = []
    for value in wanted:
        label_id = _as_id(value)
        label = (by_id.get(label_id) if label_id is not None else None) or by_name.get(value.lower())
        if label is None:
            missing.append(value)
        else:
            chosen[label.pk] = label
    if missing:
        raise _invalid("labels", f"Unknown label{'s' if len(missing) > 1 else ''}: {', '.join(missing)}.")
    return sorted(chosen.values(), key=lambda label: label.name.lower())


def _iexact_any(field: str, values: Iterable[str]) -> Q:
    """Case-insensitive `field IN values` (portable: no database-specific collation)."""
    condition = Q(pk__in=[])
    for value in values:
        condition |= Q(**{f"{field}__iexact": value})
    return condition


def resolve_sprint(*, project: Project, value: Any) -> Sprint | None:
    if value is None or value == "":
        return None
    if isinstance(value, Sprint):
        sprint = value if value.project_id == project.pk else None
    else:
        text = str(value).strip()
        sprint_id = _as_id(text)
        sprint = project.sprints.filter(pk=sprint_id).first() if sprint_id is not None else None
    if sprint is None:
        raise _invalid("sprint_id", f"Unknown sprint '{value}'.")
    if sprint.status == Sprint.Status.CLOSED:
        raise _invalid("sprint_id", f"Sprint '{sprint.name}' is closed.")
    return sprint


def resolve_parent(*, project: Project, value: Any, child: Ticket | None = None) -> Ticket | None:
    """A live ticket of the same project by id or key; refuses a parent that would make a cycle."""
    if value is None or value == "":
        return None
    from tickets.selectors import CARD_KEY_RE

    if isinstance(value, Ticket):
        parent: Ticket | None = value if value.project_id == project.pk and value.deleted_at is None else None
    else:
        text = str(value).strip()
        queryset = Ticket.objects.filter(project=project, deleted_at__isnull=True)
        match = CARD_KEY_RE.match(text)
        parent_id = _as_id(text)
        number = _as_id(match.group(2)) if match else None
        if parent_id is not None:
            parent = queryset.filter(pk=parent_id).first()
        elif match and match.group(1).upper() == project.key and number is not None:
            parent = queryset.filter(number=number).first()
        else:
            parent = None
    if parent is None:
        raise _invalid("parent", f"Unknown parent ticket '{value}' in this project.")
    if child is not None:
        # Walk up from the new parent: meeting the child means the link would close a loop.
        seen: set[int] = set()
        cursor: int | None = parent.pk
        while cursor is not None and cursor not in seen:
            if cursor == child.pk:
                raise _invalid("parent", f"{parent.key} cannot be the parent of {child.key}: that makes a cycle.")
            seen.add(cursor)
            cursor = Ticket.objects.filter(pk=cursor).values_list("parent_id", flat=True).first()
    return parent


def _clean_title(title: Any) -> str:
    title = " ".join(str(title or "").split())
    if not title:
        raise _invalid("title", "A title is required.")
    if len(title) > TITLE_MAX:
        raise _invalid("title", f"A title has at most {TITLE_MAX} characters.")
    return title


def _clean_body(body: Any) -> str:
    body = str(body or "")
    if len(body) > BODY_MAX:
        raise _invalid("body", f"The body has at most {BODY_MAX} characters.")
    return body


def _choice(field: str, value: Any, choices: type) -> str:
    if value not in choices.values:
        raise _invalid(field, f"'{value}' is not one of {', '.join(choices.values)}.")
    return value


# --------------------------------------------------------------------------- ranks


def _lock_columns(ids: Iterable[int]) -> dict[int, Column]:
    """Lock column rows in id order (a fixed order, so two movers cannot deadlock)."""
    return {column.pk: column for column in Column.objects.select_for_update().filter(pk__in=set(ids)).order_by("pk")}


def _rebalance(column: Column, exclude_id: int | None) -> None:
    """Renumber a column's cards RANK_GAP apart, keeping their order: one pass, one bulk write."""
    rows = list(Ticket.objects.filter(column=column).exclude(pk=exclude_id).order_by("rank", "id").only("pk", "rank"))
    for index, row in enumerate(rows):
        row.rank = (index + 1) * RANK_GAP
    Ticket.objects.bulk_update(rows, ["rank"], batch_size=500)


def _neighbours(
    column: Column, exclude_id: int | None, before_id: int | None, after_id: int | None, index: int | None
) -> tuple[int | None, int | None]:
    """(rank just above, rank just below) the slot the card goes to; None at an end of the column."""
    if before_id is not None or after_id is not None:
        anchor_id = before_id if before_id is not None else after_id
        field = "before_id" if before_id is not None else "after_id"
        found = None
        if abs(anchor_id) <= ID_MAX:  # larger ids are no card's (and no database integer)
            found = fastpath.neighbour_ranks(
                column_id=column.pk, exclude_id=exclude_id, anchor_id=anchor_id, above=before_id is not None, index=None
            )
        if found is None:
            raise _invalid(field, f"Card {anchor_id} is not in the column '{column.name}'.")
        return found
    index = None if index is None else min(index, ID_MAX)
    found = fastpath.neighbour_ranks(
        column_id=column.pk, exclude_id=exclude_id, anchor_id=None, above=False, index=index
    )
    assert found is not None
    return found


def _rank_for(
    column: Column,
    *,
    exclude_id: int | None = None,
    before_id: int | None = None,
    after_id: int | None = None,
    index: int | None = None,
) -> int:
    """A rank for the slot, renumbering the column once if the neighbours have no room between them.

    Precondition: the column row is locked.
    """
    for _attempt in range(2):
        above, below = _neighbours(column, exclude_id, before_id, after_id, index)
        if above is None and below is None:
            return RANK_GAP
        if above is None:
            return below - RANK_GAP
        if below is None:
            return above + RANK_GAP
        if below - above >= 2:
            return (above + below) // 2
        _rebalance(column, exclude_id)
    raise RuntimeError("A rebalanced column still has no room between neighbours.")


def _check_wip(column: Column, *, exclude_id: int | None, force: bool) -> None:
    if column.wip_limit is None or force:
        return
    count = Ticket.objects.filter(column=column, deleted_at__isnull=True).exclude(pk=exclude_id).count()
    if count >= column.wip_limit:
        raise WipLimitExceeded(
            f"The column '{column.name}' has a WIP limit of {column.wip_limit} and holds {count} cards; "
            'send "force": true to exceed it.'
        )


def _apply_state(ticket: Ticket, *, column: Column, by: Any) -> Action | None:
    """Keep `state` in line with the column: entering done closes, leaving done reopens."""
    done = column.category == Column.Category.DONE
    if done and ticket.state != Ticket.State.CLOSED:
        ticket.state = Ticket.State.CLOSED
        ticket.closed_at = timezone.now()
        ticket.closed_by = by if getattr(by, "pk", None) else None
        return "close"
    if not done and ticket.state != Ticket.State.OPENED:
        ticket.state = Ticket.State.OPENED
        ticket.closed_at = None
        ticket.closed_by = None
        return "reopen"
    return None


# --------------------------------------------------------------------------- tickets


def _next_ticket_number(project: Project) -> int:
    """Increment Project.ticket_counter and return the new value (the UPDATE row-locks the project).

    One `UPDATE ... RETURNING` where the database has it (PostgreSQL, SQLite >= 3.35), else
    the queryset UPDATE and a read-back in the same transaction: the same row, lock and value.
    """
    if not fastpath.has_returning():
        Project.objects.filter(pk=project.pk).update(ticket_counter=F("ticket_counter") + 1)
        return Project.objects.filter(pk=project.pk).values_list("ticket_counter", flat=True).get()
    number = fastpath.next_ticket_number(project_id=project.pk)
    if number is None:
        raise Project.DoesNotExist("Project matching query does not exist.")
    return number


@transaction.atomic
def ticket_create(
    *,
    project: Project,
    by: Any,
    title: str,
    column: Column | None = None,
    body: str = "",
    type: str = Ticket.Type.TASK,
    priority: str = Ticket.Priority.MEDIUM,
    status: str | None = None,
    assignee: Any = None,
    labels: Sequence[Any] = (),
    sprint: Any = None,
    parent: Any = None,
    due_date: date | None = None,
    estimate: int | None = None,
    reporter: Any = UNSET,
    force: bool = False,
    tab_id: str | None = None,
) -> Ticket:
    """Create a ticket at the bottom of `column` (or of the first column of `status`, or the first column).

    The number comes from Project.ticket_counter, incremented with an UPDATE that row-locks
    the project until commit: concurrent creates queue, and numbers have no gaps or repeats.
    """
    title = _clean_title(title)
    body = _clean_body(body)
    _choice("type", type, Ticket.Type)
    _choice("priority", priority, Ticket.Priority)
    estimate = _clean_estimate(estimate)
    assignee_user = resolve_user(project=project, value=assignee)
    label_list = resolve_labels(project=project, values=labels or [])
    sprint_obj = resolve_sprint(project=project, value=sprint)
    parent_obj = resolve_parent(project=project, value=parent)
    if column is not None and column.project_id != project.pk:
        raise _invalid("column_id", "That column belongs to another project.")
    if column is None and status:
        _choice("status", status, Column.Category)
        column = column_for_category(project=project, category=status)
    if column is None:
        column = project.columns.order_by("order", "id").first() or columns_create_defaults(project=project)[0]

    number = _next_ticket_number(project)
    project.ticket_counter = number
    column = _lock_columns([column.pk])[column.pk]
    _check_wip(column, exclude_id=None, force=force)

    ticket = Ticket(
        project=project,
        number=number,
        type=type,
        title=title,
        body=body,
        column=column,
        rank=_rank_for(column),
        priority=priority,
        assignee=assignee_user,
        reporter=by if reporter is UNSET else reporter,
        sprint=sprint_obj,
        parent=parent_obj,
        due_date=due_date,
        estimate=estimate,
        updated_by=by if getattr(by, "pk", None) else None,
    )
    ticket.body_html = render_markdown(project=project, by=by, text=body)
    _apply_state(ticket, column=column, by=by)
    ticket.save()
    if label_list:
        ticket.labels.set(label_list)
    _watch(ticket, [ticket.reporter, assignee_user])

    _event(ticket, by, Event.Kind.ACTION, "create", {"column": {"id": column.pk, "name": column.name}})
    if assignee_user is not None:
        _event(ticket, by, Event.Kind.ACTION, "assign", {"assignee": user_brief(assignee_user)})
    _write_mentions(ticket=ticket, by=by, old_text="", new_text=f"{title}\n{body}", tab_id=tab_id)

    # The full card, built from what is in memory (labels in the database's name order, if
    # any): the event carries its compact part, the API's 201 all of it.
    labels = fastpath.card_labels([ticket.pk]) if label_list else {}
    ticket.card = cards.card_of(ticket, shape=cards.FULL, labels=labels)
    publish(
        "board.card_created",
        cards.compact(ticket.card),
        project_id=project.pk,
        tab_id=tab_id,
        actor_id=_actor_id(by),
    )
    _notify_assigned(ticket=ticket, by=by, tab_id=tab_id)
    return ticket


def _diff_value(ticket: Ticket, field: str) -> Any:
    if field == "labels":
        return sorted(label.name for label in ticket.labels.all())
    if field == "sprint":
        return None if ticket.sprint is None else {"id": ticket.sprint.pk, "name": ticket.sprint.name}
    if field == "parent":
        return None if ticket.parent is None else ticket.parent.key
    return _json(getattr(ticket, field))


@transaction.atomic
def ticket_update(
    *,
    ticket: Ticket,
    by: Any,
    title: Any = UNSET,
    body: Any = UNSET,
    type: Any = UNSET,
    priority: Any = UNSET,
    status: Any = UNSET,
    assignee: Any = UNSET,
    labels: Any = UNSET,
    sprint: Any = UNSET,
    parent: Any = UNSET,
    due_date: Any = UNSET,
    estimate: Any = UNSET,
    force: bool = False,
    tab_id: str | None = None,
) -> Ticket:
    """Change the given fields. Writes one `update` event with old/new values of what changed,
    `assign`/`unassign` actions, and, for a new status, moves the card (see ticket_move).
    """
    project = ticket.project
    moved = False
    if status is not UNSET and status is not None:
        _choice("status", status, Column.Category)
        if status != ticket.column.category:
            # Move first: ticket_move locks column then card, and so must every writer that
            # takes both, or two of them could deadlock.
            target = column_for_category(project=project, category=status)
            ticket = ticket_move(ticket=ticket, column=target, by=by, force=force, tab_id=tab_id)
            moved = True
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    # Only the fields changed here are saved: column, rank and state belong to ticket_move.
    dirty: set[str] = set()
    old_text = f"{ticket.title}\n{ticket.body}"

    def change(field: str, value: Any) -> None:
        before = _diff_value(ticket, field)
        if field == "labels":
            ticket.labels.set(value)
        else:
            setattr(ticket, field, value)
        after = _diff_value(ticket, field)
        if before != after:
            old[field], new[field] = before, after
            if field != "labels":
                dirty.add(field)

    if title is not UNSET:
        change("title", _clean_title(title))
    if body is not UNSET:
        change("body", _clean_body(body))
    if type is not UNSET:
        change("type", _choice("type", type, Ticket.Type))
    if priority is not UNSET:
        change("priority", _choice("priority", priority, Ticket.Priority))
    if labels is not UNSET:
        change("labels", resolve_labels(project=project, values=labels or []))
    if sprint is not UNSET:
        change("sprint", resolve_sprint(project=project, value=sprint))
    if parent is not UNSET:
        change("parent", resolve_parent(project=project, value=parent, child=ticket))
    if due_date is not UNSET:
        change("due_date", due_date)
    if estimate is not UNSET:
        change("estimate", _clean_estimate(estimate))

    assigned = False
    if assignee is not UNSET:
        user = resolve_user(project=project, value=assignee)
        if (user.pk if user else None) != ticket.assignee_id:
            previous = ticket.assignee
            ticket.assignee = user
            dirty.add("assignee")
            assigned = user is not None
            if user is None:
                _event(ticket, by, Event.Kind.ACTION, "unassign", {"assignee": user_brief(previous)})
            else:
                _event(ticket, by, Event.Kind.ACTION, "assign", {"assignee": user_brief(user)})
                _watch(ticket, [user])

    if "body" in new:
        ticket.body_html = render_markdown(project=project, by=by, text=ticket.body)
        dirty.add("body_html")
    if new or dirty:
        ticket.updated_by = by if getattr(by, "pk", None) else None
        ticket.save(update_fields=[*sorted(dirty), "updated_by", "updated_at"])
    if new:
        _event(ticket, by, Event.Kind.UPDATE, str({"old": old, "new": new}), {"old": old, "new": new})
        if "title" in new or "body" in new:
            _write_mentions(
                ticket=ticket, by=by, old_text=old_text, new_text=f"{ticket.title}\n{ticket.body}", tab_id=tab_id
            )

    if dirty or new:
        publish(
            "board.card_updated", card_payload(ticket), project_id=project.pk, tab_id=tab_id, actor_id=_actor_id(by)
        )
        changed = sorted({*new, *({"assignee"} & dirty)})
        _notify_watchers(ticket=ticket, by=by, action="updated", summary=f"changed {', '.join(changed)}", tab_id=tab_id)
        if assigned:
            _notify_assigned(ticket=ticket, by=by, tab_id=tab_id)
    if not moved and not new and not dirty:
        return ticket
    return _reload(ticket)


@transaction.atomic
def ticket_move(*, ticket: Ticket, column: Column, by: Any, **where: Any) -> Ticket:
    """Put the card in `column` before/after a neighbour card, at `index` (0 = top), or at the bottom.

    Writes the card's row only (the column is renumbered in one pass when a gap is used up).
    Entering a done column closes the ticket; leaving it reopens it. A WIP limit refuses
    cards from other columns unless `force`. `where`: before_id, after_id, index, force,
    tab_id. Returns the ticket re-read with everything its serializers show.
    """
    _move(ticket=ticket, column=column, by=by, **where)
    return _reload(ticket)


@transaction.atomic
def card_move(*, ticket: Ticket, column: Column, by: Any, **where: Any) -> dict[str, Any]:
    """ticket_move() for a caller that answers with the card only (the full card's JSON).

    Skips re-reading the ticket as a model with its relations: that was a third of a move.
    """
    return _move(ticket=ticket, column=column, by=by, **where)


def _move(
    *,
    ticket: Ticket,
    column: Column,
    by: Any,
    before_id: int | None = None,
    after_id: int | None = None,
    index: int | None = None,
    force: bool = False,
    tab_id: str | None = None,
) -> dict[str, Any]:
    """ticket_move's work, in the caller's transaction; returns the moved card's full JSON."""
    if sum(x is not None for x in (before_id, after_id, index)) > 1:
        raise _invalid("non_field_errors", "Give only one of before_id, after_id or index.")
    if column.project_id != ticket.project_id:
        raise _invalid("column_id", "That column belongs to another project.")
    # Lock both columns, then re-read the card: another mover may have changed it meanwhile.
    locked_source = ticket.column_id
    while True:
        columns = _lock_columns([locked_source, column.pk])
        column_id, state = fastpath.ticket_place_for_update(ticket_id=ticket.pk)
        if column_id in columns:
            break
        locked_source = column_id
    source = columns[column_id]
    target = columns[column.pk]
    ticket.state = state
    if source.pk == target.pk and before_id is None and after_id is None and index is None:
        # Nowhere to go: a reorder without a position keeps the place.
        return card_payload(ticket, full=True)
    if before_id == ticket.pk or after_id == ticket.pk:
        raise _invalid("before_id" if before_id == ticket.pk else "after_id", "A card cannot be its own neighbour.")
    if source.pk != target.pk:
        _check_wip(target, exclude_id=ticket.pk, force=force)
    rank = _rank_for(target, exclude_id=ticket.pk, before_id=before_id, after_id=after_id, index=index)

    ticket.column = target
    ticket.rank = rank
    fields = ["column", "rank", "updated_at"]
    state_action = _apply_state(ticket, column=target, by=by)
    if state_action:
        fields += ["state", "closed_at", "closed_by"]
    ticket.save(update_fields=fields)

    if source.pk != target.pk:
        _event(
            ticket,
            by,
            Event.Kind.ACTION,
            "move",
            {
                "from_column": {"id": source.pk, "name": source.name, "category": source.category},
                "to_column": {"id": target.pk, "name": target.name, "category": target.category},
            },
        )
        if state_action:
            _event(ticket, by, Event.Kind.ACTION, state_action)
        _notify_watchers(
            ticket=ticket,
            by=by,
            action=state_action or "moved",
            summary=f"moved from {source.name} to {target.name}",
            tab_id=tab_id,
        )
    # One read of the card serves the event and the caller (publishing changes nothing on it).
    card = card_payload(ticket, full=True)
    payload = {**cards.compact(card), "from_column_id": source.pk, "to_column_id": target.pk}
    publish("board.card_moved", payload, project_id=ticket.project_id, tab_id=tab_id, actor_id=_actor_id(by))
    return card


@transaction.atomic
def ticket_delete(*, ticket: Ticket, by: Any, tab_id: str | None = None) -> None:
    """Soft-delete: the card leaves the board and lists; admins can restore it."""
    if ticket.deleted_at is not None:
        return
    ticket.deleted_at = timezone.now()
    ticket.deleted_by = by if getattr(by, "pk", None) else None
    ticket.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
    _event(ticket, by, Event.Kind.ACTION, "delete")
    publish(
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
    watchers = list(User.objects.filter(watcher__ticket=ticket, is_active=True).exclude(pk=_actor_id(by)))
    ticket.delete()
    if ticket.deleted_at is None:
        publish("board.card_deleted", payload, project_id=ticket.project_id, tab_id=tab_id, actor_id=_actor_id(by))
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
    transaction.on_commit(lambda: [storage.delete(name) for name in files if name])


def reopen_column(project: Project) -> Column:
    """Where a reopened ticket goes: the board's first column that is not a done column."""
    column = project.columns.exclude(category=Column.Category.DONE).order_by("order", "id").first()
    return column or column_for_category(project=project, category=Column.Category.TODO)


@transaction.atomic
def ticket_close(*, ticket: Ticket, by: Any, tab_id: str | None = None) -> Ticket:
    """Close a ticket: it moves to the board's first done column (created if there is none)."""
    if ticket.state == Ticket.State.CLOSED:
        return ticket
    return ticket_update(ticket=ticket, by=by, status=Column.Category.DONE, tab_id=tab_id)


@transaction.atomic
def ticket_reopen(*, ticket: Ticket, by: Any, tab_id: str | None = None) -> Ticket:
    """Reopen a closed ticket: it moves to the bottom of the board's first open column."""
    if ticket.state == Ticket.State.OPENED:
        return ticket
    return ticket_move(ticket=ticket, column=reopen_column(ticket.project), by=by, tab_id=tab_id)


@transaction.atomic
def ticket_restore(*, ticket: Ticket, by: Any, tab_id: str | None = None) -> Ticket:
    """Bring a soft-deleted card back to the bottom of its column."""
    if ticket.deleted_at is None:
        raise _invalid("non_field_errors", f"{ticket.key} is not deleted.")
    column = _lock_columns([ticket.column_id])[ticket.column_id]
    ticket.rank = _rank_for(column, exclude_id=ticket.pk)
    ticket.deleted_at = None
    ticket.deleted_by = None
    ticket.save(update_fields=["deleted_at", "deleted_by", "rank", "updated_at"])
    _event(ticket, by, Event.Kind.ACTION, "restore")
    publish(
        "board.card_created", card_payload(ticket), project_id=ticket.project_id, tab_id=tab_id, actor_id=_actor_id(by)
    )
    _notify_watchers(ticket=ticket, by=by, action="restored", summary="restored the ticket", tab_id=tab_id)
    return _reload(ticket)


# --------------------------------------------------------------------------- comments


def comment_payload(comment: Event) -> dict[str, Any]:
    from tickets.serializers import CommentSerializer

    return dict(CommentSerializer(comment).data)


def _clean_comment(body: Any) -> str:
    body = str(body or "").strip()
    if not body:
        raise _invalid("body", "A comment needs some text.")
    if len(body) > COMMENT_MAX:
        raise _invalid("body", f"A comment has at most {COMMENT_MAX} characters.")
    return body


@transaction.atomic
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
    publish(
        "comment.created",
        {"card": ticket_brief(ticket), "comment": comment_payload(comment)},
        project_id=ticket.project_id,
        tab_id=tab_id,
        actor_id=_actor_id(by),
    )
    _notify_watchers(ticket=ticket, by=by, action="commented", summary=_excerpt(body), tab_id=tab_id)
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
        publish(
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
    publish(
        "comment.deleted",
        {"card": ticket_brief(comment.ticket), "id": comment.pk},
        project_id=comment.ticket.project_id,
        tab_id=tab_id,
        actor_id=_actor_id(by),
    )


# --------------------------------------------------------------------------- checklists


def _checklist_changed(ticket: Ticket, by: Any, text: str, data: dict[str, Any], tab_id: str | None) -> None:
    _event(ticket, by, Event.Kind.ACTION, text, data)
    _touch(ticket)
    publish(
        "board.card_updated", card_payload(ticket), project_id=ticket.project_id, tab_id=tab_id, actor_id=_actor_id(by)
    )


def _clean_item_text(text: Any) -> str:
    text = " ".join(str(text or "").split())
    if not text:
        raise _invalid("text", "A checklist item needs some text.")
    if len(text) > 500:
        raise _invalid("text", "A checklist item has at most 500 characters.")
    return text


@transaction.atomic
def checklist_item_add(
    *, ticket: Ticket, by: Any, text: str, done: bool = False, tab_id: str | None = None
) -> ChecklistItem:
    text = _clean_item_text(text)
    last = ticket.checklist.aggregate(last=Max("order"))["last"]
    item = ChecklistItem.objects.create(
        ticket=ticket,
        text=text,
        order=0 if last is None else last + 1,
        done=done,
        done_at=timezone.now() if done else None,
        done_by=by if done else None,
    )
    _checklist_changed(ticket, by, "checklist_add", {"item": {"id": item.pk, "text": item.text}}, tab_id)
    return item


@transaction.atomic
def checklist_item_update(
    *, item: ChecklistItem, by: Any, text: Any = UNSET, done: Any = UNSET, tab_id: str | None = None
) -> ChecklistItem:
    """Edit the text and/or tick the item (done_at/by follow `done`)."""
    fields: list[str] = []
    verbs: list[str] = []
    if text is not UNSET:
        text = _clean_item_text(text)
        if text != item.text:
            item.text = text
            fields.append("text")
            verbs.append("checklist_edit")
    if done is not UNSET and bool(done) != item.done:
        item.done = bool(done)
        item.done_at = timezone.now() if item.done else None
        item.done_by = by if item.done else None
        fields += ["done", "done_at", "done_by"]
        verbs.append("checklist_check" if item.done else "checklist_uncheck")
    if fields:
        item.save(update_fields=fields)
        for verb in verbs:
            _checklist_changed(item.ticket, by, verb, {"item": {"id": item.pk, "text": item.text}}, tab_id)
    return item


@transaction.atomic
def checklist_item_delete(*, item: ChecklistItem, by: Any, tab_id: str | None = None) -> None:
    data = {"item": {"id": item.pk, "text": item.text}}
    ticket = item.ticket
    item.delete()
    _checklist_changed(ticket, by, "checklist_remove", data, tab_id)


@transaction.atomic
def checklist_reorder(
    *, ticket: Ticket, by: Any, order: Sequence[int], tab_id: str | None = None
) -> list[ChecklistItem]:
    """Put the listed items first, in that order; items not listed keep their order after them."""
    if len(set(order)) != len(order):
        raise _invalid("order", "An item is listed twice.")
    items = list(ticket.checklist.select_for_update().order_by("order", "id"))
    by_id = {item.pk: item for item in items}
    unknown = [str(pk) for pk in order if pk not in by_id]
    if unknown:
        raise _invalid("order", f"Not items of {ticket.key}: {', '.join(unknown)}.")
    listed = [by_id[pk] for pk in order]
    rest = [item for item in items if item.pk not in set(order)]
    for position, item in enumerate(listed + rest):
        item.order = position
    ChecklistItem.objects.bulk_update(items, ["order"])
    _checklist_changed(ticket, by, "checklist_reorder", {"order": [item.pk for item in listed + rest]}, tab_id)
    return listed + rest


# --------------------------------------------------------------------------- attachments

IMAGE_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
ALLOWED_TYPES = {
    *IMAGE_FORMATS.values(),
    "application/pdf",
    "text/plain",
    "text/markdown",
    "application/zip",
    "application/json",
}
_EXTENSION_TYPES = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".txt": "text/plain",
    ".log": "text/plain",
    ".json": "application/json",
    ".zip": "application/zip",
    ".pdf": "application/pdf",
}


def _declared_type(upload: UploadedFile) -> str:
    """The type the client declared, falling back on the extension when it sent a generic one."""
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    if declared in ("", "application/octet-stream"):
        ext = os.path.splitext(upload.name or "")[1].lower()
        declared = _EXTENSION_TYPES.get(ext) or mimetypes.guess_type(upload.name or "")[0] or declared
    if declared == "image/jpg":
        declared = "image/jpeg"
    if declared in ("application/x-zip-compressed", "application/x-zip"):
        declared = "application/zip"
    return declared


def _safe_name(name: str) -> str:
    name = os.path.basename((name or "").replace("\\", "/")).strip() or "file"
    return "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')[:255] or "file"


def _process_image(data: bytes) -> tuple[bytes, str, int, int, bytes]:
    """Verify an image, strip its metadata and re-encode it; return (bytes, content type, w, h, thumbnail)."""
    limit = settings.PUNT_MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = limit
    try:
        with warnings.catch_warnings():
            # Pillow only warns between 1x and 2x the limit; treat that as the bomb it is.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                fmt = probe.format
                width, height = probe.size
                if width * height > limit:
                    raise _invalid("file", f"The image is too large ({width}x{height} pixels).")
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                image = ImageOps.exif_transpose(image) or image
                if fmt not in IMAGE_FORMATS:
                    raise _invalid("file", "Only PNG, JPEG, GIF and WebP images are accepted.")
                clean = _strip(image, fmt)
                out = io.BytesIO()
                save_kwargs: dict[str, Any] = {"format": fmt}
                if fmt == "JPEG":
                    save_kwargs.update(quality=90, optimize=True)
                clean.save(out, **save_kwargs)
                thumb = clean.copy()
                if thumb.mode not in ("RGB", "RGBA"):
                    thumb = thumb.convert("RGBA")
                thumb.thumbnail(THUMBNAIL_SIZE)
                thumb_out = io.BytesIO()
                thumb.save(thumb_out, format="WEBP", quality=80)
                return out.getvalue(), IMAGE_FORMATS[fmt], clean.width, clean.height, thumb_out.getvalue()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _invalid("file", "The image has too many pixels.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _invalid("file", "The file is not a valid image.") from None


def _strip(image: Image.Image, fmt: str) -> Image.Image:
    """A copy with pixels only: EXIF, GPS, comments and other metadata do not survive."""
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    if image.mode == "P":
        clean = Image.new("P", image.size)
        palette = image.getpalette()
        if palette:
            clean.putpalette(palette)
        if "transparency" in image.info:
            clean.info["transparency"] = image.info["transparency"]
    else:
        clean = Image.new(image.mode, image.size)
    clean.paste(image)
    return clean


def _check_content(content_type: str, data: bytes) -> None:
    """A cheap look at the bytes, so a declared type is not just a label."""
    if content_type == "application/pdf" and not data.startswith(b"%PDF-"):
        raise _invalid("file", "The file is not a PDF.")
    if content_type == "application/zip" and not data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise _invalid("file", "The file is not a ZIP archive.")
    if content_type in ("text/plain", "text/markdown", "application/json"):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise _invalid("file", "Text files must be UTF-8.") from None
        if content_type == "application/json":
            try:
                json.loads(text)
            except ValueError:
                raise _invalid("file", "The file is not valid JSON.") from None


@transaction.atomic
def attachment_add(*, ticket: Ticket, by: Any, upload: UploadedFile, tab_id: str | None = None) -> Attachment:
    """Store an upload after checking size and type; images are re-encoded without metadata."""
    site = system_settings()
    limit = site.max_upload_bytes
    if upload.size is not None and upload.size > limit:
        raise PayloadTooLarge(f"The file is larger than the limit of {limit} bytes.")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"The file is larger than the limit of {limit} bytes.")
    if not data:
        raise _invalid("file", "The file is empty.")
    filename = _safe_name(upload.name or "file")
    content_type = _declared_type(upload)
    # PUNT's own list (what it can check and serve safely), narrowed by the site admin's.
    if content_type not in ALLOWED_TYPES or not site.upload_type_allowed(content_type):
        raise _invalid("file", f"Files of type '{content_type or 'unknown'}' are not accepted.")
    width = height = None
    thumbnail: bytes | None = None
    if content_type.startswith("image/"):
        data, content_type, width, height, thumbnail = _process_image(data)
    else:
        _check_content(content_type, data)
    attachment = Attachment(
        ticket=ticket,
        filename=filename,
        content_type=content_type,
        size=len(data),
        width=width,
        height=height,
        uploaded_by=by,
    )
    # Files written before a failure would be orphans: remove them if saving the row fails.
    stored: list[str] = []
    attachment.file.save(filename, ContentFile(data), save=False)
    stored.append(attachment.file.name)
    if thumbnail is not None:
        attachment.thumbnail.save(os.path.splitext(filename)[0] + ".webp", ContentFile(thumbnail), save=False)
        stored.append(attachment.thumbnail.name)
    try:
        attachment.save()
        _event(ticket, by, Event.Kind.ACTION, "attach", {"attachment": {"id": attachment.pk, "filename": filename}})
        _touch(ticket)
    except Exception:
        for name in stored:
            attachment.file.storage.delete(name)
        raise
    publish(
        "board.card_updated", card_payload(ticket), project_id=ticket.project_id, tab_id=tab_id, actor_id=_actor_id(by)
    )
    return attachment


@transaction.atomic
def attachment_delete(*, attachment: Attachment, by: Any, tab_id: str | None = None) -> None:
    """Remove an attachment: its uploader, or a project admin. Files go once the row is gone."""
    ticket = attachment.ticket
    if attachment.uploaded_by_id != _actor_id(by) and not has_role(by, ticket.project, MANAGE):
        raise Forbidden("Only the uploader or a project admin can delete this attachment.")
    storage = attachment.file.storage
    names = [name for name in (attachment.file.name, attachment.thumbnail.name) if name]
    data = {"attachment": {"id": attachment.pk, "filename": attachment.filename}}
    attachment.delete()
    _event(ticket, by, Event.Kind.ACTION, "detach", data)
    _touch(ticket)

    def remove_files() -> None:
        for name in names:
            try:
                storage.delete(name)
            except OSError:
                logger.warning("Could not delete attachment file %s", name)

    transaction.on_commit(remove_files)
    publish(
        "board.card_updated", card_payload(ticket), project_id=ticket.project_id, tab_id=tab_id, actor_id=_actor_id(by)
    )


# --------------------------------------------------------------------------- git links


@transaction.atomic
def git_link_add(
    *,
    ticket: Ticket,
    url: str,
    kind: str = GitLink.Kind.COMMIT,
    title: str = "",
    ref: str = "",
    provider: str = "",
    state: str = "",
    by: Any = None,
    tab_id: str | None = None,
) -> tuple[GitLink, bool]:
    """Link a commit, branch, PR or tag to a ticket; idempotent per (ticket, url).

    Returns (link, created). Adding a known URL again refreshes its title/ref/state (a PR
    that got merged) without a second timeline entry. The webhook receivers call this.
    """
    url = (url or "").strip()
    if not url:
        raise _invalid("url", "A URL is required.")
    # Links are rendered as hrefs on the ticket page: only web addresses, whoever sent them
    # (the API's serializer checks this too; webhook payloads and dialects come straight here).
    if urlsplit(url).scheme.lower() not in ("http", "https") or len(url) > GIT_LINK_URL_MAX:
        raise _invalid("url", f"A link is an http(s) URL of at most {GIT_LINK_URL_MAX} characters.")
    _choice("kind", kind, GitLink.Kind)
    defaults = {"kind": kind, "title": (title or "")[:500], "ref": (ref or "")[:255], "provider": (provider or "")[:20]}
    if state:
        defaults["state"] = state[:20]
    link = GitLink.objects.select_for_update().filter(ticket=ticket, url=url).first()
    created = False
    if link is None:
        try:
            with transaction.atomic():
                link = GitLink.objects.create(ticket=ticket, url=url, created_by=by, **defaults)
            created = True
        except IntegrityError:
            # A concurrent add of the same URL won the race: update that row instead.
            link = GitLink.objects.select_for_update().get(ticket=ticket, url=url)
    if not created:
        changed = [field for field, value in defaults.items() if value and getattr(link, field) != value]
        for field in changed:
            setattr(link, field, defaults[field])
        if changed:
            link.save(update_fields=changed)
        return link, False
    _event(
        ticket,
        by,
        Event.Kind.ACTION,
        "link",
        {"link": {"id": link.pk, "kind": link.kind, "url": link.url, "title": link.title, "ref": link.ref}},
    )
    _touch(ticket)
    publish(
        "board.card_updated", card_payload(ticket), project_id=ticket.project_id, tab_id=tab_id, actor_id=_actor_id(by)
    )
    _notify_watchers(ticket=ticket, by=by, action="linked", summary=link.title or link.url, tab_id=tab_id)
    return link, True


# --------------------------------------------------------------------------- watchers


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
