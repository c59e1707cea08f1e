"""Whole-site backup and restore: one zip archive with the data, the uploaded files and a manifest.

Archive layout (format version 1):
- `data.json`: every row of the backed-up models, in Django's serialization format (a fixture
  `loaddata` could read too), models ordered so a row comes after the rows it points at;
- `media/<name>`: each uploaded file a row refers to (avatars, attachments), by its storage name;
- `manifest.json`: format and version, the schema (latest migration of each app), `created_at`,
  row counts, and the size and SHA-256 of every other member.

Primary keys are kept (API URLs and WebSocket payloads carry ids); only auth permissions and
content types, whose ids differ from one database to the next, are written as natural keys.
That makes an archive from SQLite restore on PostgreSQL and back.

The checksums detect corruption and edits, not forgery: whoever can restore is a site admin.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from tempfile import TemporaryDirectory
from typing import IO, Any

from django.apps import apps
from django.core import serializers
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.serializers import json as json_serializer
from django.core.serializers.base import DeserializationError, DeserializedObject
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, models, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.models import Prefetch
from django.db.models.deletion import ProtectedError, RestrictedError
from django.utils import timezone

from accounts.services import system_settings_invalidate
from audit.services import audit_record
from punt import db

FORMAT = "punt-backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
DATA_NAME = "data.json"
MEDIA_PREFIX = "media/"

# Every model of these apps is backed up and replaced on restore.
BACKUP_APPS = ("accounts", "projects", "tickets", "chat", "notifications", "webhooks")
# allauth's rows that are site data: which addresses are verified, which provider accounts are
# linked to whom, the providers set up in the admin. A restore deletes users, which cascades to
# them: without these a restored site would forget every verification and link.
EXTRA_APP_MODELS = (
    "account.EmailAddress",
    "socialaccount.SocialApp",
    "socialaccount.SocialAccount",
    # Two-factor: without them a restore would leave every protected account on its password alone.
    "mfa.Authenticator",
)
# Users belong to auth groups, which are site data too (permissions are not: migrate makes them).
EXTRA_MODELS = ("auth.Group",)
# Sign-in state that points at simplejwt's outstanding tokens, which are not backed up either.
SKIPPED_MODELS = frozenset({"accounts.refreshrotation"})
# Models that moved to another app since archives were first written: an older archive's
# rows (and its groups' permissions on them) are read under the new label.
MOVED_MODELS = {"chat.notification": "notifications.notification"}
# Rows created by `migrate` whose ids are per database: referred to by natural key.
NATURAL_KEY_MODELS = frozenset({"auth.permission", "contenttypes.contenttype"})
# Apps whose migration state decides whether an archive's rows fit this database.
SCHEMA_APPS = (*BACKUP_APPS, "auth", "contenttypes", "account", "socialaccount", "mfa")

CHUNK_SIZE = 1024 * 1024
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
SERIALIZE_CHUNK = 1000


class BackupError(Exception):
    """An archive that cannot be restored; the message tells the admin why. Nothing was changed."""


@dataclass
class BackupSummary:
    created_at: str
    objects: dict[str, int]
    files: int
    missing_files: list[str] = field(default_factory=list)


@dataclass
class RestoreResult:
    created_at: str
    objects: dict[str, int]
    files: int


# --- which models, in which order -------------------------------------------------------------


def backup_models() -> list[type[models.Model]]:
    """The backed-up models, each after the models it has a foreign key to."""
    candidates: list[type[models.Model]] = []
    for label in BACKUP_APPS:
        candidates += [
            model
            for model in apps.get_app_config(label).get_models()
            if model._meta.managed and not model._meta.proxy and model._meta.label_lower not in SKIPPED_MODELS
        ]
    candidates += [apps.get_model(label) for label in EXTRA_MODELS]
    candidates += [apps.get_model(label) for label in EXTRA_APP_MODELS]
    # sort_dependencies only orders models that have natural keys; the pass below adds every
    # foreign key, so deletes can go dependents-first (PROTECT) and the fixture reads top-down.
    start = serializers.sort_dependencies([(None, candidates)], allow_cycles=True)
    return _fk_order(start)


def _fk_targets(model: type[models.Model], members: set[type[models.Model]]) -> set[type[models.Model]]:
    targets = {
        f.related_model
        for f in model._meta.concrete_fields
        if f.is_relation and f.related_model in members and f.related_model is not model
    }
    targets |= {
        f.related_model
        for f in model._meta.many_to_many
        if _through(f)._meta.auto_created and f.related_model in members and f.related_model is not model
    }
    return targets


def _fk_order(start: list[type[models.Model]]) -> list[type[models.Model]]:
    members = set(start)
    deps = {model: _fk_targets(model, members) for model in start}
    ordered: list[type[models.Model]] = []
    done: set[type[models.Model]] = set()
    remaining = list(start)
    while remaining:
        # Stable: the first model whose targets are all placed; a cycle is broken at its first model
        # (constraints are deferred while loading, so a cycle still loads).
        pick = next((m for m in remaining if deps[m] <= done), remaining[0])
        ordered.append(pick)
        done.add(pick)
        remaining.remove(pick)
    return ordered


def schema_state() -> dict[str, str | None]:
    """The latest migration of each app (None for an app without migrations), all applied.

    Raises BackupError when the database lags behind the code: the manifest would claim a
    schema the rows do not have.
    """
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    pending = sorted(
        f"{app}.{name}"
        for app, name in loader.graph.nodes
        if app in SCHEMA_APPS and (app, name) not in loader.applied_migrations
    )
    if pending:
        shown = ", ".join(pending[:5]) + (f" and {len(pending) - 5} more" if len(pending) > 5 else "")
        raise BackupError(f"The database is not migrated ({shown}): run `manage.py migrate` first.")
    state: dict[str, str | None] = {}
    for app_label in SCHEMA_APPS:
        leaves = [name for _app, name in loader.graph.leaf_nodes(app_label)]
        state[app_label] = max(leaves) if leaves else None
    return state


# --- backup ---------------------------------------------------------------------------------------


class _FullPrecisionEncoder(DjangoJSONEncoder):
    """DjangoJSONEncoder cuts times to milliseconds; a restore must give back what was saved."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime.datetime):
            text = o.isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        if isinstance(o, datetime.time) and o.utcoffset() is None:
            return o.isoformat()
        return super().default(o)


