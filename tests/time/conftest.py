from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from rest_framework.test import APIClient

from projects.models import Membership
from tests.factories import MembershipFactory, ProjectFactory, TicketFactory, UserFactory
from tickets.models import Ticket, TimeEntry


def as_user(user: Any) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def error_shape(body: dict[str, Any], *, details: bool = False) -> None:
    assert isinstance(body.get("error"), str) and body["error"]
    if details:
        assert set(body) == {"error", "details"}
        assert body["details"] and all(set(d) == {"field", "message"} for d in body["details"])
    else:
        assert set(body) == {"error"}


def log(user: Any, ticket: Ticket | str, minutes: int, day: date | str | None = None, note: str = "") -> dict:
    """Log time through the API as `user`; returns the entry JSON."""
    body: dict[str, Any] = {"ticket": ticket if isinstance(ticket, str) else ticket.key, "minutes": minutes}
    if day is not None:
        body["date"] = str(day)
    if note:
        body["note"] = note
    response = as_user(user).post("/api/v1/time-entries", body)
    assert response.status_code == 201, response.content
    return response.json()


class Board:
    """BLOG (personas) with three tickets, and OPS: mary is a member there, victor is not."""

    def __init__(self, personas: Any) -> None:
        self.p = personas
        self.blog1 = TicketFactory(project=personas.project, title="Write the first post", estimate=3)
        self.blog2 = TicketFactory(project=personas.project, title="Pick a theme", estimate=5)
        self.blog3 = TicketFactory(project=personas.project, title="Unestimated")
        self.ops_owner = UserFactory(username="otto")
        self.ops = ProjectFactory(owner_user=self.ops_owner, name="Ops", key="OPS")
        MembershipFactory(project=self.ops, user=personas.member, role=Membership.Role.MEMBER)
        self.ops1 = TicketFactory(project=self.ops, title="Rotate the keys", estimate=2)
        self.site_admin = UserFactory(username="sam", is_staff=True)


@pytest.fixture
def board(personas) -> Board:
    return Board(personas)


def minutes_where(**filters: Any) -> int:
    """The truth the reports are checked against: a plain sum over the rows."""
    return sum(TimeEntry.objects.filter(**filters).values_list("minutes", flat=True))
