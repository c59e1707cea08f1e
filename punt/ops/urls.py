"""/api/v1/ routes for operations: backup, restore, metrics."""

from __future__ import annotations

from django.urls import path

from punt.ops import api

urlpatterns = [
    path("admin/backup", api.BackupView.as_view(), name="admin-backup"),
    path("admin/restore", api.RestoreView.as_view(), name="admin-restore"),
    path("metrics", api.MetricsView.as_view(), name="metrics"),
]
