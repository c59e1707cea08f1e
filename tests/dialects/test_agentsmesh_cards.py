"""The AgentsMesh list and ticket JSON come from the card module (dialects/agentsmesh/cards.py).

These tests hold that JSON to what the dialect's DRF serializers (AmTicketListItemSerializer,
AmTicketSerializer: the ORM twin, and what the OpenAPI schema describes) write for the same
model instances, key for key and byte for byte, and pin the queries of the list and the
single ticket.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from dialects.agentsmesh import cards as am_cards
from dialects.agentsmesh import serializers as s
from projects.models import Sprint
from tests.factories import LabelFactory, ProjectFactory, SprintFactory
from tickets import cards
from tickets import services as ticket_services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

BASE = "/api/v1/ext/orgs/acme"


def _key(user) -> APIClient:
    from accounts import services

    _k, raw = services.api_key_create(user=user, name="t", scopes=["tickets:write"])
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    return client


def _json(data: object) -> bytes:
    return JSONRenderer().render(data)


def _instances(ids: list[int]) -> list[Ticket]:
    """The tickets as the serializers read them (what the views read before the card module)."""
    found = Ticket.objects.filter(pk__in=ids).select_related("project", "column", "parent").prefetch_related("labels")
    by_id = {ticket.pk: ticket for ticket in found}
    return [by_id[pk] for pk in ids]


def _reference_list(body: dict) -> dict:
    tickets = _instances([ticket["id"] for ticket in body["tickets"]])
    envelope = {"tickets": tickets, "total": body["total"], "limit": body["limit"], "offset": body["offset"]}
    return s.AmTicketListSerializer(envelope).data


def _reference_ticket(ticket_id: int) -> dict:
    return s.AmTicketEnvelopeSerializer({"ticket": _instances([ticket_id])[0]}).data


@pytest.fixture
def varied(mesh, personas):
    """Tickets with and without labels, assignee, sprint, parent and due date, in two of the
    organization's projects, with timestamps with and without a fraction of a second."""
    other = ProjectFactory(
        owner_user=None, organization=mesh.org, name="Other", path="other", key="OT", created_by=personas.owner
    )
    other.memberships.create(user=personas.member, role="member")
    for name in ("zeta", "Backend", "auth"):
        LabelFactory(project=mesh.project, name=name)
    LabelFactory(project=other, name="ops")
    sprint = SprintFactory(project=mesh.project, name="Sprint 7", status=Sprint.Status.ACTIVE)

    def make(project, title, **fields):
        return ticket_services.ticket_create(project=project, by=personas.member, title=title, **fields)

    epic = make(mesh.project, "Epic", type="epic", priority="urgent", labels=["zeta", "auth", "Backend"])
    child = make(
        mesh.project,
        "Child",
        parent=epic,
        assignee=personas.member,
        sprint=sprint.pk,
        due_date=date(2026, 12, 24),
        status="in_progress",
        labels=["auth"],
    )
    plain = make(mesh.project, "Nothing set")
    done = make(mesh.project, "Done", status="done", type="bug", priority="low", assignee=personas.admin)
    elsewhere = make(other, "Elsewhere", labels=["ops"], status="in_review")
    sub = make(other, "Sub elsewhere", parent=elsewhere)
    whole_second = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    Ticket.objects.filter(pk=plain.pk).update(created_at=whole_second, updated_at=whole_second)
    with_fraction = datetime(2025, 1, 10, 8, 0, 0, 999_999, tzinfo=UTC)
    Ticket.objects.filter(pk=done.pk).update(updated_at=with_fraction)
    return [epic, child, plain, done, elsewhere, sub]


LIST_QUERIES = [
    "",
    "?limit=2&offset=1",
    "?labels=auth,ops",
    "?status=in_progress,done",
    "?type=bug",
    "?q=priority >= medium",
    "?q=ORDER BY updated DESC",
    "?q=priority >= low ORDER BY priority DESC&limit=3",
]


@pytest.mark.parametrize("query", LIST_QUERIES)
def test_list_matches_the_serializer(mesh, personas, varied, query):
    body = _key(personas.member).get(f"{BASE}/tickets{query}").json()
    expected = _reference_list(body)
    assert body == expected
    assert _json(body) == _json(expected)


def test_list_pages_and_counts_as_the_orm_does(mesh, personas, varied):
    client = _key(personas.member)
    body = client.get(f"{BASE}/tickets").json()
    newest_first = Ticket.objects.filter(pk__in=[t.pk for t in varied]).order_by("-created_at", "-id")
    assert [ticket["id"] for ticket in body["tickets"]] == list(newest_first.values_list("pk", flat=True))
    assert body["total"] == len(varied)
    page = client.get(f"{BASE}/tickets?limit=2&offset=3").json()
    assert [ticket["id"] for ticket in page["tickets"]] == [ticket["id"] for ticket in body["tickets"][3:5]]
    assert page["total"] == len(varied)
    by_repository = client.get(f"{BASE}/tickets?repository_id={mesh.project.pk}").json()
    assert by_repository["total"] == 4
    assert client.get(f"{BASE}/tickets?status=").json()["total"] == len(varied)
    assert client.get(f"{BASE}/tickets?labels=nothing-has-this").json() == {
        "tickets": [],
        "total": 0,
        "limit": 20,
        "offset": 0,
    }
    first = body["tickets"][0]
    assert first["slug"] == "OT-2" and first["repository_id"] != mesh.project.pk


