"""Concurrent writers on PostgreSQL: numbers without gaps or repeats, and a total card order.

These run real threads with their own connections, so they need a database that can take
concurrent writers and real row locks (skipped on SQLite).
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from projects.models import Column, Project
from tests.factories import ProjectFactory, UserFactory
from tests.tickets.helpers import postgres_only
from tickets import services
from tickets.models import Ticket

THREADS = 8


def _run_in_threads(work, jobs) -> None:
    def wrapped(job):
        try:
            return work(job)
        finally:
            # Each thread opened its own connection: close it, or the test database cannot be dropped.
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for result in pool.map(wrapped, jobs):
            assert result is None


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_parallel_creates_number_1_to_200_without_gaps_or_repeats():
    owner = UserFactory(username="racer")
    project = ProjectFactory(owner_user=owner, key="RACE", name="Race")

    def create(thread: int) -> None:
        mine = Project.objects.get(pk=project.pk)
        for i in range(200 // THREADS):
            services.ticket_create(project=mine, by=owner, title=f"t{thread}-{i}")

    _run_in_threads(create, range(THREADS))
    numbers = sorted(Ticket.objects.filter(project=project).values_list("number", flat=True))
    assert numbers == list(range(1, 201))
    project.refresh_from_db()
    assert project.ticket_counter == 200
    ranks = list(Ticket.objects.filter(project=project).values_list("rank", flat=True))
    assert len(set(ranks)) == 200


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_parallel_moves_in_one_column_keep_a_total_order():
    owner = UserFactory(username="mover")
    project = ProjectFactory(owner_user=owner, key="MOVE", name="Move")
    column = project.columns.order_by("order").first()
    ids = [services.ticket_create(project=project, by=owner, title=f"c{i}", column=column).pk for i in range(20)]

    def shuffle(seed: int) -> None:
        rng = random.Random(seed)
        target = Column.objects.get(pk=column.pk)
        for _ in range(25):
            card_id, anchor_id = rng.sample(ids, 2)
            card = Ticket.objects.select_related("project", "column").get(pk=card_id)
            how = rng.choice(["before_id", "after_id", "index"])
            where = {how: rng.randrange(0, 25) if how == "index" else anchor_id}
            services.ticket_move(ticket=card, column=target, by=owner, **where)

    _run_in_threads(shuffle, range(THREADS))
    rows = list(Ticket.objects.filter(column=column).order_by("rank", "id").values_list("pk", "rank"))
    assert sorted(pk for pk, _ in rows) == sorted(ids)
    ranks = [rank for _, rank in rows]
    assert len(set(ranks)) == len(ranks), "two cards share a rank"
    assert ranks == sorted(ranks)
