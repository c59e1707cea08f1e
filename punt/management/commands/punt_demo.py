"""Load a small demo project on first start (idempotent) and print how to sign in.

Everything goes through the same services as the API, so the demo has a real timeline.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from notifications.models import Notification
from projects import services as projects
from projects.models import Project
from punt import errors
from tickets import services as tickets

DEMO_USER = "demo"
DEMO_PASSWORD = "demo-punt-2026"  # a published demo login, not a secret
DEMO_KEY = "DEMO"

TEAM = [("alice", "Alice Martin", "admin"), ("bob", "Bob Okafor", "member"), ("carol", "Carol Diaz", "viewer")]
TICKETS = [
    # title, type, priority, column, assignee, labels, estimate
    ("Set up CI for the mobile app", "task", "high", "Done", "alice", ["infra"], 3),
    ("Login page forgets the username", "bug", "urgent", "In Progress", "bob", ["bug", "auth"], 2),
    ("Dark theme for the board", "feature", "medium", "To Do", "demo", ["ux"], 5),
    ("Export the time report as CSV", "feature", "low", "To Do", None, ["reports"], 3),
    ("Drag and drop is slow with 500 cards", "bug", "high", "In Progress", "alice", ["bug", "perf"], 8),
    ("Write the self-hosting guide", "task", "medium", "To Do", "carol", ["docs"], 2),
    ("Webhook retries back off too fast", "bug", "medium", "Done", "bob", ["bug"], 1),
]


class Command(BaseCommand):
    help = "Create the demo user and a demo project the first time; print the demo login."

    @errors.command_errors
    def handle(self, *args: Any, **options: Any) -> None:
        if Project.objects.filter(key=DEMO_KEY).exists():
            self._print_login()
            return
        with transaction.atomic():
            self._create()
            # The demo's mentions and assignments are made up: nobody is mailed about them.
            Notification.objects.filter(email=Notification.Email.PENDING).update(email=Notification.Email.SKIPPED)
        self.stdout.write(self.style.SUCCESS("Loaded the demo project."))
        self._print_login()

    def _create(self) -> None:
        User = get_user_model()
        demo, _ = User.objects.get_or_create(
            username=DEMO_USER,
            defaults={"email": "demo@example.com", "display_name": "Demo User", "is_staff": True, "is_superuser": True},
        )
        demo.set_password(DEMO_PASSWORD)
        demo.save(update_fields=["password"])
        people = {DEMO_USER: demo}
        for username, name, _role in TEAM:
            user, created = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@example.com", "display_name": name}
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            people[username] = user

        project = projects.project_create(
            name="Demo", key=DEMO_KEY, by=demo, description="A small project to try PUNT with."
        )
        for username, _name, role in TEAM:
            projects.membership_add(project=project, username=username, role=role, by=demo)
        for name in sorted({label for row in TICKETS for label in row[5]}):
            projects.label_create(project=project, name=name, by=demo)
        today = timezone.localdate()
        sprint = projects.sprint_create(
            project=project,
            name="Sprint 1",
            by=demo,
            goal="A usable board",
            start_date=today - timedelta(days=3),
            end_date=today + timedelta(days=11),
        )
        projects.sprint_start(sprint=sprint, by=demo)
        columns = {column.name: column for column in project.columns.all()}
        created_tickets = []
        for title, type_, priority, column, assignee, labels, estimate in TICKETS:
            ticket = tickets.ticket_create(
                project=project,
                by=demo,
                title=title,
                type=type_,
                priority=priority,
                column=columns[column],
                assignee=people[assignee] if assignee else None,
                labels=labels,
                sprint=sprint,
                estimate=estimate,
                body=f"**{title}**\n\nDemo ticket. Mention @{assignee or DEMO_USER} or {DEMO_KEY}-1 to link.",
            )
            created_tickets.append(ticket)
        tickets.comment_create(
            ticket=created_tickets[1], by=people["bob"], body="Reproduced on Firefox; looking into it.", minutes=30
        )
        tickets.comment_create(ticket=created_tickets[1], by=demo, body=f"Might be related to {DEMO_KEY}-5.")

    def _print_login(self) -> None:
        self.stdout.write(f"Demo login: user '{DEMO_USER}', password '{DEMO_PASSWORD}' (a site admin).")
