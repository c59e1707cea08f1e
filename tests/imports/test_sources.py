"""Each source's fixture imported: counts, fields, people, comments, links, dates; re-imports
change nothing; dry runs change nothing; a broken file rolls back and says where."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest

from imports import services
from imports.models import SourceMap
from punt.errors import Invalid
from tests.imports.conftest import (
    FIXTURE_RUNS,
    FIXTURES,
    custom_field_definitions,
    custom_values_by_title,
    links_by_title,
    run_import,
    snapshot,
)
from tickets.models import ChecklistItem, CustomField, Event, Ticket, TicketRelation
from tickets.services import ticket_update
from tickets.services.custom_fields import custom_field_create
from tickets.services.relations import relation_add

pytestmark = pytest.mark.django_db


def ticket(project, title: str) -> Ticket:
    return Ticket.objects.select_related("column", "assignee", "reporter", "sprint", "parent").get(
        project=project, title=title
    )


def comments(t: Ticket) -> list[Event]:
    return list(Event.objects.filter(ticket=t, kind=Event.Kind.COMMENT).select_related("author").order_by("created_at"))


def test_jira_csv(people):
    report = run_import(people, "jira-csv", "jira.csv")
    assert not report.error
    assert (report.tickets, report.tickets_created, report.comments_created) == (3, 3, 2)
    project = people.project
    login = ticket(project, "Login fails with SSO")
    assert (login.type, login.priority, login.column.name, login.state) == ("bug", "urgent", "In Progress", "opened")
    assert (login.assignee, login.reporter) == (people.admin, people.owner)
    assert sorted(label.name for label in login.labels.all()) == ["Backend", "auth", "sso"]
    assert login.sprint.name == "Sprint 2"  # the last of the repeated Sprint columns
    assert login.estimate == 5
    assert login.due_date == date(2024, 3, 20)
    assert login.created_at == datetime(2024, 3, 3, 9, 15, tzinfo=UTC)
    assert login.updated_at == datetime(2024, 3, 5, 16, 30, tzinfo=UTC)
    assert login.body.startswith("Users see a 500 after the IdP redirect.")
    assert "Imported from Jira JR-1." in login.body
    first, second = comments(login)
    assert (first.author, first.text) == (people.admin, "I can reproduce it; looking at the callback.")
    assert first.created_at == datetime(2024, 3, 4, 10, 0, tzinfo=UTC)
    # An unknown author: no user, their name kept in the text.
    assert second.author is None
    assert second.text == "Originally by Zed Stranger:\n\nSame here, blocking our rollout."
    docs = ticket(project, "Write SSO docs")
    assert (docs.type, docs.column.name, docs.state, docs.parent) == ("subtask", "Done", "closed", login)
    assert docs.closed_at == datetime(2024, 3, 6, 9, 0, tzinfo=UTC)
    assert report.users_unknown == {"Zed Stranger": 1}
    # Custom fields are made with the type their values suggest and hold the values.
    assert report.custom_fields == {
        "Severity": {"type": "text", "created": True, "tickets": 2},
        "Customer": {"type": "text", "created": True, "tickets": 1},
        "Budget": {"type": "number", "created": True, "tickets": 2},
        "Go-live": {"type": "date", "created": True, "tickets": 1},
    }
    values = custom_values_by_title(project)
    assert values["Login fails with SSO"] == {
        "severity": "Critical",
        "customer": "ACME",
        "budget": 1200.5,
        "go_live": "2024-04-15",
    }
    assert values["Add SSO settings page"] == {"severity": "Minor", "budget": 300}
    # Links: JR-1 -> JR-2 "Blocks" is listed from both ends and made once; the inward
    # "Duplicate" on JR-2 is JR-1 duplicating it; the link to OLD-4 (not in the file) is named.
    assert report.links == {"blocks": 1, "relates_to": 1, "duplicates": 1}
    assert links_by_title(project) == [
        ("Login fails with SSO", "blocks", "Add SSO settings page"),
        ("Login fails with SSO", "duplicates", "Add SSO settings page"),
        ("Login fails with SSO", "relates_to", "Write SSO docs"),
    ]
    assert report.links_unresolved == 1
    assert "1 link(s) to tickets not in the file or project, left out: OLD-4" in report.warnings
    assert report.sprints_created == ["Sprint 2"]


def test_jira_xml(people):
    report = run_import(people, "jira-xml", "jira.xml")
    assert not report.error
    project = people.project
    crash = ticket(project, "Crash on empty cart")
    assert (crash.type, crash.priority, crash.column.name, crash.column.category) == (
        "bug",
        "high",
        "In Review",
        "in_review",
    )
    assert crash.assignee == people.member and crash.reporter is None
    assert "Reported by Zed Stranger." in crash.body and "- open cart" in crash.body
    assert crash.created_at == datetime(2024, 3, 5, 9, 0, tzinfo=UTC)
    assert crash.due_date == date(2024, 3, 15)
    assert crash.estimate == 8 and crash.sprint.name == "JX Sprint 4"
    assert sorted(label.name for label in crash.labels.all()) == ["Checkout", "crash", "mobile"]
    texts = [(c.author, c.text) for c in comments(crash)]
    assert texts == [(people.member, "Looking into it."), (None, "Originally by zed:\n\nAny news?")]
    timeout = ticket(project, "Payment provider timeout")
    assert (timeout.state, timeout.column.name, timeout.assignee, timeout.parent) == ("closed", "Closed", None, crash)
    assert timeout.closed_at == datetime(2024, 3, 7, 15, 45, tzinfo=UTC)
    # JX-2 blocks JX-1, listed from both ends: one link. JX-2 duplicates JX-1.
    assert report.links == {"blocks": 1, "duplicates": 1}
    assert links_by_title(project) == [
        ("Payment provider timeout", "blocks", "Crash on empty cart"),
        ("Payment provider timeout", "duplicates", "Crash on empty cart"),
    ]
    assert report.links_unresolved == 1 and "OLD-7" in report.warnings[-1]
    # Types from Jira's field types: select lists, multi selects (options made as values
    # appear), number and date pickers.
    assert report.custom_fields == {
        "Platform": {"type": "select", "created": True, "tickets": 2, "options_created": ["iOS", "Android"]},
        "Found on": {"type": "date", "created": True, "tickets": 1},
        "Devices": {
            "type": "multi_select",
            "created": True,
            "tickets": 2,
            "options_created": ["iPhone", "iPad", "Pixel"],
        },
        "Affected users": {"type": "number", "created": True, "tickets": 1},
    }
    values = custom_values_by_title(project)
    assert values["Crash on empty cart"] == {
        "platform": "iOS",
        "found_on": "2024-03-04",
        "devices": ["iPhone", "iPad"],
        "affected_users": 1250,
    }
    assert values["Payment provider timeout"] == {"platform": "Android", "devices": ["Pixel"]}


def test_trello(people):
    report = run_import(people, "trello", "trello.json")
    assert not report.error
    project = people.project
    assert report.tickets == 3  # the archived card and list are left out
    assert [c.name for c in project.columns.order_by("order")][-3:] == ["Ideas", "Doing", "Shipped"]
    landing = ticket(project, "New landing page")
    assert landing.column.name == "Doing" and landing.column.category == "in_progress"
    assert landing.assignee == people.member
    # The card's other members follow it; the one without an account is named in the text.
    assert set(landing.watchers.all()) == {people.member, people.admin}
    assert "Also following: Tina Trello." in landing.body
    assert {(label.name, label.color) for label in landing.labels.all()} == {
        ("Urgent", "#EB5A46"),
        ("Design", "#C377E0"),
    }
    assert landing.created_at == datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
    assert landing.due_date == date(2024, 4, 1)
    assert "[mockup.png](https://trello.com/1/cards/x/attachments/a1/download/mockup.png)" in landing.body
    assert list(ChecklistItem.objects.filter(ticket=landing).values_list("text", "done")) == [
        ("Sections: Hero", True),
        ("Sections: Pricing", False),
    ]
    assert [(c.author, c.text) for c in comments(landing)] == [
        (people.member, "Started on the hero."),
        (None, "Originally by Tina Trello:\n\nCopy is ready."),
    ]
    footer = ticket(project, "Fix footer links")
    assert footer.state == "closed" and "Assigned to Tina Trello." in footer.body
    assert [label.name for label in footer.labels.all()] == ["sky"]  # a colour-only label
    # The card's creation time comes from its id when there is no createCard action.
    assert footer.created_at == datetime.fromtimestamp(0x65E0A1D0, tz=UTC)
    # The board's custom fields, with the list's options and colours, and the card's values.
    assert [(name, kind, options) for name, _, kind, _, _, _, options in custom_field_definitions(project)] == [
        ("Effort", "number", []),
        ("Launch date", "date", []),
        ("Team", "select", [("Web", "#0079bf"), ("Ops", "#6b7280")]),
        ("Signed off", "checkbox", []),
        ("Client", "text", []),
    ]
    assert custom_values_by_title(project)["New landing page"] == {
        "effort": 3.5,
        "launch_date": "2024-04-15",
        "team": "Web",
        "signed_off": True,
        "client": "Globex",
    }


def test_github(people):
    report = run_import(people, "github", "github.json")
    assert not report.error
    project = people.project
    dark = ticket(project, "Dark mode")
    assert (dark.state, dark.assignee, dark.reporter, dark.sprint.name) == (
        "opened",
        people.member,
        people.admin,
        "v1.0",
    )
    assert "Imported from GitHub issue #12." in dark.body
    assert {(label.name, label.color) for label in dark.labels.all()} == {("enhancement", "#A2EEEF"), ("ui", "#1D76DB")}
    assert [(c.author, c.text) for c in comments(dark)] == [
        (people.member, "On it."),
        (None, "Originally by octocat:\n\n+1 from me"),
    ]
    crash = ticket(project, "Crash when offline")
    assert (crash.type, crash.state, crash.column.category) == ("bug", "closed", "done")
    assert crash.closed_at == datetime(2024, 1, 20, 18, 0, tzinfo=UTC)
    assert crash.created_at == datetime(2024, 1, 10, 8, 0, tzinfo=UTC)
    assert project.sprints.get(name="v1.0").end_date == date(2024, 5, 1)


def test_generic_csv(people):
    report = run_import(
        people,
        "csv",
        "tickets.csv",
        mapping={
            "id": "Ref",
            "title": "Name",
            "assignee": "Owner",
            "status": "Stage",
            "labels": "Tags",
            "estimate": "Points",
            "created": "Opened",
        },
    )
    assert not report.error
    project = people.project
    ci = ticket(project, "Set up CI")
    assert ci.assignee == people.member  # by e-mail
    assert (ci.column.name, ci.estimate) == ("Doing", 3)
    assert sorted(label.name for label in ci.labels.all()) == ["ci", "infra"]
    assert ci.created_at == datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    # Unmapped columns become custom fields.
    assert set(report.custom_fields) == {"Details", "Due", "Team"}
    changelog = ticket(project, "Write changelog")
    assert changelog.state == "closed" and "Assigned to Nobody Known." in changelog.body
    assert ticket(project, "Plan Q3").column.category == "backlog"


def test_generic_csv_needs_a_title_mapping(people):
    with pytest.raises(Invalid) as caught:
        run_import(people, "csv", "tickets.csv", mapping={"id": "Ref"})
    assert caught.value.details == [
        {"field": "mapping", "message": "the mapping: map a column to title (e.g. title=Summary)."}
    ]


@pytest.mark.parametrize(("source", "name", "options"), FIXTURE_RUNS)
def test_importing_twice_is_importing_once(people, source, name, options):
    run_import(people, source, name, **options)
    once = snapshot(people.project)
    again = run_import(people, source, name, **options)
    assert not again.error
    assert again.tickets_created == 0 and again.tickets_updated == again.tickets
    assert again.comments_created == 0
    # The same custom values (no second row of a multi select) and links, no field made twice.
    assert snapshot(people.project) == once
    assert not any(info.get("created") or info.get("options_created") for info in again.custom_fields.values())
    assert again.links == {} and again.links_existing == len(once["links"])


@pytest.mark.parametrize(("source", "name", "options"), FIXTURE_RUNS)
def test_dry_run_changes_nothing(people, source, name, options):
    before = snapshot(people.project)
    report = run_import(people, source, name, dry_run=True, **options)
    assert not report.error and report.dry_run
    assert report.tickets_created == report.tickets > 0
    assert snapshot(people.project) == before


def test_a_reimport_updates_what_changed(people):
    run_import(people, "jira-csv", "jira.csv")
    changed = (people.project, "Login fails with SSO")
    text = (FIXTURES / "jira.csv").read_text(encoding="utf-8")
    text = text.replace("Login fails with SSO", "Login fails with SAML SSO").replace("Highest", "Low")
    report = services.import_file(
        project=people.project, by=people.owner, source="jira-csv", stream=io.BytesIO(text.encode())
    )
    assert (report.tickets_created, report.tickets_updated) == (0, 3)
    updated = ticket(changed[0], "Login fails with SAML SSO")
    assert updated.priority == "low" and updated.number == 1
    assert Ticket.objects.filter(project=people.project).count() == 3


def test_a_reimport_updates_custom_values(people):
    run_import(people, "jira-csv", "jira.csv")
    # A field set here since: the source does not know it, a re-import leaves it.
    custom_field_create(project=people.project, by=people.owner, name="Reviewed", type="checkbox")
    login = people.project.tickets.get(title="Login fails with SSO")
    ticket_update(ticket=login, by=people.owner, custom_fields={"reviewed": True})
    text = (FIXTURES / "jira.csv").read_text(encoding="utf-8")
    # JR-1's budget changes; JR-2's severity is gone at the source.
    text = text.replace("1200.50", "99").replace(",Minor,", ",,")
    report = services.import_file(
        project=people.project, by=people.owner, source="jira-csv", stream=io.BytesIO(text.encode())
    )
    assert not report.error
    values = custom_values_by_title(people.project)
    assert values["Login fails with SSO"]["budget"] == 99
    assert values["Login fails with SSO"]["reviewed"] is True
    assert values["Add SSO settings page"] == {"budget": 300}
    assert values["(rows)"] == 6
    assert people.project.custom_fields.count() == 5


def test_fields_are_matched_by_name_in_any_case(people):
    field = custom_field_create(project=people.project, by=people.owner, name="BUDGET", type="number", unit="EUR")
    report = run_import(people, "jira-csv", "jira.csv")
    assert report.custom_fields["BUDGET"] == {"type": "number", "created": False, "tickets": 2}
    assert "Budget" not in report.custom_fields
    assert custom_values_by_title(people.project)["Add SSO settings page"]["budget"] == 300
    assert people.project.custom_fields.filter(name__iexact="budget").get() == field


def test_a_bad_custom_value_rolls_back_and_says_where(people):
    custom_field_create(project=people.project, by=people.owner, name="Budget", type="number")
    before = snapshot(people.project)
    text = (FIXTURES / "jira.csv").read_text(encoding="utf-8").replace("1200.50", "lots")
    report = services.import_file(
        project=people.project, by=people.owner, source="jira-csv", stream=io.BytesIO(text.encode())
    )
    assert report.error == {"where": "line 4 (JR-1)", "message": "custom field 'Budget': Must be a number."}, (
        report.error
    )
    assert report.tickets_created == 0
    assert snapshot(people.project) == before


def test_a_select_value_adds_the_option_to_an_existing_field(people):
    custom_field_create(
        project=people.project,
        by=people.owner,
        name="Platform",
        type="select",
        options=[{"name": "iOS", "color": "#112233"}],
    )
    report = run_import(people, "jira-xml", "jira.xml")
    assert report.custom_fields["Platform"] == {
        "type": "select",
        "created": False,
        "tickets": 2,
        "options_created": ["Android"],
    }
    definitions = {name: options for name, _, _, _, _, _, options in custom_field_definitions(people.project)}
    assert definitions["Platform"] == [("iOS", "#112233"), ("Android", "#6b7280")]


def test_the_dry_run_reports_fields_and_links_and_writes_nothing(people):
    before = snapshot(people.project)
    report = run_import(people, "jira-xml", "jira.xml", dry_run=True)
    assert report.dry_run and not report.error
    assert report.custom_fields["Devices"]["created"] is True
    assert report.custom_fields["Devices"]["options_created"] == ["iPhone", "iPad", "Pixel"]
    assert report.custom_values == 7
    assert report.links == {"blocks": 1, "duplicates": 1} and report.links_unresolved == 1
    assert snapshot(people.project) == before
    assert not CustomField.objects.exists() and not TicketRelation.objects.exists()


def test_links_already_there_are_kept_and_cycles_left_out(people):
    content = (
        "Summary,Issue key,Outward issue link (Blocks),Outward issue link (Relates)\n"
        "One,CY-1,CY-2,CY-2\n"
        "Two,CY-2,CY-3,CY-1\n"
        "Three,CY-3,CY-1,\n"
    )
    report = services.import_file(
        project=people.project, by=people.owner, source="jira-csv", stream=io.BytesIO(content.encode())
    )
    assert not report.error
    # One blocks Two blocks Three: Three blocks One would close a cycle (the relation
    # service's rule); relates_to has no direction, so it is one link.
    assert links_by_title(people.project) == [
        ("One", "blocks", "Two"),
        ("One", "relates_to", "Two"),
        ("Two", "blocks", "Three"),
    ]
    key = people.project.key
    assert report.warnings == [f"1 blocks link(s) left out: each would close a cycle ({key}-3 blocks {key}-1)."]
    # A link made by hand since is kept; the import's are not made twice.
    one, three = (people.project.tickets.get(title=title) for title in ("One", "Three"))
    relation_add(ticket=three, other=one, kind="relates_to", by=people.owner)
    again = services.import_file(
        project=people.project, by=people.owner, source="jira-csv", stream=io.BytesIO(content.encode())
    )
    assert again.links == {} and again.links_existing == 3
    assert len(links_by_title(people.project)) == 4


BROKEN = [
    ("jira-csv", b"Summary,Issue key,Created\nFine,JR-1,03/Mar/24 9:15 AM\nBad date,JR-2,yesterday-ish\n", "line 3"),
    ("jira-csv", b"Summary,Issue key\nOne,JR-1\nTwo,JR-1\n", "line 3"),
    ("jira-xml", b"<rss><channel><item><key>JX-1</key><summary>Ok</summary></item><item><key>JX-2", "line 1"),
    ("jira-xml", b"<rss><channel><item><key>JX-1</key></item></channel></rss>", "item 1"),
    ("trello", b'{"lists": [], "cards": [', "line 1"),
    ("github", b'[{"number": 1, "title": "Fine"}, {"number": 2}]', "issue 2"),
    (
        "punt",
        b'{"format": "punt-archive", "version": 1, "tickets": [{"key": "A-1", "title": "x"}, {"title": "y"}]}',
        "ticket 2",
    ),
]


@pytest.mark.parametrize(("source", "content", "where"), BROKEN)
def test_a_broken_file_rolls_back_and_says_where(people, source, content, where):
    before = snapshot(people.project)
    report = services.import_file(project=people.project, by=people.owner, source=source, stream=io.BytesIO(content))
    assert report.error["where"].startswith(where), report.error
    assert report.tickets_created == 0
    assert snapshot(people.project) == before


def test_a_failure_after_many_batches_leaves_nothing(people):
    rows = "".join(f"Ticket {n},BIG-{n}\n" for n in range(1, 1200))
    content = f"Summary,Issue key\n{rows},BIG-9999\n".encode()  # the last row has no summary
    report = services.import_file(
        project=people.project, by=people.owner, source="jira-csv", stream=io.BytesIO(content)
    )
    assert report.error["where"] == "line 1201"
    assert not Ticket.objects.filter(project=people.project).exists()
    assert not SourceMap.objects.exists()
    assert not people.project.labels.exists()


def test_the_original_key_is_searchable(people, api_client):
    run_import(people, "jira-csv", "jira.csv")
    run_import(people, "github", "github.json")
    api_client.force_authenticate(people.member)
    for query, title in (("JR-3", "Write SSO docs"), ("#12", "Dark mode")):
        response = api_client.get(f"/api/v1/projects/{people.project.slug}/cards", {"q": query})
        assert response.status_code == 200, response.content
        titles = [card["title"] for card in response.json()["results"]]
        assert titles == [title], (query, titles)
    assert (
        SourceMap.objects.get(reference="JR-3", kind="ticket").object_id == ticket(people.project, "Write SSO docs").pk
    )


def test_a_project_member_matched_by_email_elsewhere_is_added(people):
    from tests.factories import UserFactory

    stranger = UserFactory(username="quinn", email="quinn@example.com")
    content = b"Name,Owner\nHello,quinn@example.com\n"
    report = services.import_file(
        project=people.project,
        by=people.owner,
        source="csv",
        stream=io.BytesIO(content),
        mapping={"title": "Name", "assignee": "Owner"},
    )
    assert report.members_added == ["quinn"]
    assert ticket(people.project, "Hello").assignee == stranger
    assert people.project.memberships.get(user=stranger).role == "member"


def test_one_summary_event_instead_of_one_per_ticket(people, monkeypatch, django_capture_on_commit_callbacks):
    published: list[tuple[str, dict]] = []
    monkeypatch.setattr("punt.events.publish", lambda event, payload, **kw: published.append((event, payload)))
    with django_capture_on_commit_callbacks(execute=True):
        run_import(people, "jira-csv", "jira.csv")
    names = [name for name, _ in published]
    assert not [name for name in names if name.startswith(("board.card", "comment."))]
    assert names.count("project.imported") == 1
    summary = dict(published)["project.imported"]
    assert summary["tickets_created"] == 3 and summary["source"] == "jira-csv"
    published.clear()
    run_import(people, "jira-csv", "jira.csv", dry_run=True)
    assert "project.imported" not in [name for name, _ in published]


def test_options_added_by_values_keep_the_services_limit(people):
    options = [f"Option {n}" for n in range(199)]
    custom_field_create(project=people.project, by=people.owner, name="Team", type="select", options=options)
    before = snapshot(people.project)
    report = run_import(people, "csv", "tickets.csv", mapping={"title": "Name", "id": "Ref"})
    assert report.error == {
        "where": "custom field 'Team'",
        "message": "its values name 201 options; a field has at most 200.",
    }
    assert snapshot(people.project) == before
