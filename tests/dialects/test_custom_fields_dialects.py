"""Custom field values (issue 21) in the dialects.

PUNT (/api/): tickets carry `custom_fields` ({key: value}) and take it on create and update.
AgentsMesh (seed 002) and GitHub-v3 (seed 003): their answers are the documents' shapes exactly
(test_*_conformance hold every key), so they carry no values; both take `custom_fields` on
writes, through the same services, with the same errors.
"""

from __future__ import annotations

import pytest

from tests.dialects.conftest import query_count
from tests.factories import TicketFactory
from tickets import services as ticket_services
from tickets.custom_field_selectors import custom_values_of
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

GH = "/api/v3/projects/olivia/blog"
AM = "/api/v1/ext/orgs/acme"


def make_fields(project, by):
    ticket_services.custom_field_create(
        project=project, by=by, name="Severity", type="select", options=[{"name": "S1"}, {"name": "S2"}]
    )
    ticket_services.custom_field_create(project=project, by=by, name="Effort", type="number", default=1)


@pytest.fixture
def blog_fields(personas):
    make_fields(personas.project, personas.owner)


def punt_url(personas, suffix=""):
    return f"/api/projects/{personas.project.pk}{suffix}"


# --- PUNT -------------------------------------------------------------------------------


def test_punt_create_read_update(personas, blog_fields):
    client = personas.client("member")
    created = client.post(
        punt_url(personas, "/tickets"), {"title": "T", "custom_fields": {"severity": "S2"}}, format="json"
    )
    assert created.status_code == 201
    assert created.json()["custom_fields"] == {"severity": "S2", "effort": 1}
    ticket_id = created.json()["id"]
    patched = client.patch(
        punt_url(personas, f"/tickets/{ticket_id}"), {"custom_fields": {"effort": 3.5, "severity": None}}, format="json"
    )
    assert patched.status_code == 200
    assert patched.json()["custom_fields"] == {"effort": 3.5}
    got = client.get(punt_url(personas, f"/tickets/{ticket_id}")).json()
    assert got["custom_fields"] == {"effort": 3.5}
    listed = client.get(punt_url(personas, "/tickets")).json()
    assert [t["custom_fields"] for t in listed] == [{"effort": 3.5}]


def test_punt_bad_values_are_400_naming_the_field(personas, blog_fields):
    client = personas.client("member")
    response = client.post(
        punt_url(personas, "/tickets"), {"title": "T", "custom_fields": {"severity": "S9"}}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["details"][0]["field"] == "custom_fields.severity"
    response = client.post(punt_url(personas, "/tickets"), {"title": "T", "custom_fields": {"nope": 1}}, format="json")
    assert response.status_code == 400
    response = client.post(punt_url(personas, "/tickets"), {"title": "T", "custom_fields": [1]}, format="json")
    assert response.status_code == 400
    assert not Ticket.objects.exists()


def test_punt_viewer_cannot_write_values(personas, blog_fields):
    ticket = TicketFactory(project=personas.project)
    statuses = personas.matrix(
        "patch", punt_url(personas, f"/tickets/{ticket.pk}"), {"custom_fields": {"severity": "S1"}}
    )
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 200, "admin": 200, "owner": 200}


def test_punt_list_query_count_does_not_grow(personas, blog_fields):
    client = personas.client("member")
    url = punt_url(personas, "/tickets")

    def grow(n):
        for _ in range(n):
            ticket = TicketFactory(project=personas.project)
            ticket_services.ticket_update(ticket=ticket, by=personas.owner, custom_fields={"severity": "S1"})

    grow(2)
    few = query_count(client, url)
    grow(10)
    assert query_count(client, url) == few
    assert all(t["custom_fields"] == {"severity": "S1"} for t in client.get(url).json())


# --- GitHub-v3 --------------------------------------------------------------------------


def test_github_writes_values_and_keeps_the_documents_shape(personas, blog_fields):
    client = personas.client("member")
    created = client.post(f"{GH}/tickets", {"title": "T", "custom_fields": {"severity": "S1"}}, format="json")
    assert created.status_code == 201
    assert "custom_fields" not in created.json()
    ticket = Ticket.objects.get(number=created.json()["number"])
    assert custom_values_of(ticket.pk) == {"severity": "S1", "effort": 1}
    edited = client.patch(f"{GH}/tickets/{ticket.number}", {"custom_fields": {"effort": 5}}, format="json")
    assert edited.status_code == 200
    assert custom_values_of(ticket.pk) == {"severity": "S1", "effort": 5}
    bad = client.patch(f"{GH}/tickets/{ticket.number}", {"custom_fields": {"effort": "x"}}, format="json")
    assert bad.status_code == 400
    assert bad.json()["details"][0]["field"] == "custom_fields.effort"
    assert (
        personas.client("viewer")
        .patch(f"{GH}/tickets/{ticket.number}", {"custom_fields": {"effort": 6}}, format="json")
        .status_code
        == 403
    )
    assert custom_values_of(ticket.pk)["effort"] == 5


# --- AgentsMesh -------------------------------------------------------------------------


def test_agentsmesh_writes_values_and_keeps_the_documents_shape(mesh, personas, key_client):
    make_fields(mesh.project, personas.owner)
    client = key_client(personas.member, ["tickets:write"])
    created = client.post(
        f"{AM}/tickets",
        {"title": "T", "type": "task", "repository_id": mesh.project.pk, "custom_fields": {"severity": "S2"}},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert "custom_fields" not in created.json()["ticket"]
    slug = created.json()["ticket"]["slug"]
    ticket = Ticket.objects.get(project=mesh.project)
    assert custom_values_of(ticket.pk) == {"severity": "S2", "effort": 1}
    updated = client.put(f"{AM}/tickets/{slug}", {"custom_fields": {"severity": "S1"}}, format="json")
    assert updated.status_code == 200
    assert custom_values_of(ticket.pk)["severity"] == "S1"
    bad = client.put(f"{AM}/tickets/{slug}", {"custom_fields": {"severity": "nope"}}, format="json")
    assert bad.status_code == 400
    assert bad.json()["details"][0]["field"] == "custom_fields.severity"
    reader = key_client(personas.member, ["tickets:read"])
    denied = reader.put(f"{AM}/tickets/{slug}", {"custom_fields": {"severity": "S2"}}, format="json")
    assert denied.status_code == 403
    viewer = key_client(personas.viewer, ["tickets:write"])
    assert viewer.put(f"{AM}/tickets/{slug}", {"custom_fields": {"severity": "S2"}}, format="json").status_code == 403
    assert custom_values_of(ticket.pk)["severity"] == "S1"
