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
from tickets.services.custom_fields import custom_field_create
from tickets.services.relations import relation_add

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
    # Then the links and a column per live custom field, in field order.
    assert list(rows[0]) == [*CSV_COLUMNS, "links", "Severity", "Customer", "Budget", "Go-live"]
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
    assert {k: login[k] for k in ("Severity", "Customer", "Budget", "Go-live")} == {
        "Severity": "Critical",
        "Customer": "ACME",
        "Budget": "1200.5",
        "Go-live": "2024-04-15",
    }
    assert (docs["Severity"], docs["Budget"]) == ("", "")
    # Each ticket's links as it reads them.
    assert login["links"] == "blocks BLOG-2; relates_to BLOG-3; duplicates BLOG-2"
    assert by_title["Add SSO settings page"]["links"] == "is_blocked_by BLOG-1; is_duplicated_by BLOG-1"
    assert docs["links"] == "relates_to BLOG-1"


def test_csv_joins_a_multi_select_and_writes_checkboxes(people):
    run_import(people, "jira-xml", "jira.xml")
    run_import(people, "trello", "trello.json")
    rows = list(csv.DictReader(io.StringIO(people.client("owner").get(csv_url(people.project)).content.decode())))
    by_title = {row["title"]: row for row in rows}
    assert by_title["Crash on empty cart"]["Devices"] == "iPhone; iPad"
    assert by_title["Crash on empty cart"]["Platform"] == "iOS"
    assert (by_title["New landing page"]["Signed off"], by_title["New landing page"]["Effort"]) == ("true", "3.5")


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
        {
            **t,
            "key": keys[t["key"]],
            "number": None,
            "parent": t["parent"] and keys[t["parent"]],
            "links": [[kind, keys[other]] for kind, other in t["links"]],
        }
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
    # Custom fields of the types no importer guesses, with every attribute of a definition,
    # and a link made here.
    for name, kind, extra in (
        ("Notes", "long_text", {"description": "Free text", "show_on_card": True}),
        ("Owner", "user", {"default": "mary"}),
        ("Spec", "url", {"required": True}),
        ("Hours", "number", {"unit": "h", "default": 2}),
        ("Areas", "multi_select", {"options": [{"name": "API", "color": "#aa0000"}, "UI"], "default": ["UI"]}),
        ("Reviewed", "checkbox", {}),
    ):
        custom_field_create(project=people.project, by=people.owner, name=name, type=kind, **extra)
    ticket_services.ticket_update(
        ticket=ticket,
        by=people.owner,
        custom_fields={
            "notes": "Line one\n\n- a list",
            "owner": "adam",
            "spec": "https://example.com/spec",
            "hours": 7.5,
            "areas": ["UI", "API"],
            "reviewed": False,
            "severity": "Minor",
        },
    )
    relation_add(
        ticket=ticket,
        other=people.project.tickets.get(title="Crash on empty cart"),
        kind="is_blocked_by",
        by=people.owner,
    )
    first = people.client("owner").get(json_url(people.project)).json()
    assert len(first["tickets"]) == 13 and first["members"][0]["username"] == "adam"
    types = {field["type"] for field in first["custom_fields"]}
    assert types == {"text", "long_text", "number", "date", "select", "multi_select", "user", "checkbox", "url"}
    dark = next(t for t in first["tickets"] if t["title"] == "Dark mode")
    assert dark["custom_fields"] == {
        "Severity": ["text", "Minor"],
        "Notes": ["long_text", "Line one\n\n- a list"],
        "Owner": ["user", "adam"],
        "Spec": ["url", "https://example.com/spec"],
        "Hours": ["number", 7.5],
        "Areas": ["multi_select", ["API", "UI"]],
        "Reviewed": ["checkbox", False],
    }
    crash = next(t for t in first["tickets"] if t["title"] == "Crash on empty cart")
    assert ["blocks", dark["key"]] in crash["links"] and dark["links"] == []
    areas = next(field for field in first["custom_fields"] if field["name"] == "Areas")
    assert areas["options"] == [{"name": "API", "color": "#aa0000"}, {"name": "UI", "color": "#6b7280"}]
    assert areas["default"] == ["UI"]

    copy = ProjectFactory(owner_user=people.owner, name="Copy", key="COPY")
    report = services.import_file(
        project=copy, by=people.owner, source="punt", stream=io.BytesIO(json.dumps(first).encode())
    )
    assert not report.error, report.error
    assert sorted(report.members_added) == ["adam", "mary", "victor"]
    assert copy.memberships.get(user=people.admin).role == Membership.Role.ADMIN
    second = people.client("owner").get(json_url(copy)).json()
    assert normalized(second) == normalized(first)
    assert sum(len(t["links"]) for t in second["tickets"]) == 6
    # And once more is the same project again (idempotent by the archive's keys).
    again = services.import_file(
        project=copy, by=people.owner, source="punt", stream=io.BytesIO(json.dumps(first).encode())
    )
    assert (again.tickets_created, again.tickets_updated) == (0, 13)
    assert normalized(people.client("owner").get(json_url(copy)).json()) == normalized(first)
