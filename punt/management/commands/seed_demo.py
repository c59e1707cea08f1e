"""Fill a database with realistic tracker data, fast (bulk inserts, not one service call per row).

The shape is skewed like a real tracker: a few big projects and many small ones, a few people
doing most of the work, most tickets done or in the backlog, comments clustered on few tickets.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from projects.models import Column, Label, Membership, Project, Sprint
from punt import errors
from tickets.models import Event, Placement, Ticket

User = get_user_model()

RANK_GAP = 1024
BATCH = 2000
LABELS = [
    ("bug", "#EF4444"),
    ("feature", "#22C55E"),
    ("docs", "#3B82F6"),
    ("ux", "#A855F7"),
    ("perf", "#F59E0B"),
    ("security", "#DC2626"),
    ("tech-debt", "#6B7280"),
    ("good first issue", "#10B981"),
]
COLUMNS = [
    ("Backlog", "backlog"),
    ("To Do", "todo"),
    ("In Progress", "in_progress"),
    ("In Review", "in_review"),
    ("Done", "done"),
]
# Where tickets sit: most are done or waiting.
COLUMN_WEIGHTS = [30, 15, 8, 4, 43]
VERBS = ["Fix", "Add", "Remove", "Refactor", "Document", "Speed up", "Investigate", "Support", "Migrate", "Test"]
NOUNS = [
    "login form",
    "board drag and drop",
    "webhook retries",
    "CSV export",
    "dark theme",
    "API pagination",
    "search index",
    "avatar upload",
    "sprint burndown",
    "email digest",
    "rate limiter",
    "mobile layout",
]


def _skewed_split(total: int, parts: int, rng: random.Random) -> list[int]:
    """Split `total` into `parts` counts following a Zipf-like curve (project 1 is the biggest)."""
    weights = [1 / (i + 1) for i in range(parts)]
    scale = total / sum(weights)
    counts = [int(w * scale) for w in weights]
    counts[0] += total - sum(counts)
    rng.shuffle(counts[1:]) if parts > 2 else None
    return counts


class Command(BaseCommand):
    help = "Fill the database with realistic demo data: --projects N --tickets M --users U."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--projects", type=int, default=5)
        parser.add_argument("--tickets", type=int, default=1000, help="tickets in all, spread over the projects")
        parser.add_argument("--users", type=int, default=20)
        parser.add_argument("--comments", type=float, default=1.5, help="average comments per ticket")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--prefix", default="SEED", help="prefix of project keys and user names")

    @errors.command_errors
    def handle(self, *args: Any, **options: Any) -> None:
        rng = random.Random(options["seed"])  # noqa: S311 - demo data, not secrets
        started = time.monotonic()
        prefix = options["prefix"].upper()
        with transaction.atomic():
            users = self._users(options["users"], prefix.lower())
            projects = self._projects(options["projects"], prefix, users, rng)
        counts = _skewed_split(options["tickets"], len(projects), rng)
        total_tickets = total_events = 0
        for project, count in zip(projects, counts, strict=True):
            with transaction.atomic():
                made, events = self._tickets(project, count, users, options["comments"], rng)
            total_tickets += made
            total_events += events
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Seeded {len(users)} users, {len(projects)} projects, {total_tickets} tickets, "
            f"{total_events} events in {elapsed:.1f}s"
        )

    def _users(self, count: int, prefix: str) -> list[Any]:
        password = make_password("seed-password")  # hashed once: hashing is the slow part
        existing = set(User.objects.filter(username__startswith=f"{prefix}-").values_list("username", flat=True))
        new = [
            User(
                username=f"{prefix}-user{i}",
                email=f"{prefix}-user{i}@example.com",
                display_name=f"Seed User {i}",
                password=password,
            )
            for i in range(count)
            if f"{prefix}-user{i}" not in existing
        ]
        User.objects.bulk_create(new, batch_size=BATCH)
        return list(User.objects.filter(username__startswith=f"{prefix}-user").order_by("id")[:count])

    def _projects(self, count: int, prefix: str, users: list[Any], rng: random.Random) -> list[Project]:
        start = Project.objects.filter(key__startswith=prefix[:6]).count()
        projects = []
        for i in range(start, start + count):
            owner = users[i % len(users)]
            key = f"{prefix[:6]}{i}"[:10]
            project = Project.objects.create(
                owner_user=owner,
                name=f"Seed project {i}",
                path=f"seed-project-{i}",
                key=key,
                slug=key.lower(),
                color="#3B82F6",
                created_by=owner,
            )
            team = rng.sample(users, k=min(len(users), rng.randint(3, 12)))
            memberships = [Membership(project=project, user=owner, role=Membership.Role.OWNER)]
            memberships += [
                Membership(project=project, user=u, role=rng.choice(["admin", "member", "member", "member", "viewer"]))
                for u in team
                if u != owner
            ]
            Membership.objects.bulk_create(memberships)
            Column.objects.bulk_create(
                Column(project=project, name=name, category=category, order=order)
                for order, (name, category) in enumerate(COLUMNS)
            )
            Label.objects.bulk_create(Label(project=project, name=name, color=color) for name, color in LABELS)
            today = timezone.localdate()
            Sprint.objects.bulk_create(
                [
                    Sprint(
                        project=project,
                        name="Sprint 1",
                        status="closed",
                        start_date=today - timedelta(days=28),
                        end_date=today - timedelta(days=14),
                    ),
                    Sprint(
                        project=project,
                        name="Sprint 2",
                        status="active",
                        start_date=today - timedelta(days=7),
                        end_date=today + timedelta(days=7),
                        started_at=timezone.now() - timedelta(days=7),
                    ),
                    Sprint(project=project, name="Sprint 3", status="planned"),
                ]
            )
            projects.append(project)
        return projects

    def _tickets(
        self, project: Project, count: int, users: list[Any], comments_per_ticket: float, rng: random.Random
    ) -> tuple[int, int]:
        if count <= 0:
            return 0, 0
        columns = list(project.columns.order_by("order"))
        labels = list(project.labels.all())
        sprints = list(project.sprints.all())
        team = list(User.objects.filter(memberships__project=project))
        # A few people do most of the work.
        assignee_weights = [1 / (i + 1) for i in range(len(team))]
        now = timezone.now()
        first_number = project.ticket_counter + 1
        next_rank = {c.id: (c.tickets.order_by("-rank").values_list("rank", flat=True).first() or 0) for c in columns}
        tickets = []
        for offset in range(count):
            column = rng.choices(columns, weights=COLUMN_WEIGHTS)[0]
            next_rank[column.id] += RANK_GAP
            created = now - timedelta(minutes=rng.randint(0, 60 * 24 * 365))
            done = column.category == "done"
            tickets.append(
                Ticket(
                    project=project,
                    number=first_number + offset,
                    column=column,
                    rank=next_rank[column.id],
                    title=f"{rng.choice(VERBS)} {rng.choice(NOUNS)}",
                    body="Steps to reproduce:\n\n1. Open the board\n2. Drag a card\n\n**Expected:** it stays.",
                    type=rng.choices(["task", "bug", "feature", "story"], weights=[50, 25, 20, 5])[0],
                    priority=rng.choices(["low", "medium", "high", "urgent"], weights=[20, 55, 20, 5])[0],
                    assignee=rng.choices(team, weights=assignee_weights)[0] if rng.random() < 0.7 else None,
                    reporter=rng.choice(team),
                    sprint=rng.choice(sprints) if rng.random() < 0.4 else None,
                    estimate=rng.choice([None, 1, 2, 3, 5, 8]),
                    state="closed" if done else "opened",
                    closed_at=created + timedelta(days=rng.randint(1, 30)) if done else None,
                )
            )
        Ticket.objects.bulk_create(tickets, batch_size=BATCH)
        Project.objects.filter(pk=project.pk).update(ticket_counter=first_number + count - 1)
        placed = Ticket.objects.filter(project=project, number__gte=first_number).values_list(
            "id", "column_id", "rank", "created_at"
        )
        categories = {c.id: c.category for c in columns}
        saved = []
        placements = []
        for ticket_id, column_id, rank, created_at in placed:
            saved.append(ticket_id)
            placements.append(
                Placement(
                    ticket_id=ticket_id,
                    project=project,
                    column_id=column_id,
                    category=categories[column_id],
                    rank=rank,
                    at=created_at,
                )
            )
        Placement.objects.bulk_create(placements, batch_size=BATCH)

        through = Ticket.labels.through
        links = []
        for ticket_id in saved:
            for label in rng.sample(labels, k=rng.choices([0, 1, 2, 3], weights=[30, 45, 20, 5])[0]):
                links.append(through(ticket_id=ticket_id, label_id=label.id))
        through.objects.bulk_create(links, batch_size=BATCH)

        events = []
        comment_total = int(len(saved) * comments_per_ticket)
        # Discussion clusters on a few tickets.
        hot = saved[: max(1, len(saved) // 10)]
        for _ in range(comment_total):
            ticket_id = rng.choice(hot) if rng.random() < 0.6 else rng.choice(saved)
            events.append(
                Event(
                    ticket_id=ticket_id,
                    kind="comment",
                    author=rng.choice(team),
                    text="Looked into this; see the linked commit.",
                )
            )
        for ticket_id in saved:
            events.append(Event(ticket_id=ticket_id, kind="action", author=rng.choice(team), text="create"))
        Event.objects.bulk_create(events, batch_size=BATCH)
        return len(saved), len(events)
