"""A link's use limit holds when many people accept it at once: the accept locks the link's row.

Real threads with their own connections and real row locks: PostgreSQL only.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from projects.models import Invitation, Membership
from projects.services import invitations
from tests.factories import UserFactory
from tests.tickets.helpers import postgres_only

ACCEPTERS = 8
LIMIT = 3


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_parallel_accepts_respect_the_use_limit(personas):
    created = invitations.invitation_create(
        project=personas.project, kind="link", role="member", max_uses=LIMIT, by=personas.owner
    )
    guests = [UserFactory(username=f"guest{n}") for n in range(ACCEPTERS)]
    barrier = threading.Barrier(ACCEPTERS)

    def accept(user) -> int:
        try:
            client = APIClient()
            client.force_authenticate(user)
            barrier.wait(timeout=10)
            return client.post(f"/api/v1/invitations/{created.token}/accept").status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=ACCEPTERS) as pool:
        statuses = list(pool.map(accept, guests))

    assert sorted(statuses) == [200] * LIMIT + [409] * (ACCEPTERS - LIMIT)
    assert Invitation.objects.get(pk=created.invitation.pk).uses == LIMIT
    assert Membership.objects.filter(project=personas.project, user__in=guests).count() == LIMIT
