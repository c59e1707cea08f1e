"""Checklist items added in parallel get distinct positions (issue 16, item 13).

Real threads with their own connections and real row locks: PostgreSQL only (SQLite
serialises its writers with BEGIN IMMEDIATE, so it cannot show the race).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from tests.tickets.helpers import postgres_only, url
from tickets import services

ITEMS = 15


def _in_parallel(work, jobs) -> list:
    # A barrier so every thread reads the checklist at the same moment, as racing clients do.
    barrier = threading.Barrier(len(jobs))

    def wrapped(job):
        try:
            barrier.wait(timeout=10)
            return work(job)
        finally:
            # Each thread opened its own connection: close it, or the test database cannot be dropped.
            connection.close()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(wrapped, jobs))


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_fifteen_parallel_adds_get_fifteen_positions(personas):
    card = services.ticket_create(project=personas.project, by=personas.member, title="Launch")

    def add(i: int) -> int:
        response = personas.client("member").post(url(f"/cards/{card.key}/checklist"), {"text": f"step {i}"})
        return response.status_code

    assert _in_parallel(add, list(range(ITEMS))) == [201] * ITEMS
    orders = sorted(card.checklist.values_list("order", flat=True))
    assert orders == list(range(ITEMS))


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_adds_racing_a_reorder_keep_positions_distinct(personas):
    card = services.ticket_create(project=personas.project, by=personas.member, title="Launch")
    ids = [services.checklist_item_add(ticket=card, by=personas.member, text=f"old {i}").pk for i in range(5)]

    def work(job: int) -> int:
        client = personas.client("member")
        if job % 3 == 0:
            return client.patch(url(f"/cards/{card.key}/checklist/reorder"), {"order": ids[::-1]}).status_code
        return client.post(url(f"/cards/{card.key}/checklist"), {"text": f"new {job}"}).status_code

    statuses = _in_parallel(work, list(range(ITEMS)))
    assert sorted(set(statuses)) == [200, 201]
    orders = list(card.checklist.values_list("order", flat=True))
    assert len(orders) == 5 + statuses.count(201)
    assert len(set(orders)) == len(orders), "two checklist items share a position"