def test_ticket_matches_the_serializer(mesh, personas, varied):
    client = _key(personas.member)
    for ticket in varied:
        body = client.get(f"{BASE}/tickets/{ticket.key}").json()
        expected = _reference_ticket(ticket.pk)
        assert body == expected
        assert _json(body) == _json(expected)
    child = client.get(f"{BASE}/tickets/{varied[1].key}").json()["ticket"]
    assert child["parent_slug"] == varied[0].key and child["labels"] == ["auth"]
    # In the database's order of names (its collation decides where "Backend" goes).
    epic_labels = client.get(f"{BASE}/tickets/{varied[0].key}").json()["ticket"]["labels"]
    assert sorted(epic_labels) == sorted(["auth", "Backend", "zeta"])


def test_a_site_time_zone_other_than_utc_changes_nothing(mesh, personas, varied, settings):
    settings.TIME_ZONE = "America/New_York"
    client = _key(personas.member)
    with timezone.override("America/New_York"):
        body = client.get(f"{BASE}/tickets").json()
        assert _json(body) == _json(_reference_list(body))
        ticket = client.get(f"{BASE}/tickets/{varied[2].key}").json()
        assert _json(ticket) == _json(_reference_ticket(varied[2].pk))
    assert ticket["ticket"]["created_at"] == "2026-03-04T05:06:07Z"
    assert all(t["created_at"].endswith("Z") and t["updated_at"].endswith("Z") for t in body["tickets"])


def test_write_answers_match_the_serializer(mesh, personas, varied):
    client = _key(personas.member)
    created = client.post(
        f"{BASE}/tickets",
        {"title": "New", "type": "feature", "labels": ["auth", "fresh"], "parent_slug": varied[0].key},
        format="json",
    )
    assert created.status_code == 201
    assert _json(created.json()) == _json(_reference_ticket(created.json()["ticket"]["id"]))
    updated = client.put(f"{BASE}/tickets/{varied[2].key}", {"assignee_id": personas.member.pk}, format="json")
    assert updated.status_code == 200
    assert _json(updated.json()) == _json(_reference_ticket(varied[2].pk))


def test_a_ticket_in_memory_makes_the_same_card(mesh, personas, varied):
    for ticket in _instances([t.pk for t in varied]):
        built = am_cards.TICKET.payloads([am_cards.TICKET.row_of(ticket)], labels=cards.labels_of(ticket))[0]
        assert _json(built) == _json(s.AmTicketSerializer(ticket).data)


def test_the_cards_have_the_serializers_keys():
    assert [f.name for f in am_cards.LIST_ITEM.fields] == list(s.AmTicketListItemSerializer().fields)
    assert [f.name for f in am_cards.TICKET.fields] == list(s.AmTicketSerializer().fields)


def test_a_card_must_start_with_the_id():
    with pytest.raises(ValueError, match="first column"):
        cards.Card("bad", am_cards.LIST_FIELDS[1:])


# --------------------------------------------------------------------------- queries


def _grow(mesh, personas, count: int) -> None:
    """`count` pairs of tickets: a parent with an assignee, a child with a label of its own and "shared"."""
    for index in range(count):
        label = LabelFactory(project=mesh.project, name=f"grown{Ticket.objects.count()}-{index}")
        parent = ticket_services.ticket_create(
            project=mesh.project, by=personas.member, title="Parent", assignee=personas.member
        )
        ticket_services.ticket_create(
            project=mesh.project, by=personas.member, title="Child", parent=parent, labels=[label.name, "shared"]
        )


# What a page costs at 3 tickets: API key, organization, count, page ids, rows, labels (PQL: + its scope).
LIST_QUERY_PINS = {"": 6, "?labels=shared,other&status=todo": 6, "?q=ORDER BY updated DESC": 7}


@pytest.mark.parametrize(("query", "pin"), LIST_QUERY_PINS.items())
def test_list_queries_do_not_grow(mesh, personas, django_assert_max_num_queries, query, pin):
    client = _key(personas.member)
    LabelFactory(project=mesh.project, name="shared")
    url = f"{BASE}/tickets{query}&limit=100" if query else f"{BASE}/tickets?limit=100"
    for total in (3, 40):
        _grow(mesh, personas, (total - Ticket.objects.count() + 1) // 2)
        assert Ticket.objects.count() >= total
        client.get(url)  # warm-up: one-off writes (the key's last use) are not the read's
        with django_assert_max_num_queries(pin):
            body = client.get(url).json()
        assert len(body["tickets"]) >= total // 2


def test_ticket_queries_do_not_grow(mesh, personas, django_assert_max_num_queries):
    client = _key(personas.member)
    parent = ticket_services.ticket_create(project=mesh.project, by=personas.member, title="Parent")
    bare = ticket_services.ticket_create(project=mesh.project, by=personas.member, title="Bare", parent=parent)
    names = [LabelFactory(project=mesh.project, name=f"l{index}").name for index in range(10)]
    rich = ticket_services.ticket_create(
        project=mesh.project, by=personas.member, title="Rich", parent=parent, labels=names, assignee=personas.member
    )
    for _ in range(10):
        ticket_services.comment_create(ticket=rich, by=personas.member, body="a comment")
    for ticket in (bare, rich):
        url = f"{BASE}/tickets/{ticket.key}"
        client.get(url)
        with django_assert_max_num_queries(6):  # key, organization, project, ticket id, row, labels
            body = client.get(url).json()["ticket"]
        assert len(body["labels"]) == (10 if ticket is rich else 0)
