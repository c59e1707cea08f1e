from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction
from django.test import RequestFactory

from audit.models import AuditEntry
from audit.services import audit_record
from tests.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_an_entry_keeps_who_what_where_and_before_after():
    alice = UserFactory(username="alice")
    project = ProjectFactory(owner_user=alice, name="Blog", key="BLOG")
    request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.7")
    request.user = alice

    entry = audit_record(
        action="project.archived", request=request, target=project, project=project, before={"a": 1}, after={"a": 2}
    )

    entry.refresh_from_db()
    assert (entry.actor, entry.actor_name, entry.ip) == (alice, "alice", "203.0.113.7")
    assert entry.action == "project.archived"
    assert (entry.target_type, entry.target_id) == ("projects.project", str(project.pk))
    assert entry.target_repr == str(project)
    assert (entry.project_id, entry.project_name) == (project.pk, "Blog")
    assert (entry.before, entry.after, entry.data) == ({"a": 1}, {"a": 2}, {})


def test_the_ip_honours_trusted_proxies_and_a_bad_one_is_left_empty(settings):
    settings.PUNT_TRUSTED_PROXY_COUNT = 1
    forwarded = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.9")
    assert audit_record(action="auth.login", request=forwarded).ip == "198.51.100.9"
    garbage = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="not-an-ip")
    assert audit_record(action="auth.login", request=garbage).ip is None


def test_bad_values_never_fail_the_caller():
    entry = audit_record(action="x" * 500, data={"amount": Decimal("1.5"), "thing": object(), "set": {1}})
    entry.refresh_from_db()
    assert len(entry.action) == 64
    assert entry.data["amount"] == "1.5"
    assert entry.actor is None and entry.actor_name == ""


def test_a_rolled_back_change_leaves_no_entry():
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(action="settings.changed")
        raise RuntimeError
    assert AuditEntry.objects.count() == 0


def test_entries_cannot_be_changed_or_deleted_one_by_one():
    entry = audit_record(action="settings.changed")
    entry.action = "nothing.happened"
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.update(action="nothing.happened")
    assert AuditEntry.objects.get().action == "settings.changed"


def test_an_entry_outlives_its_actor_and_project():
    alice = UserFactory(username="alice")
    project = ProjectFactory(owner_user=alice, name="Blog", key="BLOG")
    project_id = project.pk
    audit_record(action="project.deleted", actor=alice, project=project, target=project)
    project.delete()
    alice.delete()
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.actor_name, entry.project_id, entry.project_name) == (None, "alice", project_id, "Blog")
