"""Imports: run one (the command, the background task) and the import runs the page shows.

`import_file` is the whole import in one transaction: the file is parsed as a stream and
applied by imports.applier; any failure rolls back everything and the report says where.
A dry run is the same import rolled back at the end, so its report (counts, matched and
unknown people, custom fields, links) is exactly what the real run will do.

Progress of a running import lives in the "progress" cache (`progress_key`): the import's own
writes are one uncommitted transaction, and on SQLite no other connection can write the
ImportRun row until it commits. That cache is one every process sees (Redis, or files without
it: punt/settings.py), so the task worker's count reaches the web processes; the row itself
records pending/running/done/failed, the total and the report, so the page survives a reload at
any point.
"""

from __future__ import annotations

from datetime import timedelta
from typing import IO, Any

from django.core.cache import caches
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, transaction
from django.utils import timezone

from accounts.models import User
from imports.applier import Importer
from imports.models import ImportRun
from imports.records import Options
from imports.report import Report
from imports.sources import SOURCES
from imports.sources.common import SourceError
from imports.sources.csv_generic import check_mapping
from projects.models import Project
from punt import events
from punt.errors import PuntError, invalid

# The biggest file the page accepts (the command reads any size).
MAX_UPLOAD = 100 * 1024 * 1024


class _DryRun(Exception):
    """Raised at the end of a dry run to roll its transaction back."""


def check_source(source: str, mapping: dict[str, str]) -> None:
    if source not in SOURCES:
        raise invalid("source", f"Unknown source {source!r}; choose one of: {', '.join(SOURCES)}.")
    if source == "csv":
        try:
            check_mapping(mapping)
        except SourceError as exc:
            raise invalid("mapping", exc.message) from None


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """`["title=Summary", "assignee=Owner"]` -> {"title": "Summary", "assignee": "Owner"}."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        if not pair.strip():
            continue
        name, sep, column = pair.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise invalid("mapping", f"Write each mapping as field=Column, not {pair!r}.")
        mapping[name.strip()] = column.strip()
    return mapping


def progress_key(run_id: int) -> str:
    return f"imports:run:{run_id}:progress"


def import_file(
    *,
    project: Project,
    by: User,
    source: str,
    stream: IO[bytes],
    mapping: dict[str, str] | None = None,
    dry_run: bool = False,
    progress: Any = None,
) -> Report:
    """Import `stream` (a `source` file) into `project` as `by`; return the report.

    Precondition: `by` may manage the project (the caller checked). A bad file, a bad value or
    a database error leaves nothing behind: the report's `error` says what and where.
    """
    check_source(source, mapping or {})
    importer = Importer(project=project, by=by, source=SOURCES[source], progress=progress)
    report = importer.report
    report.dry_run = dry_run
    try:
        with transaction.atomic():
            # The project row stays locked until commit: ticket numbers, columns and another
            # import of the same project queue behind this one.
            Project.objects.select_for_update().filter(pk=project.pk).first()
            importer.run(SOURCES[source].parse(stream, Options(mapping=mapping or {})))
            if dry_run:
                raise _DryRun
            # One summary event instead of a card event per ticket: boards reload on it.
            events.publish(
                "project.imported",
                {
                    "project": {"id": project.pk, "key": project.key, "slug": project.slug},
                    "source": source,
                    "tickets_created": report.tickets_created,
                    "tickets_updated": report.tickets_updated,
                    "comments_created": report.comments_created,
                },
                project_id=project.pk,
                actor_id=by.pk,
            )
    except _DryRun:
        pass
    except SourceError as exc:
        report.error = {"where": exc.where, "message": exc.reason}
    except PuntError as exc:
        report.error = {"where": importer.where, "message": exc.message}
    except DatabaseError as exc:
        report.error = {"where": f"the batch ending at {importer.where}", "message": f"database error: {exc}"}
    if report.error:
        _zero(report)
    return report


def _zero(report: Report) -> None:
    """A failed import wrote nothing: the counts say so (what was found stays for the reader)."""
    report.tickets_created = report.tickets_updated = 0
    report.comments_created = report.comments_updated = report.checklist_items = 0
    report.columns_created, report.labels_created, report.sprints_created, report.members_added = [], [], [], []


# A dry run's upload waits this long for its real run; after that the project's next import
# deletes it, so that uploads checked and never imported do not pile up in storage.
DRY_RUN_KEEP = timedelta(days=7)


def _forget_abandoned_uploads(project: Project) -> None:
    old = ImportRun.objects.filter(project=project, dry_run=True, created_at__lt=timezone.now() - DRY_RUN_KEEP)
    names = set(old.exclude(file="").values_list("file", flat=True))
    # A real run queued from one of them reads the same file: it stays until that run ends.
    busy = ImportRun.objects.filter(
        project=project, file__in=names, status__in=[ImportRun.Status.PENDING, ImportRun.Status.RUNNING]
    )
    names -= set(busy.values_list("file", flat=True))
    if not names:
        return
    ImportRun.objects.filter(project=project, file__in=names).update(file="")
    storage = ImportRun.file.field.storage

    def delete_files() -> None:
        for name in names:
            storage.delete(name)

    transaction.on_commit(delete_files)


@transaction.atomic
def import_run_create(
    *,
    project: Project,
    by: User,
    source: str,
    upload: UploadedFile[bytes] | None = None,
    mapping: dict[str, str] | None = None,
    dry_run: bool = True,
    from_run: ImportRun | None = None,
) -> ImportRun:
    """Queue an import of `upload` (or of `from_run`'s file: "import it for real" after a dry
    run) as a background task. Precondition: `by` may manage the project.

    Uploads of the project's dry runs older than DRY_RUN_KEEP that were never imported are deleted."""
    _forget_abandoned_uploads(project)
    if from_run is not None:
        if from_run.project_id != project.pk or not from_run.file:
            raise invalid("run", "That dry run's file is no longer there; upload it again.")
        source, mapping = from_run.source, from_run.mapping
    mapping = mapping or {}
    check_source(source, mapping)
    run = ImportRun(project=project, source=source, mapping=mapping, dry_run=dry_run, created_by=by)
    if from_run is not None:
        run.file = from_run.file.name
        run.filename = from_run.filename
        run.total = from_run.report.get("tickets", 0)
    else:
        if upload is None:
            raise invalid("file", "Choose a file to import.")
        if upload.size is not None and upload.size > MAX_UPLOAD:
            raise invalid("file", f"The file is larger than {MAX_UPLOAD // (1024 * 1024)} MB.")
        run.filename = (upload.name or "upload")[:255]
        run.file.save(run.filename, upload, save=False)
    run.save()

    def enqueue() -> None:
        from imports.tasks import run_import

        run_import.enqueue(run.pk)

    transaction.on_commit(enqueue, robust=True)
    return run


