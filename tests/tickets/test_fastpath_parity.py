"""tickets.fastpath against its ORM twins: the same results, on SQLite and PostgreSQL.

Each twin below is the plain ORM query a fast-path function stands in for (see its docstring
for the bench scenario that justifies it). If a twin ever gets within 10% on the bench, the
fast path goes and the twin replaces it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db.models import Count, Q

from projects.models import Column, Project
from tests.factories import LabelFactory, SprintFactory
from tickets import cards, fastpath, services
from tickets.custom_field_selectors import values_from_rows
from tickets.filters import CountedIds, apply_ordering
from tickets.models import Attachment, ChecklistItem, CustomFieldValue, Event, GitLink, Ticket
from tickets.services import custom_fields as custom_field_services

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- ORM twins


def orm_card_rows(tickets: list[int] | Any, shape: str) -> list[tuple[Any, ...]]:
    annotations, paths = {}, []
    for column in cards.columns(shape):
        if isinstance(column, cards.Count):
            condition = Q(**{f"{column.relation}__{column.where}": True}) if column.where else None
            annotations[column.name] = Count(column.relation, filter=condition)
        paths.append(cards.column_name(column))
    if isinstance(tickets, list):
        found = Ticket.objects.filter(pk__in=tickets).annotate(**annotations).values_list(*paths)
        by_id = {row[0]: row for row in found}
        return [cards.Row[shape]._make(by_id[pk]) for pk in tickets]
    ordered = tickets.annotate(**annotations).order_by("rank", "id").values_list(*paths)
    return [cards.Row[shape]._make(row) for row in ordered]


def orm_card_labels(ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    labels: dict[int, list[dict[str, Any]]] = {}
    links = Ticket.labels.through.objects.filter(ticket_id__in=ids).select_related("label").order_by("label__name")
    for link in links:
        labels.setdefault(link.ticket_id, []).append(
            {"id": link.label.pk, "name": link.label.name, "color": link.label.color}
        )
    return labels


def orm_card_custom_value_rows(tickets: list[int] | Any) -> list[tuple[Any, ...]]:
    lookup = "ticket_id__in" if isinstance(tickets, list) else "ticket__in"
    values = CustomFieldValue.objects.filter(**{lookup: tickets})
    return list(
        values.filter(field__deleted_at__isnull=True)
        .order_by("field__position", "field_id", "option__position", "option_id")
        .values_list(
            "ticket_id", "field__key", "field__type", "text", "number", "date", "option__name", "user__username", "flag"
        )
    )


def orm_ticket_counts(ticket_id: int) -> dict[str, int]:
    return {
        "checklist_total": ChecklistItem.objects.filter(ticket_id=ticket_id).count(),
        "checklist_done": ChecklistItem.objects.filter(ticket_id=ticket_id, done=True).count(),
        "comment_count": Event.objects.filter(
            ticket_id=ticket_id, kind=Event.Kind.COMMENT, deleted_at__isnull=True
        ).count(),
        "attachment_count": Attachment.objects.filter(ticket_id=ticket_id).count(),
        "link_count": GitLink.objects.filter(ticket_id=ticket_id).count(),
    }


def orm_neighbour_ranks(
    *, column_id: int, exclude_id: int | None, anchor_id: int | None, above: bool, index: int | None
) -> tuple[int | None, int | None] | None:
    siblings = Ticket.objects.filter(column_id=column_id, deleted_at__isnull=True).exclude(pk=exclude_id)
    ranks = list(siblings.order_by("rank", "id").values_list("rank", "id"))
    if anchor_id is not None:
        at = next((i for i, (_, pk) in enumerate(ranks) if pk == anchor_id), None)
        if at is None:
            return None
        if above:
            return (ranks[at - 1][0] if at > 0 else None), ranks[at][0]
        return ranks[at][0], (ranks[at + 1][0] if at + 1 < len(ranks) else None)
    last = ranks[-1][0] if ranks else None
    if index is None:
        return last, None
    if index <= 0:
        return None, (ranks[0][0] if ranks else None)
    pair = [rank for rank, _ in ranks[index - 1 : index + 1]]
    if not pair:
        return last, None
    return pair[0], (pair[1] if len(pair) > 1 else None)


def _fields(instance: Any) -> dict[str, Any]:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


# --------------------------------------------------------------------------- data


@pytest.fixture
def board(personas, columns, make_card):
    _todo, doing, done = columns
    bug = LabelFactory(project=personas.project, name="bug")
    ux = LabelFactory(project=personas.project, name="ux")
    sprint = SprintFactory(project=personas.project, name="Sprint 1")
    epic = make_card("Epic", type="epic")
    child = make_card(
        "Child",
        assignee="adam",
        labels=[ux.pk, bug.pk],
        sprint=sprint.pk,
        parent=epic.pk,
        due_date=date(2026, 1, 2),
        estimate=3,
    )
    services.checklist_item_add(ticket=child, by=personas.member, text="one", done=True)
    services.checklist_item_add(ticket=child, by=personas.member, text="two")
    services.comment_create(ticket=child, by=personas.member, body="hello")
    closed = make_card("Closed", column=done, labels=[bug.pk])
    more = [make_card(f"Card {n}", column=doing) for n in range(4)]
    gone = make_card("Gone")
    services.ticket_delete(ticket=gone, by=personas.admin)
    return [epic, child, closed, *more, gone]


def _json_cards(rows: list[tuple[Any, ...]], project: Project, labels: dict, shape: str) -> list[dict[str, Any]]:
    return cards.payloads(rows, project=project, labels=labels, shape=shape)


# --------------------------------------------------------------------------- parity


@pytest.mark.parametrize("shape", cards.SHAPES)
def test_card_rows_and_labels_match_the_orm(personas, board, shape):
    project = personas.project
    ids = [ticket.pk for ticket in reversed(board)]
    rows = fastpath.card_rows(ids, columns=cards.columns(shape), row_type=cards.Row[shape])
    twin = orm_card_rows(ids, shape)
    assert [row.id for row in rows] == ids
    labels = fastpath.card_labels(ids)
    assert labels == orm_card_labels(ids)
    assert _json_cards(rows, project, labels, shape) == _json_cards(twin, project, labels, shape)

    live = Ticket.objects.filter(project=project, deleted_at__isnull=True)
    rows = fastpath.card_rows(live, columns=cards.columns(shape), row_type=cards.Row[shape])
    twin = orm_card_rows(live, shape)
    labels = fastpath.card_labels(live)
    assert labels == orm_card_labels(list(live.values_list("pk", flat=True)))
    assert _json_cards(rows, project, labels, shape) == _json_cards(twin, project, labels, shape)
    assert len(rows) == len(board) - 1

    # Querysets that can match nothing (Django will not compile an id past 2^63 - 1) read as none.
    for nothing in (live.none(), live.filter(labels__pk=2**63)):
        assert fastpath.card_rows(nothing, columns=cards.columns(shape), row_type=cards.Row[shape]) == []
        assert orm_card_rows(nothing, shape) == []
        assert fastpath.card_labels(nothing) == {} == orm_card_labels([])


def test_single_rows_match_the_orm(personas, board, columns):
    project = personas.project
    for column in columns:
        found = fastpath.column_in_project(project_id=project.pk, column_id=column.pk)
        assert _fields(found) == _fields(Column.objects.get(pk=column.pk))
    assert fastpath.column_in_project(project_id=project.pk + 1000, column_id=columns[0].pk) is None
    for ticket in board:
        for field, value in (("id", ticket.pk), ("number", ticket.number)):
            found = fastpath.live_ticket(project_id=project.pk, field=field, value=value)
            twin = Ticket.objects.filter(project=project, deleted_at__isnull=True, **{field: value}).first()
            assert (found and _fields(found)) == (twin and _fields(twin))
        assert fastpath.ticket_counts(ticket_id=ticket.pk) == orm_ticket_counts(ticket.pk)
        place = Ticket.objects.filter(pk=ticket.pk).values_list("column_id", "state").get()
        assert fastpath.ticket_place_for_update(ticket_id=ticket.pk) == place


@pytest.mark.parametrize("categories", [[], ["todo"], ["in_progress", "done"], ["backlog"]])
def test_column_ids_match_the_orm(personas, categories):
    twin = Column.objects.filter(project=personas.project, category__in=categories).values_list("pk", flat=True)
    found = fastpath.column_ids(project_id=personas.project.pk, categories=categories)
    assert sorted(found) == sorted(twin)


@pytest.mark.parametrize("ordering", [None, "number", "-priority", "priority", "due_date", "-due_date", "-updated_at"])
def test_counted_pages_match_the_orm(personas, board, ordering):
    queryset = Ticket.objects.filter(project=personas.project, deleted_at__isnull=True)
    counted = CountedIds(queryset, ordering)
    twin = list(apply_ordering(queryset, ordering).values_list("pk", flat=True))
    assert counted.count() == len(twin)
    assert counted[0:3] == twin[0:3]
    assert counted[2:100] == twin[2:100]


def test_neighbour_ranks_match_the_orm(personas, board, columns):
    todo, doing, _done = columns
    doing_ids = list(Ticket.objects.filter(column=doing).order_by("rank").values_list("pk", flat=True))
    cases = [
        {"anchor_id": None, "above": False, "index": index, "exclude_id": exclude}
        for index in (None, 0, 1, 2, 3, 10)
        for exclude in (None, doing_ids[0])
    ]
    cases += [
        {"anchor_id": anchor, "above": above, "index": None, "exclude_id": None}
        for anchor in (*doing_ids, board[0].pk)
        for above in (True, False)
    ]
    for column in (todo, doing):
        for case in cases:
            found = fastpath.neighbour_ranks(column_id=column.pk, **case)
            assert found == orm_neighbour_ranks(column_id=column.pk, **case), case


def test_next_ticket_number_matches_the_orm(personas):
    project = personas.project
    if not fastpath.has_returning():
        pytest.skip("this SQLite has no RETURNING")
    before = Project.objects.get(pk=project.pk).ticket_counter
    assert fastpath.next_ticket_number(project_id=project.pk) == before + 1
    assert Project.objects.get(pk=project.pk).ticket_counter == before + 1
    assert fastpath.next_ticket_number(project_id=project.pk + 1000) is None


def orm_lock_columns(ids: list[int]) -> dict[int, Column]:
    return {column.pk: column for column in Column.objects.select_for_update().filter(pk__in=set(ids)).order_by("pk")}


def orm_active_watchers(ticket: Ticket, except_user_id: int | None) -> list[Any]:
    watchers = ticket.watchers.filter(is_active=True)
    if except_user_id is not None:
        watchers = watchers.exclude(pk=except_user_id)
    return list(watchers)


@pytest.mark.django_db(transaction=True)
def test_lock_columns_matches_the_orm(personas, columns):
    from django.db import transaction

    with transaction.atomic():
        for ids in ([], [columns[0].pk], [columns[2].pk, columns[0].pk, columns[2].pk], [c.pk for c in columns], [0]):
            found = fastpath.lock_columns(ids=ids)
            twin = orm_lock_columns(ids)
            assert list(found) == list(twin), ids
            assert [_fields(column) for column in found.values()] == [_fields(column) for column in twin.values()]


def test_active_watchers_match_the_orm(personas, make_card):
    ticket = make_card("Watched", by=personas.member, assignee=personas.admin.username)
    services.ticket_watch(ticket=ticket, user=personas.viewer)
    services.ticket_watch(ticket=ticket, user=personas.owner)
    personas.owner.is_active = False
    personas.owner.save(update_fields=["is_active"])
    quiet = make_card("Nobody watches", by=personas.member)
    services.ticket_unwatch(ticket=quiet, user=personas.member)

    def ids(users: list[Any]) -> list[int]:
        return sorted(user.pk for user in users)

    for target in (ticket, quiet):
        for actor in (None, personas.member.pk, personas.viewer.pk, personas.outsider.pk):
            found = fastpath.active_watchers(ticket_id=target.pk, except_user_id=actor)
            assert ids(found) == ids(orm_active_watchers(target, actor)), (target.title, actor)
            assert all(_fields(user) == _fields(type(user).objects.get(pk=user.pk)) for user in found)
    assert ids(fastpath.active_watchers(ticket_id=ticket.pk, except_user_id=None)) == sorted(
        [personas.member.pk, personas.admin.pk, personas.viewer.pk]
    )


# --------------------------------------------------------------------------- the ticket detail


def orm_subtask_rows(ticket: Ticket) -> list[tuple[Any, ...]]:
    live = Ticket.objects.filter(parent=ticket, deleted_at__isnull=True).order_by("number")
    return list(live.values_list("id", "number", "title", "column__category", "state"))


def orm_watcher_rows(ticket: Ticket) -> list[tuple[Any, ...]]:
    return list(ticket.watchers.order_by("username").values_list("id", "username", "display_name", "avatar"))


def orm_comment_rows(ticket: Ticket, limit: int) -> list[tuple[Any, ...]]:
    from tickets import selectors

    person = ("author_id", "author__username", "author__display_name", "author__avatar")
    columns = ("id", "ticket_id", "text", "html", "minutes", *person, "created_at", "updated_at")
    return list(selectors.ticket_comments(ticket=ticket).values_list(*columns)[:limit])


def test_detail_rows_match_the_orm(personas, make_card):
    from django.contrib.auth import get_user_model

    parent = make_card("Parent")
    for title in ("b", "a", "gone"):
        make_card(title, type="subtask", parent=parent.pk)
    services.ticket_delete(ticket=Ticket.objects.get(title="gone"), by=personas.admin)
    get_user_model().objects.filter(pk=personas.viewer.pk).update(avatar="avatars/v.webp", display_name="V")
    services.ticket_watch(ticket=parent, user=personas.viewer)
    services.ticket_watch(ticket=parent, user=personas.admin)
    services.comment_create(ticket=parent, by=personas.member, body="one", minutes=15)
    doomed = services.comment_create(ticket=parent, by=personas.admin, body="two")
    services.comment_create(ticket=parent, by=personas.viewer, body="three")
    services.comment_delete(comment=doomed, by=personas.admin)
    Event.objects.create(ticket=parent, kind=Event.Kind.COMMENT, author=None, text="by nobody")
    Event.objects.create(ticket=parent, kind=Event.Kind.ACTION, author=None, text="close")

    assert fastpath.subtask_rows(ticket_id=parent.pk) == orm_subtask_rows(parent)
    assert len(fastpath.subtask_rows(ticket_id=parent.pk)) == 2
    assert fastpath.watcher_rows(ticket_id=parent.pk) == orm_watcher_rows(parent)
    assert len(fastpath.watcher_rows(ticket_id=parent.pk)) == 3
    for limit in (1, 2, 100):
        fast, orm = fastpath.comment_rows(ticket_id=parent.pk, limit=limit), orm_comment_rows(parent, limit)
        assert len(fast) == len(orm) == min(limit, 3)
        zone = cards.current_zone()
        assert [(*row[:-2], cards.iso_datetime(row[-2], zone), cards.iso_datetime(row[-1], zone)) for row in fast] == [
            (*row[:-2], cards.iso_datetime(row[-2], zone), cards.iso_datetime(row[-1], zone)) for row in orm
        ]


def test_custom_value_rows_match_the_orm(personas, make_card):
    """Every type, a multi select in option order, a deleted field's values left out."""

    def field(name: str, type: str, **kwargs: Any) -> Any:
        return custom_field_services.custom_field_create(
            project=personas.project, by=personas.admin, name=name, type=type, **kwargs
        )

    field("Tags", "multi_select", options=["c", "a", "b"])
    field("Tier", "select", options=["Gold", "Silver"])
    for name, type in (("Note", "text"), ("Long", "long_text"), ("Site", "url"), ("Due", "date")):
        field(name, type)
    field("Cost", "number", unit="h")
    field("Owner", "user")
    field("Done", "checkbox")
    gone = field("Gone", "text")
    one = make_card(
        "One",
        custom_fields={
            "tags": ["b", "c"],
            "tier": "Silver",
            "note": "n",
            "long": "# L",
            "site": "https://example.com",
            "due": "2026-12-24",
            "cost": 2.5,
            "owner": "adam",
            "done": False,
            "gone": "x",
        },
    )
    two = make_card("Two", custom_fields={"cost": 3, "done": True, "tags": ["a"]})
    three = make_card("Three")
    custom_field_services.custom_field_delete(field=gone, by=personas.admin, confirm=True)
    ids = [three.pk, two.pk, one.pk]
    fast = values_from_rows(fastpath.card_custom_value_rows(ids))
    assert fast == values_from_rows(orm_card_custom_value_rows(ids))
    assert fast[one.pk]["tags"] == ["c", "b"] and fast[one.pk]["done"] is False and "gone" not in fast[one.pk]
    assert fast[two.pk] == {"tags": ["a"], "cost": 3, "done": True}
    live = Ticket.objects.filter(project=personas.project)
    assert values_from_rows(fastpath.card_custom_value_rows(live)) == fast
    assert values_from_rows(orm_card_custom_value_rows(live)) == fast
    assert fastpath.card_custom_value_rows([]) == [] and fastpath.card_custom_value_rows(live.none()) == []
