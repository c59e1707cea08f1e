"""A status with no column yet, set by parallel writers, creates that column once (issue 16, item 13).

Real threads with their own connections and real row locks: PostgreSQL only.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from tests.tickets.helpers import postgres_only, url
from tickets import services

WRITERS = 8


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_parallel_moves_into_a_missing_status_share_one_new_column(personas):
    keys = [services.ticket_create(project=personas.project, by=personas.member, title=f"c{i}").key for i in range(8)]
    barrier = threading.Barrier(WRITERS)

    def review(key: str) -> int:
        try:
            barrier.wait(timeout=10)
            return personas.client("member").patch(url(f"/cards/{key}"), {"status": "in_review"}).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        statuses = list(pool.map(review, keys))

    assert statuses == [200] * WRITERS
    review_columns = list(personas.project.columns.filter(category="in_review"))
    assert len(review_columns) == 1
    assert review_columns[0].tickets.count() == WRITERS
    orders = list(personas.project.columns.values_list("order", flat=True))
    assert len(set(orders)) == len(orders)