def import_run_execute(*, run_id: int) -> None:
    """Run a queued import (the background task). Claims the run first, so a task that is
    delivered twice runs it once."""
    claimed = ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.PENDING).update(
        status=ImportRun.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return
    run = ImportRun.objects.select_related("project", "created_by").get(pk=run_id)
    key = progress_key(run.pk)

    def progress(count: int) -> None:
        caches["progress"].set(key, count, timeout=24 * 3600)

    user = run.created_by
    if user is None:
        report = Report(source=run.source, dry_run=run.dry_run)
        report.error = {"where": "the run", "message": "The user who started it no longer exists."}
    else:
        try:
            with run.file.open("rb") as stream:
                report = import_file(
                    project=run.project,
                    by=user,
                    source=run.source,
                    stream=stream,
                    mapping=run.mapping,
                    dry_run=run.dry_run,
                    progress=progress,
                )
        except OSError as exc:
            report = Report(source=run.source, dry_run=run.dry_run)
            report.error = {"where": "the file", "message": f"cannot read the uploaded file ({exc.strerror})."}
    failed = bool(report.error)
    run.status = ImportRun.Status.FAILED if failed else ImportRun.Status.DONE
    run.report = report.as_dict()
    run.error = f"{report.error['where']}: {report.error['message']}" if failed else ""
    run.progress = report.tickets
    run.total = max(run.total, report.tickets)
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "report", "error", "progress", "total", "finished_at"])
    caches["progress"].delete(key)
    if not run.dry_run and run.file:
        # The real run is over: the upload is not needed again (a dry run keeps it for its real
        # run); the dry run that shared it then says "upload it again" instead of failing later.
        name = run.file.name
        run.file.delete(save=True)
        ImportRun.objects.filter(project=run.project, file=name).update(file="")


def import_run_progress(run: ImportRun) -> dict[str, Any]:
    """The page's and the JSON endpoint's view of a run."""
    progress = run.progress
    if run.status == ImportRun.Status.RUNNING:
        progress = caches["progress"].get(progress_key(run.pk), progress)
    percent = 100 if run.status == ImportRun.Status.DONE else (min(99, progress * 100 // run.total) if run.total else 0)
    return {
        "id": run.pk,
        "source": run.source,
        "filename": run.filename,
        "dry_run": run.dry_run,
        "status": run.status,
        "progress": progress,
        "total": run.total,
        "percent": percent,
        "error": run.error,
        "report": run.report,
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }
