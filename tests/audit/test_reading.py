"""Reading the log: who may (site admins all of it, project admins their project's part), the
filters, CSV, pages and query counts; the admin is read-only; retention."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.admin.sites import site as admin_site
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEntry
from audit.services import audit_prune, audit_record
from projects.models import Project
from tests.audit.conftest import as_user, with_key
from tests.conftest import ROLES, Personas
from tests.factories import PASSWORD, ProjectFactory, UserFactory
from tests.web.conftest import page_matrix

pytestmark = pytest.mark.django_db

ADMIN_LOG = "/api/v1/admin/audit-log"
PROJECT_LOG = "/api/v1/projects/blog/audit-log"


@pytest.fixture
def sam(db):
    return UserFactory(username="sam", is_staff=True)


def _entries(personas: Personas, count: int = 3) -> None:
    other = Project.objects.filter(key="OTHER").first() or ProjectFactory(
        owner_user=personas.outsider, name="Other", key="OTHER"
    )
    for n in range(count):
        audit_record(action="member.added", actor=personas.admin, project=personas.project, data={"n": n})
    audit_record(action="project.archived", actor=personas.outsider, project=other, target=other)
    audit_record(action="settings.changed", actor=personas.owner, before={"site_name": "A"}, after={"site_name": "B"})


# --- who may read -------------------------------------------------------------------------------


def test_admin_log_permissions(personas: Personas, sam):
    clients = {
        "anonymous": APIClient(),
        "member": as_user(personas.member),
        "project_owner": as_user(personas.owner),
        "admin_key_without_admin_scope": with_key(sam, ["projects:write", "tickets:write"]),
        "admin_key_with_admin_scope": with_key(sam, ["admin"]),
        "site_admin": as_user(sam),
    }
    assert {name: c.get(ADMIN_LOG).status_code for name, c in clients.items()} == {
        "anonymous": 401,
        "member": 403,
        "project_owner": 403,
        "admin_key_without_admin_scope": 403,
        "admin_key_with_admin_scope": 200,
        "site_admin": 200,
    }


def test_project_log_role_matrix(personas: Personas):
    assert personas.matrix("get", PROJECT_LOG) == dict(zip(ROLES, [401, 404, 403, 403, 200, 200], strict=True))


def test_project_log_with_keys(personas: Personas):
    assert with_key(personas.owner, ["tickets:read"]).get(PROJECT_LOG).status_code == 403
    assert with_key(personas.owner, ["projects:read"]).get(PROJECT_LOG).status_code == 200


def test_project_admins_see_only_their_projects_part(personas: Personas, sam):
    _entries(personas)
    body = as_user(personas.admin).get(PROJECT_LOG).json()
    assert body["count"] == 3
    assert {r["action"] for r in body["results"]} == {"member.added"}
    assert {r["project_id"] for r in body["results"]} == {personas.project.pk}
    assert as_user(sam).get(ADMIN_LOG).json()["count"] == 5


def test_an_entry_in_full(personas: Personas, sam):
    entry = audit_record(
        action="member.role_changed",
        actor=personas.admin,
        target=personas.member,
        project=personas.project,
        before={"role": "viewer"},
        after={"role": "member"},
    )
    [row] = as_user(sam).get(ADMIN_LOG).json()["results"]
    assert row == {
        "id": entry.pk,
        "at": row["at"],
        "actor": personas.admin.pk,
        "actor_name": "adam",
        "ip": None,
        "action": "member.role_changed",
        "target_type": "accounts.user",
        "target_id": str(personas.member.pk),
        "target_repr": "mary",
        "project_id": personas.project.pk,
        "project_name": "Blog",
        "before": {"role": "viewer"},
        "after": {"role": "member"},
        "data": {},
    }


# --- filters, pages, CSV --------------------------------------------------------------------------


def test_filters(personas: Personas, sam):
    _entries(personas)
    audit_record(action="auth.login", actor=personas.viewer)
    client = as_user(sam)

    def actions(query: str) -> list[str]:
        response = client.get(ADMIN_LOG + query)
        assert response.status_code == 200, response.json()
        return [r["action"] for r in response.json()["results"]]

    assert actions("?action=member.added") == ["member.added"] * 3
    assert sorted(actions("?action=member.")) == ["member.added"] * 3
    assert actions("?actor=Oscar") == ["project.archived"]
    assert actions(f"?project={personas.project.pk}") == ["member.added"] * 3
    assert actions("?target_type=projects.project") == ["project.archived"]
    now = timezone.now()
    assert len(actions(f"?from={(now - timedelta(minutes=5)).isoformat()}".replace("+", "%2B"))) == 6
    assert actions(f"?to={(now - timedelta(minutes=5)).isoformat()}".replace("+", "%2B")) == []
    assert len(actions("?from=2000-01-01")) == 6


@pytest.mark.parametrize(
    "query",
    ["?from=yesterday", "?to=2026-13-01", "?project=abc", "?project=0", "?limit=0", "?limit=201", "?offset=-1"],
)
def test_bad_filters_are_400_naming_the_field(sam, query):
    response = as_user(sam).get(ADMIN_LOG + query)
    assert response.status_code == 400
    field = query[1:].split("=")[0]
    assert [d["field"] for d in response.json()["details"]] == [field]


def test_pages_newest_first(personas: Personas, sam):
    _entries(personas, count=5)
    client = as_user(sam)
    first = client.get(ADMIN_LOG + "?limit=2").json()
    assert first["count"] == 7 and len(first["results"]) == 2 and first["next"] and first["previous"] is None
    assert [r["action"] for r in first["results"]] == ["settings.changed", "project.archived"]
    second = client.get(first["next"]).json()
    assert [r["data"] for r in second["results"]] == [{"n": 4}, {"n": 3}]


def test_csv_download(personas: Personas, sam):
    _entries(personas, count=2)
    audit_record(action="auth.login_failed", data={"username": "=HYPERLINK(1)"})
    for response in (
        as_user(sam).get(ADMIN_LOG + "?format=csv"),
        as_user(sam).get(ADMIN_LOG, HTTP_ACCEPT="text/csv"),
    ):
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert response["Content-Disposition"].startswith('attachment; filename="audit-log-')
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[0] == [
            "at", "actor", "ip", "action", "target_type", "target_id", "target",
            "project_id", "project", "before", "after", "data",
        ]  # fmt: skip
        assert [r[3] for r in rows[1:]] == [
            "auth.login_failed",
            "settings.changed",
            "project.archived",
            "member.added",
            "member.added",
        ]
        assert rows[2][9:11] == ['{"site_name": "A"}', '{"site_name": "B"}']
        assert rows[1][11] == '{"username": "=HYPERLINK(1)"}'  # a JSON cell never starts like a formula


def test_project_csv_is_the_projects_part(personas: Personas):
    _entries(personas, count=2)
    response = as_user(personas.owner).get(PROJECT_LOG + "?format=csv&action=member.added")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="BLOG-audit-log-')
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert [(r[3], r[8]) for r in rows[1:]] == [("member.added", "Blog")] * 2


def test_errors_stay_json_when_csv_is_asked_for(personas: Personas):
    response = as_user(personas.member).get(PROJECT_LOG + "?format=csv")
    assert response.status_code == 403
    assert response.json()["error"]


@pytest.mark.parametrize("url", [ADMIN_LOG, PROJECT_LOG])
def test_query_count_does_not_grow_with_rows(personas: Personas, sam, django_assert_max_num_queries, url):
    client = as_user(sam)
    _entries(personas, count=2)
    with django_assert_max_num_queries(4) as few:
        assert client.get(url).status_code == 200
    _entries(personas, count=40)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(url).json()["results"]) > 20


# --- the admin: read-only ----------------------------------------------------------------------


def test_admin_lists_and_filters_but_cannot_add_change_or_delete(personas: Personas, sam):
    _entries(personas)
    entry = AuditEntry.objects.filter(action="settings.changed").get()
    client = Client()
    client.force_login(sam)
    changelist = client.get("/admin/audit/auditentry/?action=settings.changed&q=olivia")
    assert changelist.status_code == 200
    assert [e.action for e in changelist.context_data["cl"].result_list] == ["settings.changed"]
    by_actor = client.get("/admin/audit/auditentry/?actor_name=adam")
    assert {e.action for e in by_actor.context_data["cl"].result_list} == {"member.added"}
    detail = client.get(f"/admin/audit/auditentry/{entry.pk}/change/")
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content
    assert client.get("/admin/audit/auditentry/add/").status_code == 403
    assert client.post(f"/admin/audit/auditentry/{entry.pk}/change/", {"action": "x"}).status_code == 403
    assert client.get(f"/admin/audit/auditentry/{entry.pk}/delete/").status_code == 403
    bulk = client.post(
        "/admin/audit/auditentry/", {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"}
    )
    assert bulk.status_code in (200, 302)
    assert AuditEntry.objects.filter(pk=entry.pk, action="settings.changed").exists()
    model_admin = admin_site._registry[AuditEntry]
    request = changelist.wsgi_request
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)


def test_no_api_writes(sam):
    client = as_user(sam)
    assert client.post(ADMIN_LOG, {}, format="json").status_code == 405
    assert client.delete(ADMIN_LOG).status_code == 405


# --- project settings page ------------------------------------------------------------------


def test_project_settings_audit_page(personas: Personas):
    _entries(personas)
    url = "/projects/olivia/blog/settings/audit-log"
    assert page_matrix(personas, "get", url) == {
        "anonymous": 302,
        "outsider": 404,
        "viewer": 403,
        "member": 403,
        "admin": 200,
        "owner": 200,
    }
    client = Client()
    client.force_login(personas.admin)
    html = client.get(url).content.decode()
    assert html.count("member.added") == 3 and "project.archived" not in html and "settings.changed" not in html
    assert "/api/v1/projects/blog/audit-log?format=csv" in html
    settings_page = client.get("/projects/olivia/blog/settings").content.decode()
    assert url in settings_page


def test_project_settings_audit_page_query_count(personas: Personas, django_assert_max_num_queries):
    client = Client()
    client.force_login(personas.admin)
    url = "/projects/olivia/blog/settings/audit-log"
    _entries(personas, count=2)
    with django_assert_max_num_queries(20) as few:
        client.get(url)
    _entries(personas, count=30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


# --- retention --------------------------------------------------------------------------------


def _aged(days: int) -> AuditEntry:
    return AuditEntry.objects.create(action="auth.login", at=timezone.now() - timedelta(days=days))


def test_prune_deletes_what_is_past_the_retention(settings):
    settings.PUNT_AUDIT_RETENTION_DAYS = 30
    keep, gone = _aged(29), _aged(31)
    out = io.StringIO()
    call_command("audit_prune", stdout=out)
    assert "Deleted 1 audit entries older than 30 days." in out.getvalue()
    assert list(AuditEntry.objects.values_list("pk", flat=True)) == [keep.pk]
    assert not AuditEntry.objects.filter(pk=gone.pk).exists()


def test_prune_with_zero_keeps_everything(settings):
    settings.PUNT_AUDIT_RETENTION_DAYS = 0
    _aged(5000)
    out = io.StringIO()
    call_command("audit_prune", stdout=out)
    assert "nothing deleted" in out.getvalue()
    assert AuditEntry.objects.count() == 1
    assert audit_prune() == 0


def test_prune_days_option():
    _aged(10)
    _aged(2)
    call_command("audit_prune", "--days", "5", stdout=io.StringIO())
    assert AuditEntry.objects.count() == 1


def test_sign_in_entries_are_readable_by_site_admins_only(personas: Personas, sam):
    Client().post("/login/", {"username": "mary", "password": PASSWORD})
    assert as_user(sam).get(ADMIN_LOG + "?action=auth.login").json()["count"] == 1
    # A sign-in has no project: it is not in any project's part.
    assert as_user(personas.owner).get(PROJECT_LOG).json()["count"] == 0
