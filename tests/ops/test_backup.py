"""Backup and restore: role checks, archive contents, round trip, refused archives."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from datetime import date
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.socialaccount.models import SocialAccount, SocialApp
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core import serializers
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.management.color import no_style
from django.db import connection
from rest_framework.test import APIClient

from chat.models import Message, Reaction
from notifications.models import Notification
from notifications.services import notify
from projects.models import OrganizationMembership
from punt.ops import backup
from tests.factories import LabelFactory, OrganizationFactory, SprintFactory, TicketFactory, UserFactory
from tests.ops.conftest import as_user, assert_error_shape, with_jwt, with_key
from tickets.models import Attachment, ChecklistItem, Event, GitLink, Ticket, TimeEntry, Watcher

BACKUP_URL = "/api/v1/admin/backup"
RESTORE_URL = "/api/v1/admin/restore"


# --- helpers ----------------------------------------------------------------------------------


def seed_site(personas) -> dict[str, Any]:
    """A bit of everything: org, labels, sprint, tickets with sub-task, timeline, files, chat."""
    project = personas.project
    org = OrganizationFactory(slug="acme")
    OrganizationMembership.objects.create(organization=org, user=personas.owner, role="owner")
    bug, ui = LabelFactory(project=project, name="bug"), LabelFactory(project=project, name="ui")
    sprint = SprintFactory(project=project, name="Sprint 1")
    parent = TicketFactory(project=project, title="Broken login", body="It *fails*", assignee=personas.member)
    parent.labels.set([bug, ui])
    parent.sprint = sprint
    parent.save(update_fields=["sprint"])
    child = TicketFactory(project=project, title="Fix form", type="subtask", parent=parent)
    comment = Event.objects.create(ticket=parent, kind="comment", author=personas.member, text="On it", minutes=30)
    Event.objects.create(ticket=parent, kind="update", author=personas.owner, data={"old": {"p": 1}, "new": {"p": 2}})
    TimeEntry.objects.create(ticket=parent, user=personas.member, minutes=30, date=date(2026, 11, 2), comment=comment)
    ChecklistItem.objects.create(ticket=child, text="Write test", order=1)
    Watcher.objects.create(ticket=parent, user=personas.viewer)
    GitLink.objects.create(ticket=parent, kind="commit", url="https://git.example.com/c/abc", ref="abc")
    attachment = Attachment(
        ticket=parent, filename="notes.txt", content_type="text/plain", size=11, uploaded_by=personas.member
    )
    attachment.file.save("notes.txt", ContentFile(b"hello notes"), save=False)
    attachment.save()
    personas.owner.avatar.save("olivia.webp", ContentFile(b"RIFF-not-really-webp"), save=True)
    message = Message.objects.create(project=project, author=personas.member, body="Hi all")
    Reaction.objects.create(message=message, user=personas.owner, emoji="+1")
    notify(
        recipients=[personas.owner],
        kind=Notification.Kind.MENTION,
        actor=personas.member,
        text="mary mentioned you",
        url=f"/projects/{project.namespace}/{project.path}/tickets/{parent.number}",
        project=project,
        data={"ticket": parent.key},
    )
    # Permission ids differ between databases: these travel as natural keys.
    editors = Group.objects.create(name="editors")
    editors.permissions.add(Permission.objects.get(codename="change_ticket"))
    personas.member.groups.add(editors)
    personas.member.user_permissions.add(Permission.objects.get(codename="view_project"))
    # Sign-in data (issue 23): a verified address, a provider set up in the admin, a linked account.
    EmailAddress.objects.create(user=personas.owner, email=personas.owner.email, primary=True, verified=True)
    SocialApp.objects.create(
        provider="gitlab",
        name="Our GitLab",
        client_id="id",
        secret="s",
        settings={"gitlab_url": "https://git.example.com"},
    )
    SocialAccount.objects.create(user=personas.member, provider="gitlab", uid="42", extra_data={"username": "mary"})
    # Two-factor: an authenticator app and its recovery codes.
    TOTP.activate(personas.owner, generate_totp_secret())
    RecoveryCodes.activate(personas.owner)
    return {
        "attachment": attachment.file.name,
        "avatar": personas.owner.avatar.name,
        "card": parent.key,
        "subtask": child.key,
    }


def dump_all() -> dict[str, list[dict[str, Any]]]:
    """Every row of every backed-up model, as Django serializes it."""
    return {
        model._meta.label_lower: serializers.serialize("python", model._base_manager.order_by("pk"))
        for model in backup.backup_models()
    }


def portable(value: Any) -> Any:
    """`value` as JSON would carry it to another process (full-precision times)."""
    return json.loads(json.dumps(value, cls=backup._FullPrecisionEncoder))


def api_reads(client: APIClient, slug: str, files: dict[str, Any]) -> dict[str, Any]:
    """What the API shows of the site seed_site() made (`files` is what it returned)."""
    key, subtask = files["card"], files["subtask"]
    urls = [
        "/api/v1/users/me",
        "/api/v1/projects",
        f"/api/v1/projects/{slug}",
        f"/api/v1/projects/{slug}/members",
        f"/api/v1/projects/{slug}/columns",
        f"/api/v1/projects/{slug}/labels",
        f"/api/v1/projects/{slug}/sprints",
        "/api/v1/orgs/acme",
        # Tickets: the list, the board, one card and everything hanging off it.
        f"/api/v1/projects/{slug}/cards",
        f"/api/v1/projects/{slug}/board",
        f"/api/v1/projects/{slug}/cards/{key}",
        f"/api/v1/projects/{slug}/cards/{key}/events",
        f"/api/v1/projects/{slug}/cards/{key}/comments",
        f"/api/v1/projects/{slug}/cards/{subtask}",
        f"/api/v1/projects/{slug}/cards/{subtask}/checklist",
        f"/api/v1/projects/{slug}/cards/{key}/attachments",
        f"/api/v1/projects/{slug}/cards/{key}/links",
        f"/api/v1/projects/{slug}/chat/messages",
        "/api/v1/notifications",
        "/api/v1/reports/time?group_by=ticket&from=2026-11-01&to=2026-11-30",
    ]
    reads = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.content)
        reads[url] = response.json()
    return reads


def download(client: APIClient) -> bytes:
    response = client.post(BACKUP_URL)
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def restore(client: APIClient, archive: bytes):
    upload = SimpleUploadedFile("backup.zip", archive, content_type="application/zip")
    return client.post(RESTORE_URL, {"archive": upload}, format="multipart")


def read_members(archive: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def build_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buffer.getvalue()


def rewrite(archive: bytes, *, data: bytes | None = None, manifest: dict | None = None, rehash: bool = False) -> bytes:
    """The archive with data.json and/or the manifest replaced (optionally re-signed, i.e. consistent)."""
    members = read_members(archive)
    current = json.loads(members[backup.MANIFEST_NAME])
    if data is not None:
        members[backup.DATA_NAME] = data
        if rehash:
            current["members"][backup.DATA_NAME] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    members[backup.MANIFEST_NAME] = json.dumps(manifest if manifest is not None else current).encode()
    return build_zip(members)


def empty_database() -> None:
    """Like a fresh install: every backed-up table emptied and its id sequence restarted."""
    tables = backup._tables(backup.backup_models())
    sql = connection.ops.sql_flush(no_style(), tables, reset_sequences=True, allow_cascade=True)
    if connection.vendor == "postgresql":
        # Inside the test's transaction: fire the deferred FK checks first, or TRUNCATE refuses.
        sql = ["SET CONSTRAINTS ALL IMMEDIATE", *sql, "SET CONSTRAINTS ALL DEFERRED"]
    connection.ops.execute_sql_flush(sql)


# --- role checks --------------------------------------------------------------------------------


def test_backup_role_matrix(staff, personas):
    clients = {
        "anonymous": APIClient(),
        "member": as_user(personas.member),
        "metrics_role": as_user(staff.metrics_role),
        "backup_role": with_jwt(staff.backup_role),
        "site_admin": with_jwt(staff.site_admin),
        "admin_key_tickets_scope": with_key(staff.site_admin, ["tickets:write"]),
        "admin_key_admin_scope": with_key(staff.site_admin, ["admin"]),
        "backup_role_key_unrestricted": with_key(staff.backup_role, []),
        "member_key_unrestricted": with_key(personas.member, []),
    }
    responses = {name: client.post(BACKUP_URL) for name, client in clients.items()}
    assert {name: r.status_code for name, r in responses.items()} == {
        "anonymous": 401,
        "member": 403,
        "metrics_role": 403,
        "backup_role": 200,
        "site_admin": 200,
        "admin_key_tickets_scope": 403,
        "admin_key_admin_scope": 200,
        "backup_role_key_unrestricted": 200,
        "member_key_unrestricted": 403,
    }
    for response in responses.values():
        if response.status_code != 200:
            assert_error_shape(response.json())


def test_restore_role_matrix(staff, personas):
    archive = download(as_user(staff.site_admin))
    clients = {
        "anonymous": APIClient(),
        "member": as_user(personas.member),
        "backup_role": as_user(staff.backup_role),
        "metrics_role": as_user(staff.metrics_role),
        "admin_key_tickets_scope": with_key(staff.site_admin, ["tickets:write"]),
        "backup_role_key_unrestricted": with_key(staff.backup_role, []),
        "site_admin": with_jwt(staff.site_admin),
    }
    statuses = {}
    for name, client in clients.items():
        response = restore(client, archive)
        statuses[name] = response.status_code
        if response.status_code != 200:
            assert_error_shape(response.json())
    assert statuses == {
        "anonymous": 401,
        "member": 403,
        "backup_role": 403,
        "metrics_role": 403,
        "admin_key_tickets_scope": 403,
        "backup_role_key_unrestricted": 403,
        "site_admin": 200,
    }


def test_restore_with_an_admin_scoped_key(staff):
    archive = download(as_user(staff.site_admin))
    assert restore(with_key(staff.site_admin, ["admin"]), archive).status_code == 200


# --- the archive --------------------------------------------------------------------------------


def test_backup_archive_has_data_files_and_manifest(staff, personas):
    files = seed_site(personas)
    response = as_user(staff.site_admin).post(BACKUP_URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="punt-backup-')
    members = read_members(b"".join(response.streaming_content))

    assert set(members) == {
        "manifest.json",
        "data.json",
        f"media/{files['attachment']}",
        f"media/{files['avatar']}",
    }
    assert members[f"media/{files['attachment']}"] == b"hello notes"
    manifest = json.loads(members["manifest.json"])
    assert manifest["format"] == "punt-backup"
    assert manifest["format_version"] == 1
    assert manifest["created_at"]
    assert manifest["schema"]["accounts"] == backup.schema_state()["accounts"]
    assert manifest["schema"]["tickets"].startswith("00")
    assert set(manifest["schema"]) >= {"accounts", "projects", "tickets", "chat", "webhooks"}
    assert set(manifest["members"]) == set(members) - {"manifest.json"}
    for name, entry in manifest["members"].items():
        assert entry == {"sha256": hashlib.sha256(members[name]).hexdigest(), "size": len(members[name])}
    assert manifest["objects"]["tickets.ticket"] == 2
    assert manifest["objects"]["accounts.user"] == 8  # five personas, three staff

    rows = json.loads(members["data.json"])
    labels = [row["model"] for row in rows]
    # Referenced rows come first, so the fixture reads (and loads) top-down.
    assert labels.index("accounts.user") < labels.index("projects.project") < labels.index("tickets.ticket")
    assert labels.index("tickets.ticket") < labels.index("tickets.event")
    member = next(r for r in rows if r["model"] == "accounts.user" and r["fields"]["username"] == "mary")
    assert member["fields"]["user_permissions"] == [["view_project", "projects", "project"]]
    assert "token_blacklist.outstandingtoken" not in labels


def test_backup_command_writes_an_archive(personas, tmp_path, capsys):
    seed_site(personas)
    target = tmp_path / "nightly.zip"
    call_command("punt_backup", "--output", str(target))
    members = read_members(target.read_bytes())
    assert {"manifest.json", "data.json"} <= set(members)
    assert "Wrote" in capsys.readouterr().out
    assert not list(tmp_path.glob("*.partial"))  # the temporary file was renamed, not left behind


def test_backup_command_needs_an_existing_folder(db, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("punt_backup", "--output", str(tmp_path / "nope" / "x.zip"))


def test_backup_skips_a_lost_file_and_says_so(staff, personas):
    files = seed_site(personas)
    default_storage.delete(files["attachment"])
    members = read_members(download(as_user(staff.site_admin)))
    manifest = json.loads(members["manifest.json"])
    assert manifest["missing_files"] == [files["attachment"]]
    assert f"media/{files['attachment']}" not in members


# --- round trip ---------------------------------------------------------------------------------


def test_round_trip_into_an_empty_database(staff, personas):
    files = seed_site(personas)
    owner = as_user(personas.owner)
    before_reads = api_reads(owner, "blog", files)
    # The reads show the seeded rows, so an empty restore could not pass for a good one.
    card = f"/api/v1/projects/blog/cards/{files['card']}"
    assert before_reads["/api/v1/projects/blog/cards"]["count"] == 2
    assert before_reads[f"{card}/comments"]["count"] == 1
    assert len(before_reads[f"{card}/attachments"]) == len(before_reads[f"{card}/links"]) == 1
    assert len(before_reads[f"/api/v1/projects/blog/cards/{files['subtask']}/checklist"]) == 1
    # Time entries list the caller's own: mary logged the seeded one.
    mary = as_user(personas.member)
    before_time = mary.get("/api/v1/time-entries?project=blog").json()
    assert before_time["count"] == 1
    before_rows = dump_all()
    archive = download(as_user(staff.site_admin))
    max_user_id = max(row["pk"] for row in before_rows["accounts.user"])

    empty_database()
    shutil.rmtree(settings.MEDIA_ROOT)
    assert Ticket.objects.count() == 0

    # force_authenticate keeps the admin's object, though the row is gone until the restore.
    response = restore(as_user(staff.site_admin), archive)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["files"] == 2
    assert body["objects"]["tickets.ticket"] == 2
    assert body["created_at"]

    assert dump_all() == before_rows
    assert api_reads(owner, "blog", files) == before_reads
    assert mary.get("/api/v1/time-entries?project=blog").json() == before_time
    assert default_storage.open(files["attachment"]).read() == b"hello notes"
    assert default_storage.exists(files["avatar"])
    # Sequences were reset: new rows get fresh ids instead of colliding with restored ones.
    assert UserFactory(username="newcomer").pk > max_user_id
    assert TicketFactory(project=personas.project).number == 3


def test_archive_made_before_notifications_moved_restores(staff, personas):
    """Archives written while notifications lived in chat hold `chat.notification` rows."""
    files = seed_site(personas)
    editors = Group.objects.get(name="editors")
    editors.permissions.add(Permission.objects.get(codename="view_notification"))
    owner = as_user(personas.owner)
    before_reads = api_reads(owner, "blog", files)
    assert before_reads["/api/v1/notifications"]["results"][0]["text"] == "mary mentioned you"
    before_rows = dump_all()
    archive = download(as_user(staff.site_admin))
    rows = json.loads(read_members(archive)[backup.DATA_NAME])
    for row in rows:
        if row["model"] == "notifications.notification":
            row["model"] = "chat.notification"
        if row["model"] == "auth.group":
            row["fields"]["permissions"] = [
                [codename, "chat", model] if app == "notifications" else [codename, app, model]
                for codename, app, model in row["fields"]["permissions"]
            ]
    assert any(row["model"] == "chat.notification" for row in rows)
    manifest = json.loads(read_members(archive)[backup.MANIFEST_NAME])
    del manifest["schema"]["notifications"]
    manifest["schema"]["chat"] = "0001_initial"
    data = json.dumps(rows).encode()
    manifest["members"][backup.DATA_NAME] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    old_archive = rewrite(archive, data=data, manifest=manifest)

    empty_database()
    response = restore(as_user(staff.site_admin), old_archive)

    assert response.status_code == 200, response.content
    assert response.json()["objects"]["notifications.notification"] == 1
    assert dump_all() == before_rows
    assert api_reads(owner, "blog", files) == before_reads


def test_archive_made_before_project_slugs_were_stored_restores(staff, personas):
    """Archives written before projects 0002 have no `slug` on project rows: it is the lowercased key."""
    files = seed_site(personas)
    owner = as_user(personas.owner)
    before_reads = api_reads(owner, "blog", files)
    before_rows = dump_all()
    archive = download(as_user(staff.site_admin))
    rows = json.loads(read_members(archive)[backup.DATA_NAME])
    for row in rows:
        if row["model"] == "projects.project":
            del row["fields"]["slug"]
        if row["model"] == "projects.organization":
            del row["fields"]["default_project"]
    manifest = json.loads(read_members(archive)[backup.MANIFEST_NAME])
    manifest["schema"]["projects"] = "0001_initial"
    data = json.dumps(rows).encode()
    manifest["members"][backup.DATA_NAME] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    old_archive = rewrite(archive, data=data, manifest=manifest)

    empty_database()
    response = restore(as_user(staff.site_admin), old_archive)

    assert response.status_code == 200, response.content
    assert dump_all() == before_rows
    assert api_reads(owner, "blog", files) == before_reads


def test_restore_replaces_newer_data(staff, personas):
    seed_site(personas)
    archive = download(as_user(staff.site_admin))
    before = dump_all()
    Ticket.objects.filter(title="Broken login").update(title="Changed after the backup")
    UserFactory(username="latecomer")
    TicketFactory(project=personas.project, title="Created after the backup")

    assert restore(as_user(staff.site_admin), archive).status_code == 200
    assert dump_all() == before


@pytest.mark.django_db(transaction=True)
def test_command_round_trip_commits(tmp_path):
    from tests.conftest import Personas

    personas = Personas()
    files = seed_site(personas)
    before = dump_all()
    target = tmp_path / "site.zip"
    call_command("punt_backup", "-o", str(target))
    empty_database()
    default_storage.delete(files["attachment"])

    out = io.StringIO()
    call_command("punt_restore", str(target), "--noinput", stdout=out)
    assert "Restored" in out.getvalue()
    assert dump_all() == before
    assert default_storage.open(files["attachment"]).read() == b"hello notes"


# --- refused archives -----------------------------------------------------------------------------


@pytest.fixture
def site(staff, personas):
    """Seeded data, its backup, and what the data looked like when the backup was refused."""
    seed_site(personas)
    archive = download(as_user(staff.site_admin))
    # Changed after the backup: a refused restore must leave this as it is.
    Ticket.objects.filter(title="Broken login").update(title="Edited later")
    return {"archive": archive, "admin": as_user(staff.site_admin), "rows": dump_all()}


def assert_refused(site, archive: bytes, message: str) -> None:
    response = restore(site["admin"], archive)
    assert response.status_code == 400, response.content
    assert_error_shape(response.json())
    assert message in response.json()["error"]
    assert dump_all() == site["rows"]


def test_truncated_archive_is_refused(site):
    assert_refused(site, site["archive"][: len(site["archive"]) // 2], "corrupt or truncated")


def test_not_a_zip_is_refused(site):
    assert_refused(site, b"this is not a zip file at all", "corrupt or truncated")


def test_edited_data_is_refused(site):
    data = read_members(site["archive"])["data.json"].replace(b"Broken login", b"Hacked login")
    assert_refused(site, rewrite(site["archive"], data=data), "Checksum mismatch for data.json")


def test_edited_file_is_refused(site):
    members = read_members(site["archive"])
    name = next(n for n in members if n.startswith("media/attachments/"))
    members[name] = b"hello NOTES"
    assert_refused(site, build_zip(members), f"Checksum mismatch for {name}")


def test_missing_member_is_refused(site):
    members = read_members(site["archive"])
    name = next(n for n in members if n.startswith("media/avatars/"))
    del members[name]
    assert_refused(site, build_zip(members), f"missing members listed in its manifest: {name}")


def test_unlisted_member_is_refused(site):
    members = read_members(site["archive"])
    members["media/extra.txt"] = b"smuggled"
    assert_refused(site, build_zip(members), "does not list: media/extra.txt")


def test_missing_manifest_is_refused(site):
    members = read_members(site["archive"])
    del members["manifest.json"]
    assert_refused(site, build_zip(members), "no manifest.json")


def test_path_outside_media_is_refused(site):
    manifest = json.loads(read_members(site["archive"])["manifest.json"])
    manifest["members"]["media/../../settings.py"] = {"sha256": "0" * 64, "size": 1}
    assert_refused(site, rewrite(site["archive"], manifest=manifest), "unexpected member")


def test_archive_from_a_newer_schema_is_refused(site):
    manifest = json.loads(read_members(site["archive"])["manifest.json"])
    manifest["schema"]["tickets"] = "9999_from_the_future"
    assert_refused(
        site, rewrite(site["archive"], manifest=manifest), "newer schema: migration tickets.9999_from_the_future"
    )


def test_archive_from_a_newer_format_is_refused(site):
    manifest = json.loads(read_members(site["archive"])["manifest.json"])
    manifest["format_version"] = 2
    assert_refused(site, rewrite(site["archive"], manifest=manifest), "format version 2")


def test_consistent_archive_with_a_dangling_reference_rolls_back(site):
    """Checksums match but a row points nowhere: the deletes already ran and must be undone."""
    rows = json.loads(read_members(site["archive"])["data.json"])
    ticket = next(r for r in rows if r["model"] == "tickets.ticket")
    ticket["fields"]["column"] = 987654
    data = json.dumps(rows).encode()
    assert_refused(site, rewrite(site["archive"], data=data, rehash=True), "does not fit this database")


def test_rows_of_other_models_are_refused(site):
    rows = json.loads(read_members(site["archive"])["data.json"])
    rows.append({"model": "sessions.session", "pk": "x", "fields": {"session_data": "", "expire_date": None}})
    data = json.dumps(rows).encode()
    assert_refused(site, rewrite(site["archive"], data=data, rehash=True), "never contains")


def test_restore_needs_an_archive_field(staff, personas):
    response = as_user(staff.site_admin).post(RESTORE_URL, {}, format="multipart")
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "archive"


def test_restore_command_refuses_a_truncated_archive(site, tmp_path):
    target = tmp_path / "broken.zip"
    target.write_bytes(site["archive"][:100])
    with pytest.raises(CommandError, match="Nothing was changed"):
        call_command("punt_restore", str(target), "--noinput")
    assert dump_all() == site["rows"]


@pytest.fixture
def unmigrated(monkeypatch):
    """The code has a migration the database lacks."""
    latest = ("tickets", backup.schema_state()["tickets"])

    class Loader(backup.MigrationLoader):
        def build_graph(self) -> None:
            super().build_graph()
            self.applied_migrations.pop(latest)

    monkeypatch.setattr(backup, "MigrationLoader", Loader)


def test_backup_of_an_unmigrated_database_is_refused(staff, unmigrated, tmp_path):
    response = as_user(staff.site_admin).post(BACKUP_URL)
    assert response.status_code == 503
    assert_error_shape(response.json())
    assert "run `manage.py migrate` first" in response.json()["error"]
    with pytest.raises(CommandError, match="not migrated"):
        call_command("punt_backup", "--output", str(tmp_path / "x.zip"))
    assert not list(tmp_path.glob("*.zip*"))


@pytest.mark.django_db(transaction=True)
def test_restore_replaces_cached_system_settings(tmp_path):
    """The settings are cached; after a committed restore every reader sees the archive's."""
    from accounts.services import system_settings
    from tests.conftest import Personas
    from tests.ops.conftest import Staff

    Personas()
    admin = as_user(Staff().site_admin)
    settings_url = "/api/v1/admin/system-settings"
    assert admin.put(settings_url, {"site_name": "Before"}, format="json").status_code == 200
    archive = download(admin)
    assert admin.put(settings_url, {"site_name": "After"}, format="json").status_code == 200
    assert system_settings().site_name == "After"  # and cached

    assert restore(admin, archive).status_code == 200
    assert system_settings().site_name == "Before"
    assert admin.get(settings_url).json()["site_name"] == "Before"
