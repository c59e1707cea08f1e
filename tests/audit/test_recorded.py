"""Each security-relevant change, made through the API or a page, leaves one entry: who, what,
when, from which address, and before/after."""

from __future__ import annotations

import io

import pytest
from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from audit.models import AuditEntry
from tests.audit.conftest import as_user, the_entry
from tests.conftest import Personas
from tests.factories import PASSWORD, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

IP = "198.51.100.7"
BLOG = "/api/v1/projects/blog"


# --- sign-in -------------------------------------------------------------------------------------


def test_an_api_sign_in_is_recorded_with_its_address():
    alice = UserFactory(username="alice")
    response = APIClient(REMOTE_ADDR="203.0.113.9").post(
        "/api/v1/auth/login", {"username": "alice", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    entry = the_entry("auth.login")
    assert (entry.actor, entry.actor_name, entry.ip, entry.data) == (alice, "alice", "203.0.113.9", {"via": "token"})


def test_a_web_sign_in_is_recorded_once():
    UserFactory(username="alice")
    response = Client(REMOTE_ADDR="203.0.113.9").post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    entry = the_entry("auth.login")
    assert (entry.actor_name, entry.ip, entry.data) == ("alice", "203.0.113.9", {"via": "session"})


def test_a_failed_sign_in_is_recorded_without_an_actor_but_with_the_name_tried():
    UserFactory(username="alice")
    response = APIClient(REMOTE_ADDR="203.0.113.9").post(
        "/api/v1/auth/login", {"username": "alice", "password": "wrong"}, format="json"
    )
    assert response.status_code == 401
    entry = the_entry("auth.login_failed")
    assert (entry.actor, entry.actor_name, entry.ip) == (None, "", "203.0.113.9")
    assert entry.data == {"username": "alice"}
    assert "wrong" not in str(entry.data)
    assert not AuditEntry.objects.filter(action="auth.login").exists()


def test_the_address_behind_a_trusted_proxy_is_the_clients(settings):
    settings.PUNT_TRUSTED_PROXY_COUNT = 1
    UserFactory(username="alice")
    APIClient(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.44").post(
        "/api/v1/auth/login", {"username": "alice", "password": PASSWORD}, format="json"
    )
    assert the_entry("auth.login").ip == "192.0.2.44"


# --- two-factor (allauth.mfa's flows send these signals) ------------------------------------------


@pytest.mark.parametrize(
    ("signal", "kind", "action"),
    [
        ("authenticator_added", "totp", "auth.2fa_enabled"),
        ("authenticator_added", "webauthn", "auth.2fa_enabled"),
        ("authenticator_added", "recovery_codes", "auth.recovery_codes_generated"),
        ("authenticator_reset", "recovery_codes", "auth.recovery_codes_generated"),
        ("authenticator_removed", "totp", "auth.2fa_disabled"),
    ],
)
def test_two_factor_changes_are_recorded(signal, kind, action):
    alice = UserFactory(username="alice")
    authenticator = Authenticator.objects.create(user=alice, type=kind, data={})
    request = RequestFactory().post("/accounts/2fa/", REMOTE_ADDR=IP)
    request.user = alice
    getattr(mfa_signals, signal).send(sender=Authenticator, request=request, user=alice, authenticator=authenticator)
    entry = the_entry(action)
    assert (entry.actor, entry.ip, entry.target_repr, entry.data) == (alice, IP, "alice", {"type": kind})


def test_a_wrong_second_factor_code_is_a_failed_sign_in():
    alice = UserFactory(username="alice")
    authenticator = Authenticator.objects.create(user=alice, type="totp", data={})
    request = RequestFactory().post("/accounts/2fa/authenticate/", REMOTE_ADDR=IP)
    mfa_signals.authentication_failed.send(
        sender=Authenticator, request=request, user=alice, authenticator=authenticator
    )
    entry = the_entry("auth.login_failed")
    assert (entry.actor, entry.ip, entry.data) == (None, IP, {"username": "alice", "factor": "totp"})


# --- API keys ------------------------------------------------------------------------------------


def test_api_key_created_and_revoked():
    alice = UserFactory(username="alice")
    client = as_user(alice)
    created = client.post("/api/v1/users/me/api-keys", {"name": "CI", "scopes": ["tickets:read"]}, format="json")
    assert created.status_code == 201
    entry = the_entry("api_key.created")
    assert (entry.actor, entry.ip, entry.target_type, entry.target_id) == (
        alice,
        IP,
        "accounts.apikey",
        str(created.json()["id"]),
    )
    assert entry.after["name"] == "CI" and entry.after["scopes"] == ["tickets:read"]
    assert created.json()["key"] not in str(entry.after)  # never the secret
    assert client.delete(f"/api/v1/users/me/api-keys/{created.json()['id']}").status_code == 204
    assert the_entry("api_key.revoked").target_id == str(created.json()["id"])


# --- members and roles ---------------------------------------------------------------------------


def test_member_added_role_changed_removed(personas: Personas):
    newcomer = UserFactory(username="nina")
    client = as_user(personas.admin)
    assert client.post(f"{BLOG}/members", {"username": "nina", "role": "viewer"}, format="json").status_code == 201
    assert client.patch(f"{BLOG}/members/nina", {"role": "member"}, format="json").status_code == 200
    assert client.delete(f"{BLOG}/members/nina").status_code == 204

    added, changed, removed = (the_entry(a) for a in ("member.added", "member.role_changed", "member.removed"))
    for entry in (added, changed, removed):
        assert (entry.actor, entry.ip, entry.project_id, entry.project_name) == (
            personas.admin,
            IP,
            personas.project.pk,
            "Blog",
        )
        assert (entry.target_type, entry.target_id, entry.target_repr) == ("accounts.user", str(newcomer.pk), "nina")
    assert added.after == {"role": "viewer"}
    assert (changed.before, changed.after) == ({"role": "viewer"}, {"role": "member"})
    assert removed.before == {"role": "member"}


def test_ownership_transfer_records_both_role_changes(personas: Personas):
    client = as_user(personas.owner)
    response = client.post(f"{BLOG}/transfer-ownership", {"username": "adam"}, format="json")
    assert response.status_code == 200
    changes = {e.target_repr: (e.before, e.after) for e in AuditEntry.objects.filter(action="member.role_changed")}
    assert changes == {
        "olivia": ({"role": "owner"}, {"role": "admin"}),
        "adam": ({"role": "admin"}, {"role": "owner"}),
    }


def test_organization_members(personas: Personas):
    org = OrganizationFactory(slug="acme")
    org.memberships.create(user=personas.owner, role="owner")
    UserFactory(username="nina")
    client = as_user(personas.owner)
    assert client.post("/api/v1/orgs/acme/members", {"username": "nina"}, format="json").status_code == 201
    assert client.put("/api/v1/orgs/acme/members/nina", {"role": "admin"}, format="json").status_code == 200
    assert client.delete("/api/v1/orgs/acme/members/nina").status_code == 204
    for action in ("member.added", "member.role_changed", "member.removed"):
        entry = the_entry(action)
        assert (entry.data, entry.project_id, entry.target_repr, entry.ip) == (
            {"organization": "acme"},
            None,
            "nina",
            IP,
        )
    assert (the_entry("member.role_changed").before, the_entry("member.role_changed").after) == (
        {"role": "member"},
        {"role": "admin"},
    )


# --- projects ------------------------------------------------------------------------------------


def test_project_archived_restored_deleted(personas: Personas):
    client = as_user(personas.owner)
    project_id = personas.project.pk
    assert client.delete(BLOG).status_code == 204
    assert client.post(f"{BLOG}/restore").status_code == 200
    # PUNT's own dialect deletes for good.
    assert client.delete(f"/api/projects/{project_id}").status_code == 200
    for action in ("project.archived", "project.restored", "project.deleted"):
        entry = the_entry(action)
        assert (entry.actor, entry.ip, entry.project_id, entry.project_name) == (personas.owner, IP, project_id, "Blog")
    assert the_entry("project.deleted").before["key"] == "BLOG"


# --- webhooks ------------------------------------------------------------------------------------


def test_outgoing_webhook_created_changed_deleted(personas: Personas):
    client = as_user(personas.admin)
    created = client.post(f"{BLOG}/hooks", {"url": "https://example.com/in", "events": ["*"]}, format="json")
    assert created.status_code == 201, created.json()
    hook_id = created.json()["id"]
    secret = created.json()["secret"]
    assert client.patch(f"{BLOG}/hooks/{hook_id}", {"active": False}, format="json").status_code == 200
    assert client.patch(f"{BLOG}/hooks/{hook_id}", {"rotate_secret": True}, format="json").status_code == 200
    assert client.delete(f"{BLOG}/hooks/{hook_id}").status_code == 204

    assert the_entry("webhook.created").after["url"] == "https://example.com/in"
    changes = [(e.before, e.after) for e in AuditEntry.objects.filter(action="webhook.changed").order_by("id")]
    assert changes == [({"active": True}, {"active": False}), ({"secret": "(old)"}, {"secret": "(rotated)"})]
    assert the_entry("webhook.deleted").before["url"] == "https://example.com/in"
    assert not any(secret in str(e.after) + str(e.before) for e in AuditEntry.objects.all())
    assert set(AuditEntry.objects.values_list("project_id", "ip", "actor_name").distinct()) == {
        (personas.project.pk, IP, "adam")
    }


def test_incoming_webhooks_created_and_revoked(personas: Personas):
    client = as_user(personas.admin)
    git = client.post(f"{BLOG}/git-hooks", {"provider": "github"}, format="json")
    chat = client.post(f"{BLOG}/chat-webhooks", {"name": "CI"}, format="json")
    assert (git.status_code, chat.status_code) == (201, 201)
    assert client.delete(f"{BLOG}/git-hooks/{git.json()['id']}").status_code == 204
    assert client.delete(f"{BLOG}/chat-webhooks/{chat.json()['id']}").status_code == 204
    kinds = sorted((e.action, e.after["kind"] if e.after else e.before["kind"]) for e in AuditEntry.objects.all())
    assert kinds == [
        ("webhook.created", "chat"),
        ("webhook.created", "git"),
        ("webhook.deleted", "chat"),
        ("webhook.deleted", "git"),
    ]


# --- site administration -------------------------------------------------------------------------


def test_system_settings_change_records_only_the_changed_fields():
    sam = UserFactory(username="sam", is_staff=True)
    client = as_user(sam)
    response = client.put(
        "/api/v1/admin/system-settings", {"site_name": "Acme PUNT", "registration_open": True}, format="json"
    )
    assert response.status_code == 200
    entry = the_entry("settings.changed")
    assert entry.after["site_name"] == "Acme PUNT"
    assert "registration_open" not in entry.after or entry.before["registration_open"] is False
    # The same values again change nothing, so nothing more is recorded.
    client.put("/api/v1/admin/system-settings", {"site_name": "Acme PUNT"}, format="json")
    assert AuditEntry.objects.filter(action="settings.changed").count() == 1


def test_user_admin_update_and_deactivation():
    sam = UserFactory(username="sam", is_staff=True)
    bob = UserFactory(username="bob")
    client = as_user(sam)
    response = client.patch(
        f"/api/v1/users/{bob.pk}", {"global_roles": ["metrics"], "password": "a new Secret 123!"}, format="json"
    )
    assert response.status_code == 200, response.json()
    changed = the_entry("user.changed")
    assert (changed.actor, changed.target_repr, changed.ip) == (sam, "bob", IP)
    assert changed.before == {"global_roles": [], "password": "(old)"}
    assert changed.after == {"global_roles": ["metrics"], "password": "(set by an admin)"}
    assert client.delete(f"/api/v1/users/{bob.pk}").status_code == 204
    deactivated = the_entry("user.deactivated")
    assert (deactivated.before, deactivated.after) == ({"is_active": True}, {"is_active": False})


def test_backup_and_restore_are_recorded():
    sam = UserFactory(username="sam", is_staff=True)
    client = as_user(sam)
    response = client.post("/api/v1/admin/backup")
    assert response.status_code == 200
    archive = b"".join(response.streaming_content)
    created = the_entry("backup.created")
    assert (created.actor, created.ip) == (sam, IP) and created.data["rows"] > 0
    upload = io.BytesIO(archive)
    upload.name = "backup.zip"
    restored = client.post("/api/v1/admin/restore", {"archive": upload}, format="multipart")
    assert restored.status_code == 200, restored.content
    entry = the_entry("backup.restored")
    # The users were replaced by the archive's: the entry keeps the name, not the id.
    assert (entry.actor_name, entry.ip, entry.actor) == ("sam", IP, None)
    # The log is not part of a backup: the restore did not roll it back.
    assert AuditEntry.objects.filter(action="backup.created").exists()


def test_a_refused_change_leaves_no_entry(personas: Personas):
    client = as_user(personas.admin)
    response = client.post(f"{BLOG}/members", {"username": "nobody-here", "role": "viewer"}, format="json")
    assert response.status_code == 400
    assert not AuditEntry.objects.exists()
