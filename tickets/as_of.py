"""The board as it was at a past moment, rebuilt from the board's history and the timeline.

- Where each card was (column, category, order): its newest Placement row at or before the
  moment (one windowed query). A card whose newest row is off the board (deleted then) or that
  has no row yet (created later) is not on that board.
- What each card said: the current card (tickets.cards, the board's own shape) with the fields
  people change rewound. A field's value at the moment is the `old` value of the first `update`
  entry after it that changed the field, or the value now if none did (title, type, priority,
  estimate, due date, labels). The assignee is the newest assign/unassign entry at or before the
  moment; failing one, the previous assignee an `unassign` after it names, or nobody.
- State: closed iff the card stood in a done column. Columns are today's (names and order); a
  card that stood in a column deleted since shows in a column of its own with id null.
Not rewound (shown as they are now): sprint, parent, custom fields, checklist, column names.
Labels deleted since are left out (only their names are in the timeline).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from accounts.models import User
from projects.models import Column, Project
from punt import errors
from tickets import cards
from tickets.models import Event, Placement

# Fields whose `update` entries carry old and new values, as the card names them.
REWOUND = ("title", "type", "priority", "estimate", "due_date", "labels")
DELETED_COLUMN = "Deleted column"


def parse_moment(text: str, *, field: str = "as_of") -> datetime:
    """An ISO datetime (naive: the site's zone) or a date (the end of that day)."""
    text = text.strip()
    try:
        day = parse_date(text)
        moment = None if day else parse_datetime(text)
    except ValueError:
        moment = day = None
    if day is not None:
        moment = datetime.combine(day + timedelta(days=1), time.min) - timedelta(microseconds=1)
    if moment is None:
        raise errors.invalid(field, "Give a date (2026-11-20) or a date and time (2026-11-20T09:00Z).")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def parse_past_moment(text: str, *, field: str = "as_of") -> tuple[datetime, bool]:
    """The instant `text` names (parse_moment's rule) and whether it named a whole day. Today's
    date is now (its end has not come); any other instant still to come is refused: the live
    board is the board now. The API and the board page share this rule."""
    moment = parse_moment(text, field=field)
    try:
        whole_day = parse_date(text.strip()) is not None
    except ValueError:
        whole_day = False
    now = timezone.now()
    if whole_day and moment > now >= moment - timedelta(days=1):
        return now, True
    if moment > now:
        raise errors.invalid(field, "That moment has not come yet: the live board is the board now.")
    return moment, whole_day


def places_at(*, project: Project, at: datetime) -> dict[int, tuple[int | None, str, int]]:
    """{ticket id: (column id, category, rank)} of the cards on the board at `at`."""
    newest = (
        Placement.objects.filter(project=project, at__lte=at)
        .annotate(newest=Window(RowNumber(), partition_by=[F("ticket_id")], order_by=[F("at").desc(), F("id").desc()]))
        .filter(newest=1)
        .values_list("ticket_id", "column_id", "category", "rank")
    )
    return {ticket: (column, category, rank) for ticket, column, category, rank in newest if category is not None}


def _rewound(ticket_ids: list[int], at: datetime) -> dict[int, dict[str, Any]]:
    """{ticket id: {field: value at `at`}} for the fields changed since."""
    values: dict[int, dict[str, Any]] = {}
    later = (
        Event.objects.filter(ticket_id__in=ticket_ids, kind=Event.Kind.UPDATE, created_at__gt=at)
        .order_by("created_at", "id")
        .values_list("ticket_id", "data")
    )
    for ticket_id, data in later:
        old = data.get("old") if isinstance(data, dict) else None
        if isinstance(old, dict):
            fields = values.setdefault(ticket_id, {})
            for name in REWOUND:
                if name in old and name not in fields:
                    fields[name] = old[name]
    return values


def _assignees(ticket_ids: list[int], at: datetime) -> dict[int, int | None]:
    """{ticket id: assignee id at `at`} for the tickets whose assignee changed at some point."""
    before: dict[int, int | None] = {}
    after: dict[int, int | None] = {}
    entries = (
        Event.objects.filter(ticket_id__in=ticket_ids, kind=Event.Kind.ACTION, text__in=("assign", "unassign"))
        .order_by("created_at", "id")
        .values_list("ticket_id", "text", "data", "created_at")
    )
    for ticket_id, verb, data, created_at in entries:
        person = (data or {}).get("assignee") or {}
        person_id = person.get("id") if isinstance(person, dict) else None
        if created_at <= at:
            before[ticket_id] = person_id if verb == "assign" else None
        elif ticket_id not in after:
            after[ticket_id] = person_id if verb == "unassign" else None
    return after | before


def board_as_of(*, project: Project, at: datetime) -> dict[str, Any]:
    """The board at `at`, shaped as the board API's answer (with `as_of`)."""
    places = places_at(project=project, at=at)
    ids = sorted(places, key=lambda pk: (places[pk][2], pk))
    board_cards = cards.cards(ids, project=project) if ids else []
    rewound = _rewound(ids, at)
    assignees = _assignees(ids, at)
    people = {
        user.pk: cards.person_briefs()(user.pk, user.username, user.display_name, user.avatar.name or "")
        for user in User.objects.filter(pk__in={pk for pk in assignees.values() if pk is not None})
    }
    labels = {label.name: label for label in project.labels.all()}
    columns = list(project.columns.order_by("order", "id"))
    by_column: dict[int | None, list[dict[str, Any]]] = {column.pk: [] for column in columns}
    gone: dict[str, list[dict[str, Any]]] = {}
    for card in board_cards:
        column_id, category, rank = places[card["id"]]
        for name, value in rewound.get(card["id"], {}).items():
            if name == "labels":
                value = [{"id": labels[n].pk, "name": n, "color": labels[n].color} for n in value or [] if n in labels]
            card[name] = value
        if card["id"] in assignees:
            assignee = assignees[card["id"]]
            card["assignee"] = None if assignee is None else people.get(assignee)
        card.update(
            column_id=column_id,
            status=category,
            position=rank,
            state="closed" if category == Column.Category.DONE else "opened",
        )
        if column_id in by_column:
            by_column[column_id].append(card)
        else:
            card["column_id"] = None
            gone.setdefault(category, []).append(card)
    shown = [_column(c.pk, c.name, c.category, c.order, c.wip_limit, by_column[c.pk]) for c in columns] + [
        _column(None, DELETED_COLUMN, category, len(columns) + i, None, gone[category])
        for i, category in enumerate(c for c in Column.Category.values if c in gone)
    ]
    return {
        "project": {"id": project.pk, "key": project.key, "slug": project.slug, "name": project.name},
        "as_of": cards.iso_datetime_object(at, cards.current_zone()),
        "columns": shown,
    }


def _column(
    pk: int | None, name: str, category: str, order: int, wip_limit: int | None, column_cards: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "id": pk,
        "name": name,
        "category": category,
        "order": order,
        "wip_limit": wip_limit,
        "card_count": len(column_cards),
        "cards": column_cards,
    }
