"""The Import page in project settings: permissions, upload → dry run → import, progress JSON."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from imports import services
from imports.models import ImportRun
from tests.imports.conftest import FIXTURES, snapshot
from tickets.models import Ticket, TicketRelation

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    settings.TASKS = IMMEDIATE


def page(project) -> str:
    return f"/projects/{project.namespace}/{project.path}/settings/import"


def client_for(personas, role: str) -> Client:
    client = Client()
    user = personas.user(role)
    if user is not None:
        client.force_login(user)
    return client


def upload(name: str = "jira.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (FIXTURES / name).read_bytes(), content_type="text/csv")


def test_only_admins_and_owners_see_the_page(personas):
    statuses = {
        role: client_for(personas, role).get(page(personas.project)).status_code
        for role in ("outsider", "viewer", "member", "admin", "owner")
    }
    assert statuses == {"outsider": 404, "viewer": 403, "member": 403, "admin": 200, "owner": 200}
    assert client_for(personas, "anonymous").get(page(personas.project)).status_code == 302  # to the login page


def test_only_admins_and_owners_import(personas, django_capture_on_commit_callbacks):
    for role, status in (("outsider", 404), ("viewer", 403), ("member", 403)):
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(personas, role).post(page(personas.project), {"source": "jira-csv", "file": upload()})
        assert response.status_code == status, role
    assert not ImportRun.objects.exists()
    for role in ("admin", "owner"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(personas, role).post(page(personas.project), {"source": "jira-csv", "file": upload()})
        assert response.status_code == 302, role
    assert ImportRun.objects.count() == 2


def test_the_page_links_the_exports_from_settings(personas):
    settings_page = client_for(personas, "admin").get("/projects/olivia/blog/settings").content.decode()
    assert page(personas.project) in settings_page
    html = client_for(personas, "admin").get(page(personas.project)).content.decode()
    assert "/api/v1/projects/blog/export.csv" in html and "/api/v1/projects/blog/export.json" in html
    # No script of its own (CSP): progress is a <progress> bar and a meta refresh while running.
    template = (Path(__file__).parents[2] / "templates" / "web" / "imports.html").read_text()
    assert "<script" not in template and not re.search(r"\son[a-z]+=", template)


def test_the_page_queries_do_not_grow_with_runs(people, django_assert_max_num_queries):
    def add_runs(count: int) -> None:
        for _ in range(count):
            ImportRun.objects.create(
                project=people.project,
                source="jira-csv",
                filename="x.csv",
                status="done",
                dry_run=True,
                created_by=people.owner,
                report={
                    "tickets": 3,
                    "users_matched": {"a": "adam (by name)"},
                    "custom_fields": {"S": {"type": "text", "tickets": 1}},
                },
            )

    client = client_for(people, "admin")
    add_runs(1)
    with django_assert_max_num_queries(20) as one:
        assert client.get(page(people.project)).status_code == 200
    add_runs(12)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get(page(people.project)).status_code == 200


def test_dry_run_then_import(people, django_capture_on_commit_callbacks):
    client = client_for(people, "admin")
    before = snapshot(people.project)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page(people.project), {"source": "jira-csv", "file": upload()})
    assert response.status_code == 302
    dry = ImportRun.objects.get()
    assert (dry.status, dry.dry_run, dry.total) == ("done", True, 3)
    assert snapshot(people.project) == before  # the check changed nothing
    html = client.get(page(people.project)).content.decode()
    assert "Would import <strong>3</strong> tickets (3 new, 0 updated)" in html
    assert "Zed Stranger" in html  # an unknown user
    assert "Adam Admin → adam (by name)" in html
    # (PostgreSQL's jsonb keeps a report's keys in an order of its own.)
    assert "Custom fields: " in html
    assert "Severity (text, to create, 2 tickets)" in html and "Customer (text, to create, 1 tickets)" in html
    assert "Links: " in html
    assert "blocks 1" in html and "relates_to 1" in html and "duplicates 1" in html
    assert "1 to tickets outside the file" in html  # OLD-4
    assert 'http-equiv="refresh"' not in html  # nothing running

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page(people.project), {"run": str(dry.pk)})
    assert response.status_code == 302
    run = ImportRun.objects.exclude(pk=dry.pk).get()
    assert (run.status, run.dry_run, run.progress, run.total) == ("done", False, 3, 3)
    assert not run.file  # the upload is gone once imported
    response = client.post(page(people.project), {"run": str(dry.pk)}, follow=True)
    assert "That dry run&#x27;s file is no longer there; upload it again." in response.content.decode()
    assert Ticket.objects.filter(project=people.project).count() == 3
    status = client.get(f"{page(people.project)}/runs/{run.pk}").json()
    assert status["status"] == "done" and status["percent"] == 100 and status["report"]["tickets_created"] == 3
    assert status["report"]["custom_fields"]["Budget"] == {"type": "number", "created": True, "tickets": 2}
    assert status["report"]["links"] == {"blocks": 1, "duplicates": 1, "relates_to": 1}
    assert "not_applied" not in status["report"]
    assert people.project.custom_fields.count() == 4 and TicketRelation.objects.count() == 3


def test_the_mapping_form_feeds_the_csv_import(people, django_capture_on_commit_callbacks):
    data = {"source": "csv", "file": upload("tickets.csv"), "map_title": "Name", "map_id": "Ref", "map_status": "Stage"}
    with django_capture_on_commit_callbacks(execute=True):
        client_for(people, "owner").post(page(people.project), data)
    run = ImportRun.objects.get()
    assert run.mapping == {"id": "Ref", "title": "Name", "status": "Stage"}
    assert run.status == "done" and run.report["tickets"] == 3


def test_a_bad_mapping_or_source_is_a_message(people):
    client = client_for(people, "owner")
    response = client.post(page(people.project), {"source": "csv", "file": upload("tickets.csv")}, follow=True)
    assert "map a column to title" in response.content.decode()
    response = client.post(page(people.project), {"source": "nope", "file": upload()}, follow=True)
    assert "Unknown source" in response.content.decode()
    response = client.post(page(people.project), {"source": "jira-csv"}, follow=True)
    assert "Choose a file to import." in response.content.decode()
    assert not ImportRun.objects.exists()


def test_a_broken_file_fails_the_run_with_where(people, django_capture_on_commit_callbacks):
    bad = SimpleUploadedFile("bad.csv", b"Summary,Issue key\nOk,A-1\n,A-2\n")
    with django_capture_on_commit_callbacks(execute=True):
        client_for(people, "owner").post(page(people.project), {"source": "jira-csv", "file": bad})
    run = ImportRun.objects.get()
    assert run.status == "failed" and run.error == "line 3: A-2 has no summary."
    html = client_for(people, "owner").get(page(people.project)).content.decode()
    assert "Nothing was imported." in html


def test_a_running_import_survives_a_reload(people):
    run = ImportRun.objects.create(
        project=people.project, source="jira-csv", status="running", total=200, created_by=people.owner
    )
    from django.core.cache import caches

    caches["progress"].set(services.progress_key(run.pk), 50)
    client = client_for(people, "admin")
    html = client.get(page(people.project)).content.decode()
    assert 'http-equiv="refresh"' in html  # the page reloads itself while a run is going
    assert '<progress max="100" value="25"' in html
    status = client.get(f"{page(people.project)}/runs/{run.pk}").json()
    assert (status["status"], status["progress"], status["total"], status["percent"]) == ("running", 50, 200, 25)


def test_the_status_endpoint_is_for_admins_of_that_project(personas):
    run = ImportRun.objects.create(project=personas.project, source="github", created_by=personas.owner)
    url = f"{page(personas.project)}/runs/{run.pk}"
    statuses = {
        role: client_for(personas, role).get(url).status_code
        for role in ("outsider", "viewer", "member", "admin", "owner")
    }
    assert statuses == {"outsider": 404, "viewer": 403, "member": 403, "admin": 200, "owner": 200}
    assert client_for(personas, "owner").get(f"{page(personas.project)}/runs/{run.pk + 1}").status_code == 404


def test_a_task_delivered_twice_runs_once(people):
    run = ImportRun.objects.create(project=people.project, source="github", created_by=people.owner, dry_run=False)
    run.file.save("github.json", upload("github.json"))
    services.import_run_execute(run_id=run.pk)
    services.import_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "done" and run.report["tickets_created"] == 2
    assert Ticket.objects.filter(project=people.project).count() == 2


def test_an_abandoned_dry_runs_upload_is_deleted_by_the_next_import(people, django_capture_on_commit_callbacks):
    client = client_for(people, "admin")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(page(people.project), {"source": "jira-csv", "file": upload()})
    [old] = ImportRun.objects.all()
    name = old.file.name
    storage = ImportRun.file.field.storage
    assert storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(page(people.project), {"source": "jira-csv", "file": upload()})
    assert storage.exists(name)  # a week to import it for real
    ImportRun.objects.filter(pk=old.pk).update(created_at=timezone.now() - services.DRY_RUN_KEEP - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(page(people.project), {"source": "jira-csv", "file": upload()})
    assert not storage.exists(name)
    old.refresh_from_db()
    assert old.file.name == ""
    assert all(run.file and storage.exists(run.file.name) for run in ImportRun.objects.exclude(pk=old.pk))
    refused = client.post(page(people.project), {"run": str(old.pk)}, follow=True).content.decode()
    assert "upload it again" in refused