class _PortableSerializer(json_serializer.Serializer):
    """Django's JSON serializer with natural keys only for rows whose ids are per database."""

    def _use_natural_key(self, model_field: models.Field) -> bool:
        assert model_field.remote_field is not None  # called for relations only
        return model_field.remote_field.model._meta.label_lower in NATURAL_KEY_MODELS

    def handle_fk_field(self, obj: models.Model, model_field: models.Field) -> None:
        self.use_natural_foreign_keys = self._use_natural_key(model_field)
        super().handle_fk_field(obj, model_field)

    def handle_m2m_field(self, obj: models.Model, model_field: models.Field) -> None:
        self.use_natural_foreign_keys = self._use_natural_key(model_field)
        super().handle_m2m_field(obj, model_field)


def _through(field: Any) -> type[models.Model]:
    """The model behind a many-to-many field (Django's own when the field names none)."""
    through: type[models.Model] | None = field.remote_field.through
    assert through is not None
    return through


def _queryset(model: type[models.Model]) -> models.QuerySet:
    prefetches: list[str | Prefetch] = []
    for m2m in model._meta.many_to_many:
        if not _through(m2m)._meta.auto_created:
            continue  # explicit through models are backed up as rows of their own
        related = m2m.related_model
        if related._meta.label_lower == "auth.permission":
            # A permission's natural key reads its content type.
            prefetches.append(Prefetch(m2m.name, queryset=related._base_manager.select_related("content_type")))
        else:
            prefetches.append(m2m.name)
    return model._base_manager.order_by("pk").prefetch_related(*prefetches)


def _dump_data(model_list: list[type[models.Model]], path: Path) -> dict[str, int]:
    counts: Counter[str] = Counter()

    def rows() -> Iterator[models.Model]:
        for model in model_list:
            counts[model._meta.label_lower] = 0
            for obj in _queryset(model).iterator(chunk_size=SERIALIZE_CHUNK):
                counts[model._meta.label_lower] += 1
                yield obj

    with path.open("w", encoding="utf-8") as stream:
        _PortableSerializer().serialize(rows(), stream=stream, cls=_FullPrecisionEncoder)
    return dict(counts)


