"""Background imports, on Django's Tasks API (`manage.py db_worker` runs them; tests use the
immediate backend)."""

from __future__ import annotations

from django_tasks import task

from imports import services


@task()
def run_import(run_id: int) -> None:
    """Run one queued ImportRun (a dry run or the real import)."""
    services.import_run_execute(run_id=run_id)
