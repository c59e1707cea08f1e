"""Moving the test database between migrations, for the tests of data migrations."""

from __future__ import annotations

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate_to(targets: list) -> Apps:
    """Migrate to `targets`; the historical models there (an app at None, "zero", is left out)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def migrate_to_latest() -> None:
    """Back to the newest migrations of every app, not just a test's "after" state: migrations
    added since must be in place for the tests that run next on this database."""
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
