"""The daily reminder of tickets due tomorrow, to their assignees (in the app and, by preference, by e-mail)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from notifications.models import Notification
from notifications.services import notify
from tickets.models import OPEN, Ticket
from tickets.services.common import ticket_brief, ticket_html_url

# A run reminds of at most this many tickets; the next run (or a rerun) picks up the rest.
REMINDERS_PER_RUN = 5000


def due_reminders_send(*, today: datetime.date | None = None) -> int:
    """Notify each assignee of their open tickets due the day after `today` (default: today).

    Idempotent: a ticket already reminded of for that due date is skipped, so the command may
    run twice a day or be retried. Archived projects and inactive assignees are left out.
    Returns how many reminders were created.
    """
    due = (today or timezone.localdate()) + datetime.timedelta(days=1)
    tickets = list(
        Ticket.objects.filter(
            OPEN,
            due_date=due,
            assignee__isnull=False,
            assignee__is_active=True,
            project__archived_at__isnull=True,
        )
        .select_related("project__owner_user", "project__organization", "assignee")
        .order_by("id")[:REMINDERS_PER_RUN]
    )
    if not tickets:
        return 0
    reminded = set(
        Notification.objects.filter(
            kind=Notification.Kind.DUE,
            data__due_date=due.isoformat(),
            data__ticket__id__in=[ticket.pk for ticket in tickets],
        ).values_list("data__ticket__id", flat=True)
    )
    created = 0
    for ticket in tickets:
        if ticket.pk in reminded:
            continue
        with transaction.atomic():
            created += len(
                notify(
                    recipients=[ticket.assignee],  # type: ignore[list-item]
                    kind=Notification.Kind.DUE,
                    actor=None,
                    text=f"{ticket.key} {ticket.title} is due tomorrow",
                    url=ticket_html_url(ticket.project, ticket.number),
                    project=ticket.project,
                    data={"ticket": ticket_brief(ticket), "due_date": due.isoformat()},
                    snippet=ticket.body,
                )
            )
    return created
