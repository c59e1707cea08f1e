"""The board's history rows (tickets.models.Placement) agree with the tickets and their timelines."""

from __future__ import annotations

import importlib
from collections import Counter
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import Count

from projects import services as project_services
from projects.models import Column
from tests.factories import ProjectFactory, TicketFactory
from tickets import services
from tickets.models import Placement, Ticket
from tickets.services.moves import RANK_GAP

pytestmark = pytest.mark.django_db

backfill = importlib.import_module("tickets.migrations.0013_placements_backfill").backfill


def columns(project):
    return {c.category: c for c in project.columns.order_by("order")}


def history(ticket_ids=None):
    """Each ticket's rows, oldest first: (from category, category, column id)."""
    rows = Placement.objects.order_by("ticket_id", "at", "id")
    if ticket_ids is not None:
        rows = rows.filter(ticket_id__in=ticket_ids)
    found: dict[int, list[tuple]] = {}
    for ticket_id, left, entered, column_id in rows.values_list("ticket_id", "from_category", "category", "column_id"):
        found.setdefault(ticket_id, []).append((left, entered, column_id))
    return found


def counts_from_rows(project):
    """Live tickets per category now, from the rows alone: entries minus exits."""
    entered = Counter(
        dict(
            Placement.objects.filter(project=project, category__isnull=False)
            .values_list("category")
            .annotate(n=Count("id"))
        )
    )
    left = Counter(
        dict(
            Placement.objects.filter(project=project, from_category__isnull=False)
            .values_list("from_category")
            .annotate(n=Count("id"))
        )
    )
    return {category: entered[category] - left[category] for category in Column.Category.values}


def counts_from_tickets(project):
    live = Counter(
        Ticket.objects.filter(project=project, deleted_at__isnull=True).values_list("column__category", flat=True)
    )
    return {category: live[category] for category in Column.Category.values}


def latest_agrees(project):
    """Every ticket's newest row says where the ticket is (its column, or off the board if deleted)."""
    for ticket in Ticket.objects.filter(project=project):
        last = Placement.objects.filter(ticket=ticket).order_by("-at", "-id").first()
        assert last is not None, ticket.key
        if ticket.deleted_at is None:
            assert (last.column_id, last.category, last.rank) == (
                ticket.column_id,
                ticket.column.category,
                ticket.rank,
            ), ticket.key
        else:
            assert last.category is None, ticket.key


def test_every_writer_keeps_the_rows_in_line_with_the_board(clock):
    project = ProjectFactory()
    owner = project.owner_user
    col = columns(project)
    a = services.ticket_create(project=project, by=owner, title="A")
    b = services.ticket_create(project=project, by=owner, title="B", status="in_progress")
    c = services.ticket_create(project=project, by=owner, title="C")
    d = TicketFactory(project=project)
    clock.advance(hours=1)
    services.ticket_move(ticket=a, column=col["in_progress"], by=owner)
    services.ticket_move(ticket=c, column=col["todo"], by=owner, index=0)  # a reorder
    services.ticket_update(ticket=b, by=owner, status="done")
    services.ticket_delete(ticket=d, by=owner)
    clock.advance(hours=1)
    services.ticket_restore(ticket=Ticket.objects.get(pk=d.pk), by=owner)
    review = project_services.column_create(project=project, name="Review", by=owner, category="todo")
    services.ticket_move(ticket=Ticket.objects.get(pk=a.pk), column=review, by=owner)
    project_services.column_update(column=review, by=owner, category="in_review")  # a re-categorised column
    project_services.column_update(column=col["done"], by=owner, category="in_review")  # reopens B
    assert counts_from_rows(project) == counts_from_tickets(project)
    latest_agrees(project)
    project_services.column_delete(column=review, by=owner, target=col["todo"])
    assert counts_from_rows(project) == counts_from_tickets(project)
    latest_agrees(project)


def test_a_renumbered_column_writes_the_new_ranks(clock):
    project = ProjectFactory()
    owner = project.owner_user
    todo = columns(project)["todo"]
    first = services.ticket_create(project=project, by=owner, title="first")
    second = services.ticket_create(project=project, by=owner, title="second")
    # No gap left between the two: the next card between them renumbers the column.
    Ticket.objects.filter(pk=second.pk).update(rank=first.rank + 1)
    third = services.ticket_create(project=project, by=owner, title="third")
    services.ticket_move(ticket=third, column=todo, by=owner, after_id=first.pk)
    ranks = dict(Ticket.objects.filter(project=project).values_list("pk", "rank"))
    assert ranks[first.pk] == RANK_GAP
    latest_agrees(project)


def test_replaying_the_timelines_gives_the_rows_the_services_wrote(clock):
    """The data migration's replay of create/move/delete/restore entries, run over the same history,
    writes what the services wrote (reorders and re-categorised columns have no entry to replay)."""
    project = ProjectFactory()
    owner = project.owner_user
    col = columns(project)
    tickets = [services.ticket_create(project=project, by=owner, title=f"T{i}") for i in range(4)]
    for step, (index, category) in enumerate(
        [(0, "in_progress"), (1, "in_progress"), (0, "done"), (2, "done"), (0, "todo"), (1, "done")]
    ):
        clock.advance(hours=step + 1)
        services.ticket_move(ticket=Ticket.objects.get(pk=tickets[index].pk), column=col[category], by=owner)
    services.ticket_delete(ticket=tickets[3], by=owner)
    clock.advance(days=1)
    services.ticket_restore(ticket=Ticket.objects.get(pk=tickets[3].pk), by=owner)
    services.ticket_delete(ticket=Ticket.objects.get(pk=tickets[2].pk), by=owner)
    written = history()
    Placement.objects.all().delete()
    backfill(apps, SimpleNamespace(connection=connection))
    assert history() == written
    latest_agrees(project)


def test_the_replay_closes_a_timeline_that_does_not_end_where_the_ticket_is(clock):
    project = ProjectFactory()
    done = columns(project)["done"]
    ticket = TicketFactory(project=project)  # no timeline at all, as an imported ticket
    Ticket.objects.filter(pk=ticket.pk).update(column=done)
    Placement.objects.all().delete()
    backfill(apps, SimpleNamespace(connection=connection))
    assert history() == {ticket.pk: [(None, "done", done.pk)]}
