"""GET /api/v1/projects/<slug>/export.csv and export.json: content, permissions, query counts,
and the archive's round trip through the `punt` importer."""

from __future__ import annotations

import csv
import io
import json

import pytest
from rest_framework.test import APIClient

from accounts.services import api_key_create
from imports import services
from imports.export import CSV_COLUMNS
from projects.models import Membership
from tests.factories import ProjectFactory, TicketFactory
from tests.imports.conftest import FIXTURE_RUNS, run_import
from tickets import services as ticket_services

pytestmark = pytest.mark.django_db


def csv_url(project) -> str:
    return f"/api/v1/projects/{project.slug}/export.csv"


def json_url(project) -> str:
    return f"/api/v1/projects/{project.slug}/export.json"


@pytest.mark.parametrize("url", [csv_url, json_url])
def test_only_admins_and_owners_export(personas, url):
    statuses = personas.matrix("GET", url(personas.project))
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 403, "admin": 200, "owner": 200}


@pytest.mark.parametrize("url", [csv_url, json_url])
def test_an_api_key_needs_the_projects_scope(personas, url):
    _, without = api_key_create(user=personas.owner, name="tickets only", scopes=["tickets:read"])
    _, with_scope = api_key_create(user=personas.owner, name="projects", scopes=["projects:read"])
    client = APIClient()
    response = client.get(url(personas.project), HTTP_X_API_KEY=without)
    assert response.status_code == 403
    assert response.json()["error"] == "This API key lacks the 'projects:read' scope."
    assert client.get(url(personas.project), HTTP_X_API_KEY=with_scope).status_code == 200


def test_csv_has_every_field(people):
    run_import(people, "jira-csv", "jira.csv")
    response = people.client("admin").get(csv_url(people.project))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="BLOG-tickets.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == CSV_COLUMNS
    by_title = {row["title"]: row for row in rows}
    login = by_title["Login fails with SSO"]
    assert {k: login[k] for k in ("key", "type", "status", "column", "priority", "assignee", "reporter")} == {
        "key": "BLOG-1",
        "type": "bug",
        "status": "in_progress",
        "column": "In Progress",
        "priority": "urgent",
        "assignee": "adam",
        "reporter": "olivia",
    }
    assert (login["labels"], login["sprint"], login["estimate"], login["due_date"]) == (
        "Backend, auth, sso",
        "Sprint 2",
        "5",
        "2024-03-20",
    )
    assert (login["created_at"], login["comments"]) == ("2024-03-03T09:15:00+00:00", "2")
    docs = by_title["Write SSO docs"]
    assert (docs["parent"], docs["state"], docs["closed_at"]) == ("BLOG-1", "closed", "2024-03-06T09:00:00+00:00")


def test_csv_keeps_formulas_as_text(personas):
    TicketFactory(project=personas.project, title="=HYPERLINK(1)")
    response = personas.client("owner").get(csv_url(personas.project))
    assert "'=HYPERLINK(1)" in response.content.decode()


@pytest.mark.parametrize("url", [csv_url, json_url])
def test_export_queries_do_not_grow_with_tickets(people, url, django_assert_max_num_queries):
    def fill(count: int) -> None:
        for n in range(count):
            t = TicketFactory(project=people.project, title=f"T {n}", assignee=people.member, reporter=people.owner)
            ticket_services.comment_create(ticket=t, by=people.member, body=f"comment {n}")
            ticket_services.checklist_item_add(ticket=t, by=people.member, text="item")

    fill(2)
    client = people.client("owner")
    with django_assert_max_num_queries(14) as small:
        assert client.get(url(people.project)).status_code == 200
    fill(20)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url(people.project)).status_code == 200


def normalized(archive: dict) -> dict:
    """The archive without what differs between two projects: ids, keys, the project's own names."""
    keys = {t["key"]: n for n, t in enumerate(archive["tickets"])}
    tickets = [
        {**t, "key": keys[t["key"]], "number": None, "parent": t["parent"] and keys[t["parent"]]}
        for t in archive["tickets"]
    ]
    return {**archive, "exported_at": None, "project": None, "tickets": tickets}


def test_the_archive_round_trips(people):
    for source, name, options in FIXTURE_RUNS:
        assert not run_import(people, source, name, **options).error
    # Things only PUNT has: checklists, minutes on comments, WIP limits, a sprint's dates.
    ticket = people.project.tickets.get(title="Dark mode")
    ticket_services.checklist_item_add(ticket=ticket, by=people.owner, text="Toggle in settings")
    ticket_services.comment_create(ticket=ticket, by=people.member, body="Spent time", minutes=30)
    column = people.project.columns.get(name="Doing")
    column.wip_limit = 3
    column.save()
    first = people.client("owner").get(json_url(people.project)).json()
    assert len(first["tickets"]) == 13 and first["members"][0]["username"] == "adam"

    copy = ProjectFactory(owner_user=people.owner, name="Copy", key="COPY")
    report = services.import_file(
        project=copy, by=people.owner, source="punt", stream=io.BytesIO(json.dumps(first).encode())
    )
    assert not report.error, report.error
    assert sorted(report.members_added) == ["adam", "mary", "victor"]
    assert copy.memberships.get(user=people.admin).role == Membership.Role.ADMIN
    second = people.client("owner").get(json_url(copy)).json()
    assert normalized(second) == normalized(first)
    # And once more is the same project again (idempotent by the archive's keys).
    again = services.import_file(
        project=copy, by=people.owner, source="punt", stream=io.BytesIO(json.dumps(first).encode())
    )
    assert (again.tickets_created, again.tickets_updated) == (0, 13)
    assert normalized(people.client("owner").get(json_url(copy)).json()) == normalized(first)
