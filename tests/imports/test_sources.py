"""Each source's fixture imported: counts, fields, people, comments, links, dates; re-imports
change nothing; dry runs change nothing; a broken file rolls back and says where."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest

from imports import services
from imports.models import SourceMap
from punt.errors import Invalid
from tests.imports.conftest import FIXTURE_RUNS, FIXTURES, run_import, snapshot
from tickets.models import ChecklistItem, Event, Ticket

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
    assert report.links == {"blocks": 1, "relates_to": 1, "duplicated_by": 1}
    assert report.custom_fields == {
        "Severity": {"type": "text", "tickets": 2},
        "Customer": {"type": "text", "tickets": 1},
    }
    assert report.not_applied == ["custom fields", "links"]
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
    assert report.links == {"blocked_by": 1, "blocks": 1}
    assert report.custom_fields == {
        "Platform": {"type": "text", "tickets": 1},
        "Found on": {"type": "date", "tickets": 1},
    }


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
    assert snapshot(people.project) == once


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
