"""/api/v1/ routes for time tracking and reports (seed 004's "Time and reports")."""

from __future__ import annotations

from django.urls import path

from tickets import time_api

urlpatterns = [
    path("time-entries", time_api.TimeEntryListView.as_view(), name="time-entries"),
    path("time-entries/<int:entry_id>", time_api.TimeEntryDetailView.as_view(), name="time-entry-detail"),
    path("reports/time", time_api.TimeReportView.as_view(), name="report-time"),
    path("reports/timesheet", time_api.TimesheetView.as_view(), name="report-timesheet"),
    path("reports/estimates", time_api.EstimatesReportView.as_view(), name="report-estimates"),
]