def _referenced_files(model_list: list[type[models.Model]]) -> list[str]:
    names: set[str] = set()
    for model in model_list:
        for model_field in model._meta.concrete_fields:
            if isinstance(model_field, models.FileField):
                column = model_field.attname
                values = (
                    model._base_manager.exclude(**{f"{column}__isnull": True})
                    .exclude(**{column: ""})
                    .values_list(column, flat=True)
                    .distinct()
                )
                names.update(values)
    return sorted(names)


@contextmanager
def _snapshot() -> Iterator[None]:
    """One consistent view of the database while the data is read."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic():
            # Must be the transaction's first statement; READ COMMITTED would let rows
            # written mid-backup point at rows the dump already passed.
            db.begin_read_only_snapshot()
            yield
    else:
        # SQLite: the transaction holds the write lock, so writers wait for the dump.
        with transaction.atomic():
            yield


def _copy_into_zip(archive: zipfile.ZipFile, arcname: str, source: IO[bytes]) -> dict[str, Any]:
    digest = hashlib.sha256()
    size = 0
    # A ZipInfo of our own: archive.open(name) would date every member 1980-01-01.
    info = zipfile.ZipInfo(arcname, date_time=timezone.now().timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(info, "w", force_zip64=True) as target:
        while chunk := source.read(CHUNK_SIZE):
            digest.update(chunk)
            size += len(chunk)
            target.write(chunk)
    return {"sha256": digest.hexdigest(), "size": size}


def backup_write(target: IO[bytes], *, by: Any = None, request: Any = None) -> BackupSummary:
    """Write a backup archive (zip) of the whole site to `target`, a writable binary file.

    Raises BackupError (before writing anything) if the database is not fully migrated.
    `by` (None: a command) and `request` are for the audit log.
    """
    model_list = backup_models()
    schema = schema_state()
    created_at = timezone.now().isoformat()
    with TemporaryDirectory(prefix="punt-backup-") as tmp:
        data_path = Path(tmp) / DATA_NAME
        with db.long_statements(), _snapshot():
            counts = _dump_data(model_list, data_path)
            file_names = _referenced_files(model_list)
        members: dict[str, dict[str, Any]] = {}
        missing: list[str] = []
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            with data_path.open("rb") as data:
                members[DATA_NAME] = _copy_into_zip(archive, DATA_NAME, data)
            for name in file_names:
                try:
                    source = default_storage.open(name, "rb")
                except FileNotFoundError:
                    # A row pointing at a lost file should not make the whole backup fail.
                    missing.append(name)
                    continue
                with source:
                    members[MEDIA_PREFIX + name] = _copy_into_zip(archive, MEDIA_PREFIX + name, source)
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "created_at": created_at,
                "database_vendor": connection.vendor,
                "schema": schema,
                "objects": counts,
                "members": members,
                "missing_files": missing,
            }
            archive.writestr(MANIFEST_NAME, json.dumps(manifest, indent=2, sort_keys=True))
    facts = {"created_at": created_at, "rows": sum(counts.values()), "files": len(members) - 1}
    audit_record(action="backup.created", actor=by, request=request, data=facts)
    return BackupSummary(
        created_at=created_at,
        objects=counts,
        files=len(members) - 1,
        missing_files=missing,
    )


# --- restore --------------------------------------------------------------------------------------

# What reading a damaged member can raise (RuntimeError: encrypted or unsupported compression).
_CORRUPT = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError)


def _is_safe_media_name(name: str) -> bool:
    if not name.startswith(MEDIA_PREFIX) or "\\" in name or "\x00" in name:
        return False
    parts = PurePosixPath(name[len(MEDIA_PREFIX) :]).parts
    return bool(parts) and not name.endswith("/") and all(part not in ("", ".", "..", "/") for part in parts)


def _read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        info = archive.getinfo(MANIFEST_NAME)
    except KeyError:
        raise BackupError("The archive has no manifest.json: it is not a PUNT backup.") from None
    if info.file_size > MAX_MANIFEST_BYTES:
        raise BackupError("The archive's manifest.json is implausibly large.")
    try:
        manifest = json.loads(archive.read(MANIFEST_NAME).decode("utf-8"))
    except _CORRUPT as exc:
        raise BackupError(f"The archive's manifest.json is corrupt: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("The archive's manifest.json is not a PUNT backup manifest.")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise BackupError("The archive's manifest.json has no format version.")
    if version > FORMAT_VERSION:
        raise BackupError(
            f"The archive uses backup format version {version}; this installation reads up to "
            f"version {FORMAT_VERSION}. Upgrade PUNT first."
        )
    if version < 1:
        raise BackupError(f"Unsupported backup format version {version}.")
    members = manifest.get("members")
    if not isinstance(members, dict) or DATA_NAME not in members:
        raise BackupError("The archive's manifest.json does not list data.json.")
    for name, entry in members.items():
        if name != DATA_NAME and not _is_safe_media_name(name):
            raise BackupError(f"The archive's manifest.json lists an unexpected member: {name!r}.")
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("sha256"), str)
            or not isinstance(entry.get("size"), int)
        ):
            raise BackupError(f"The archive's manifest.json has no checksum for {name!r}.")
    if not isinstance(manifest.get("schema"), dict):
        raise BackupError("The archive's manifest.json has no schema version.")
    return manifest


def _verify_members(archive: zipfile.ZipFile, manifest: dict[str, Any]) -> None:
    names = archive.namelist()
    if len(names) != len(set(names)):
        raise BackupError("The archive holds the same member twice: it was tampered with.")
    present = set(names) - {MANIFEST_NAME}
    listed = set(manifest["members"])
    if missing := sorted(listed - present):
        raise BackupError(f"The archive is missing members listed in its manifest: {', '.join(missing)}.")
    if extra := sorted(present - listed):
        raise BackupError(f"The archive holds members its manifest does not list: {', '.join(extra)}.")
    for name in sorted(listed):
        expected = manifest["members"][name]
        if archive.getinfo(name).file_size != expected["size"]:
            raise BackupError(f"Checksum mismatch for {name}: its size differs from the manifest.")
        digest = hashlib.sha256()
        try:
            with archive.open(name) as source:
                while chunk := source.read(CHUNK_SIZE):
                    digest.update(chunk)
        except _CORRUPT as exc:
            raise BackupError(f"The archive member {name} is corrupt: {exc}") from exc
        if digest.hexdigest() != expected["sha256"]:
            raise BackupError(f"Checksum mismatch for {name}: the archive was modified after it was made.")


def _check_schema(schema: dict[str, Any]) -> None:
    """Refuse rows made by a schema this database does not have yet."""
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    for app_label, name in sorted(schema.items()):
        if name is None:
            continue
        if not isinstance(name, str):
            raise BackupError(f"The archive's schema version for {app_label!r} is malformed.")
        if (app_label, name) in loader.applied_migrations:
            continue
        if (app_label, name) in loader.graph.nodes:
            raise BackupError(
                f"The archive needs migration {app_label}.{name}, which is not applied here: "
                "run `manage.py migrate` first."
            )
        raise BackupError(
            f"The archive was made with a newer schema: migration {app_label}.{name} is unknown "
            "to this installation. Upgrade PUNT first."
        )


def _relabel_moved_models(rows: Any) -> Any:
    """Rows of an archive written before a model moved app, under the model's current label."""
    if not isinstance(rows, list):
        return rows
    for row in rows:
        if not isinstance(row, dict):
            continue
        label = row.get("model")
        if isinstance(label, str) and label.lower() in MOVED_MODELS:
            row["model"] = MOVED_MODELS[label.lower()]
        if label == "auth.group" and isinstance(row.get("fields"), dict):
            permissions = row["fields"].get("permissions")
            if isinstance(permissions, list):
                row["fields"]["permissions"] = [_relabel_permission(key) for key in permissions]
    return rows


def _fill_added_fields(rows: Any) -> Any:
    """Rows of an archive written before a required field was added, with the value the
    migration that added it gave existing rows (projects 0002: a project's slug is its key, lowercased)."""
    if not isinstance(rows, list):
        return rows
    for row in rows:
        if not isinstance(row, dict) or str(row.get("model", "")).lower() != "projects.project":
            continue
        fields = row.get("fields")
        if isinstance(fields, dict) and "slug" not in fields and isinstance(fields.get("key"), str):
            fields["slug"] = fields["key"].lower()
    return rows


def _relabel_permission(natural_key: Any) -> Any:
    # A permission's natural key is [codename, app_label, model].
    if isinstance(natural_key, list) and len(natural_key) == 3:
        codename, app_label, model = natural_key
        moved = MOVED_MODELS.get(f"{app_label}.{model}")
        if moved is not None:
            return [codename, *moved.split(".")]
    return natural_key


def _parse_data(archive: zipfile.ZipFile, allowed: set[str]) -> list[DeserializedObject]:
    """Every row of data.json, built (not saved) so a bad row is found before anything is deleted."""
    try:
        with archive.open(DATA_NAME) as raw:
            rows = json.load(io.TextIOWrapper(raw, encoding="utf-8"))
        objects = list(serializers.deserialize("python", _fill_added_fields(_relabel_moved_models(rows))))
    except (DeserializationError, *_CORRUPT) as exc:
        raise BackupError(f"The archive's data.json cannot be read: {exc}") from exc
    for obj in objects:
        label = obj.object._meta.label_lower
        if label not in allowed:
            raise BackupError(f"The archive's data.json holds rows of {label}, which a backup never contains.")
    return objects


def _delete_existing(model_list: list[type[models.Model]]) -> None:
    # Dependents first, so PROTECT foreign keys (ticket -> column) never block; the collector
    # still follows cascades into models outside the backup (JWT outstanding tokens, admin log).
    for model in reversed(model_list):
        model._base_manager.all().delete()


def _tables(model_list: list[type[models.Model]]) -> list[str]:
    tables = []
    for model in model_list:
        tables.append(model._meta.db_table)
        tables += [_through(m2m)._meta.db_table for m2m in model._meta.many_to_many if _through(m2m)._meta.auto_created]
    return tables


def _write_media(archive: zipfile.ZipFile, manifest: dict[str, Any]) -> int:
    written = 0
    for member in sorted(manifest["members"]):
        if not member.startswith(MEDIA_PREFIX):
            continue
        name = member[len(MEDIA_PREFIX) :]
        if default_storage.exists(name):
            default_storage.delete(name)
        with archive.open(member) as source:
            saved = default_storage.save(name, File(source, name=name))
        if saved != name:
            raise BackupError(f"Could not write {name} back to its original name (the storage chose {saved}).")
        written += 1
    return written


def restore_archive(source: IO[bytes], *, by: Any = None, request: Any = None) -> RestoreResult:
    """Replace the site's data and files with an archive's, all or nothing.

    Every check (zip structure, manifest, member list, checksums, schema, every row parses)
    runs before anything is touched; then one transaction deletes the existing rows of the
    backed-up models, loads the archive's, resets sequences and writes the files back. A
    failure anywhere raises BackupError with the database unchanged. Files overwritten before
    a late database failure keep the archive's content (the same name holds the same upload).
    The caller has checked that the user is a site admin. `by` (None: a command) and
    `request` are for the audit log, which is not part of a backup and so outlives a restore.
    """
    try:
        archive = zipfile.ZipFile(source)
    except _CORRUPT as exc:
        raise BackupError(f"The archive is not a readable zip file (corrupt or truncated): {exc}") from exc
    with archive:
        manifest = _read_manifest(archive)
        _verify_members(archive, manifest)
        _check_schema(manifest["schema"])
        model_list = backup_models()
        objects = _parse_data(archive, {model._meta.label_lower for model in model_list})
        counts: Counter[str] = Counter()
        try:
            with db.long_statements(), transaction.atomic():
                # Recorded before the users go: every entry's actor (this one's too) is set to NULL
                # with them, as the restored ids may name other people; the user names stay.
                facts = {"archive_created_at": str(manifest.get("created_at", "")), "rows": len(objects)}
                audit_record(action="backup.restored", actor=by, request=request, data=facts)
                _delete_existing(model_list)
                with connection.constraint_checks_disabled():
                    for obj in objects:
                        obj.save()
                        counts[obj.object._meta.label_lower] += 1
                # Foreign keys are deferred while loading (rows may point forward); check them now,
                # inside the transaction, so a dangling reference rolls everything back.
                connection.check_constraints(table_names=_tables(model_list))
                db.reset_sequences(model_list)
                files = _write_media(archive, manifest)
                # Cached copies of restored rows (the system settings) must not outlive them: dropped
                # now for this transaction, and again on commit in case another request re-cached
                # the old row in between.
                system_settings_invalidate()
                transaction.on_commit(system_settings_invalidate)
        except (DatabaseError, ValidationError, ProtectedError, RestrictedError, DeserializationError) as exc:
            raise BackupError(f"The archive's data does not fit this database: {exc}") from exc
    return RestoreResult(created_at=str(manifest.get("created_at", "")), objects=dict(counts), files=files)
