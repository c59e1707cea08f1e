"""The tickets side of board structure changes: projects.board_contents.BoardContents.

Deleting a column, changing its category, completing a sprint and deleting a project are
projects services, but they move, close and delete tickets and write their timeline. That
part lives here, so the dependency points one way (tickets -> projects); TicketsConfig.ready()
registers `TicketBoardContents` with projects. Every method runs inside the projects
service's transaction, which holds the locks and publishes the events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, IntegerField, Max, OuterRef, QuerySet, Subquery
from django.utils import timezone

from projects.models import Column, Project, Sprint
from projects.services import RANK_GAP
from punt.errors import invalid as _invalid
from tickets.completions import DONE, entered_done_at
from tickets.models import Event, Ticket
from tickets.services.placements import placements_add


def _sync_ticket_states(*, tickets: QuerySet[Ticket], category: str, by: Any) -> None:
    """Keep state/closed_at in line with a new column category (a ticket is closed iff done)."""
    now = timezone.now()
    if category == Column.Category.DONE:
        tickets.filter(closed_at__isnull=True).update(state="closed", closed_at=now, closed_by=by, updated_at=now)
    else:
        tickets.exclude(state="opened", closed_at__isnull=True).update(
            state="opened", closed_at=None, closed_by=None, updated_at=now
        )


class TicketBoardContents:
    """What a board holds: tickets (see projects.board_contents.BoardContents for the contract)."""

    def column_empty(self, *, column: Column, target: Column | None, by: Any) -> list[int]:
        project = column.project
        tickets = list(Ticket.objects.select_for_update().filter(column=column).order_by("rank", "id"))
        live = [t for t in tickets if t.deleted_at is None]
        if live and target is None:
            raise _invalid(
                "target_column_id",
                f"This column holds {len(live)} ticket(s); say which column they move to (?target=<column id>).",
            )
        if tickets:
            # Soft-deleted tickets must move too (Ticket.column is PROTECT): to the target, or
            # else to the first other column.
            destination = target or project.columns.exclude(pk=column.pk).order_by("order", "id").first()
            assert destination is not None  # the caller keeps at least one other column
            last = Ticket.objects.filter(column=destination).aggregate(last=Max("rank"))["last"] or 0
            now = timezone.now()
            for index, ticket in enumerate(tickets, start=1):
                ticket.column = destination
                ticket.rank = last + index * RANK_GAP
                ticket.updated_at = now
            Ticket.objects.bulk_update(tickets, ["column", "rank", "updated_at"])
            placements_add(tickets=live, column=destination, from_category=column.category, at=now)
            if (column.category == Column.Category.DONE) != (destination.category == Column.Category.DONE):
                _sync_ticket_states(
                    tickets=Ticket.objects.filter(pk__in=[t.pk for t in tickets]), category=destination.category, by=by
                )
            Event.objects.bulk_create(
                Event(
                    ticket=ticket,
                    kind=Event.Kind.ACTION,
                    author=by,
                    text="move",
                    data={
                        "from": {"id": column.pk, "name": column.name},
                        "to": {"id": destination.pk, "name": destination.name},
                        "reason": "column_deleted",
                    },
                )
                for ticket in live
            )
        return [t.pk for t in live]

    def column_recategorised(self, *, column: Column, category: str, by: Any) -> None:
        if (column.category == Column.Category.DONE) != (category == Column.Category.DONE):
            _sync_ticket_states(tickets=Ticket.objects.filter(column=column), category=category, by=by)
        # Each card moves from the old category to the new one, where it stands.
        live = Ticket.objects.filter(column=column, deleted_at__isnull=True).only("pk", "rank")
        placements_add(tickets=live, column=column, from_category=column.category, category=category)

    def sprint_carry_over(self, *, sprint: Sprint, move_to: Sprint | None, by: Any) -> list[int]:
        # Unfinished = not deleted and not in a done column.
        unfinished = Ticket.objects.filter(sprint=sprint, deleted_at__isnull=True).exclude(
            column__category=Column.Category.DONE
        )
        moved_ids = list(unfinished.values_list("pk", flat=True))
        target_id = move_to.pk if move_to else None
        Ticket.objects.filter(pk__in=moved_ids).update(sprint=move_to, updated_at=timezone.now())
        Event.objects.bulk_create(
            Event(
                ticket_id=pk,
                kind=Event.Kind.UPDATE,
                author=by,
                data={"old": {"sprint": sprint.pk}, "new": {"sprint": target_id}},
            )
            for pk in moved_ids
        )
        return moved_ids

    def project_empty(self, *, project: Project) -> None:
        # Ticket.column is PROTECT (a column cannot vanish under its cards), so cards go first.
        Ticket.objects.filter(project=project).delete()

    def open_ticket_count(self) -> Subquery:
        open_count = (
            Ticket.objects.filter(project=OuterRef("pk"), deleted_at__isnull=True, state="opened")
            .order_by()
            .values("project")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return Subquery(open_count, output_field=IntegerField())

    def sprint_tickets(self, *, sprint: Sprint) -> QuerySet[Ticket]:
        return (
            Ticket.objects.filter(sprint=sprint, deleted_at__isnull=True)
            .select_related("project", "column", "assignee")
            .order_by("column__order", "rank", "id")
        )

    def sprint_estimates(self, *, sprint: Sprint) -> list[tuple[int | None, datetime | None]]:
        # The completion is tickets.completions' rule (insights' throughput and cycle time use
        # it too); only a ticket in a done column has one.
        rows = (
            Ticket.objects.filter(sprint=sprint, deleted_at__isnull=True)
            .order_by()
            .annotate(done_at=entered_done_at())
            .values_list("estimate", "column__category", "done_at")
        )
        return [(estimate, done_at if category == DONE else None) for estimate, category, done_at in rows]
