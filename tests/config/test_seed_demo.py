from __future__ import annotations

from django.core.management import call_command

from projects.models import Project
from tickets.models import Event, Ticket


def test_seed_demo_fills_projects_with_numbered_ordered_tickets(db):
    call_command("seed_demo", projects=3, tickets=300, users=8, skip_checks=True, stdout=None)

    projects = list(Project.objects.filter(key__startswith="SEED"))
    assert len(projects) == 3
    assert Ticket.objects.count() == 300
    for project in projects:
        numbers = list(project.tickets.order_by("number").values_list("number", flat=True))
        assert numbers == list(range(1, len(numbers) + 1))
        assert project.ticket_counter == len(numbers)
        assert project.memberships.filter(role="owner").count() == 1
    # Skewed: the first project is the biggest.
    sizes = sorted((p.tickets.count() for p in projects), reverse=True)
    assert sizes[0] > sizes[-1]
    assert Event.objects.filter(kind="comment").exists()


def test_seed_demo_can_run_twice(db):
    call_command("seed_demo", projects=1, tickets=20, users=3, skip_checks=True)
    call_command("seed_demo", projects=1, tickets=20, users=3, skip_checks=True)
    assert Project.objects.filter(key__startswith="SEED").count() == 2
    assert Ticket.objects.count() == 40
