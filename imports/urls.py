"""/api/v1/ routes for exports (imports run from the project settings page and the command)."""

from __future__ import annotations

from django.urls import path

from imports import api

urlpatterns = [
    path("projects/<slug:slug>/export.csv", api.ExportCsvView.as_view(), name="project-export-csv"),
    path("projects/<slug:slug>/export.json", api.ExportJsonView.as_view(), name="project-export-json"),
]
