"""manage.py punt_import."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.imports.conftest import FIXTURES, snapshot
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("punt_import", *args, stdout=out)
    return out.getvalue()


def test_imports_as_the_owner_by_default(people):
    output = run("jira-csv", str(FIXTURES / "jira.csv"), "--project", "BLOG")
    assert "Tickets: 3 (3 new, 0 updated)" in output
    assert "Unknown user Zed Stranger (1 mentions): kept as text" in output
    assert "Custom field Severity (text, created): 2 tickets" in output
    assert "Custom field Budget (number, created): 2 tickets" in output
    assert "Links blocks: 1" in output and "Links duplicates: 1" in output
    assert "Links to tickets not in the file or project: 1" in output
    assert "Not applied" not in output
    assert Ticket.objects.filter(project=people.project).count() == 3
    assert people.project.labels.filter(name="auth").exists()


def test_dry_run_and_json(people):
    before = snapshot(people.project)
    output = run("github", str(FIXTURES / "github.json"), "--project", "blog", "--dry-run", "--json")
    report = json.loads(output)
    assert report["dry_run"] is True and report["tickets_created"] == 2
    assert snapshot(people.project) == before


def test_generic_csv_mapping(people):
    output = run(
        "csv",
        str(FIXTURES / "tickets.csv"),
        "--project",
        "BLOG",
        "--as",
        "adam",
        "--map",
        "title=Name",
        "--map",
        "id=Ref",
        "--map",
        "assignee=Owner",
    )
    assert "Tickets: 3 (3 new" in output
    assert Ticket.objects.get(project=people.project, title="Set up CI").assignee == people.member


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["jira-csv", "FILE", "--project", "NOPE"], "No project with the key or slug 'NOPE'"),
        (["jira-csv", "FILE", "--project", "BLOG", "--as", "mary"], "mary is not an admin or owner of BLOG."),
        (["jira-csv", "FILE", "--project", "BLOG", "--as", "ghost"], "No active user 'ghost'."),
        (["csv", "FILE", "--project", "BLOG", "--map", "nonsense"], "Write each mapping as field=Column"),
        (["csv", "FILE", "--project", "BLOG", "--map", "colour=X"], "unknown field(s) colour"),
        (["jira-csv", "missing.csv", "--project", "BLOG"], "Cannot read missing.csv"),
    ],
)
def test_refusals(people, args, message):
    args = [str(FIXTURES / "jira.csv") if a == "FILE" else a for a in args]
    with pytest.raises(CommandError) as caught:
        run(*args)
    assert message in str(caught.value)


def test_a_broken_file_imports_nothing(people, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Summary,Issue key,Due Date\nOk,A-1,\nBad,A-2,someday\n")
    with pytest.raises(CommandError) as caught:
        run("jira-csv", str(bad), "--project", "BLOG")
    assert str(caught.value) == "Nothing was imported: line 3 (A-2): cannot read the date 'someday'."
    assert not Ticket.objects.filter(project=people.project).exists()
