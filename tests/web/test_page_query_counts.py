"""Pages cost a fixed number of queries whatever the number of rows they show."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import services as chat_services
from projects import services as project_services
from projects.models import Membership
from tests.conftest import Personas
from tests.factories import LabelFactory, MembershipFactory, SprintFactory, TicketFactory, UserFactory
from tests.web.conftest import page_client
from tickets import services as ticket_services

pytestmark = pytest.mark.django_db

BASE = "/projects/olivia/blog"


def _grow_ticket(personas: Personas, n: int) -> None:
    ticket = personas.project.tickets.get(number=1)
    for i in range(n):
        author = MembershipFactory(project=personas.project, user=UserFactory(), role=Membership.Role.MEMBER).user
        ticket_services.comment_create(ticket=ticket, by=author, body=f"Comment {i} for @olivia", minutes=5)
        ticket_services.checklist_item_add(ticket=ticket, by=author, text=f"Item {i}")
        ticket_services.ticket_watch(ticket=ticket, user=author)
        TicketFactory(project=personas.project, parent=ticket, type="subtask", title=f"Sub {i}")


def _grow_backlog(personas: Personas, n: int) -> None:
    sprint = SprintFactory(project=personas.project, name=f"S{personas.project.sprints.count()}")
    label = LabelFactory(project=personas.project)
    for i in range(n):
        ticket = TicketFactory(project=personas.project, title=f"B{i}", assignee=personas.member, estimate=2)
        ticket.labels.add(label)
        TicketFactory(project=personas.project, title=f"P{i}", sprint=sprint, assignee=personas.admin)


def _grow_settings(personas: Personas, n: int) -> None:
    for i in range(n):
        MembershipFactory(project=personas.project, user=UserFactory(), role=Membership.Role.VIEWER)
        project_services.label_create(project=personas.project, name=f"lab{i}-{UserFactory().pk}", by=personas.owner)


def _grow_home(personas: Personas, n: int) -> None:
    for i in range(n):
        ticket = TicketFactory(project=personas.project, assignee=personas.member, title=f"H{i}")
        ticket_services.comment_create(ticket=ticket, by=personas.owner, body=f"Hey @mary {i}")
        chat_services.message_post(user=personas.owner, project=personas.project, body=f"@mary look {i}")


CASES: dict[str, tuple[str, Callable[[Personas, int], None]]] = {
    "ticket": (f"{BASE}/tickets/1", _grow_ticket),
    "backlog": (f"{BASE}/backlog", _grow_backlog),
    "settings": (f"{BASE}/settings", _grow_settings),
    "home": ("/", _grow_home),
    "projects": ("/projects/", _grow_home),
}


@pytest.mark.parametrize("name", list(CASES))
def test_query_count_is_flat(personas: Personas, name: str):
    TicketFactory(project=personas.project, title="The one")  # number 1
    url, grow = CASES[name]
    client = page_client(personas, "admin" if name == "settings" else "member")
    grow(personas, 2)
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    grow(personas, 12)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries), [q["sql"][:150] for q in many.captured_queries]
