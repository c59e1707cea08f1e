"""/api/v1/ routes for time tracking and reports (seed 004's "Time and reports")."""

from __future__ import annotations

from django.urls import path

from tickets import time_api

urlpatterns = [
    # One ViewSet mapped by hand: a router's <basename>-list/-detail names would not keep these URL names.
    path("time-entries", time_api.TimeEntryViewSet.as_view({"get": "list", "post": "create"}), name="time-entries"),
    path(
        "time-entries/<int:entry_id>",
        time_api.TimeEntryViewSet.as_view(
            {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
        ),
        name="time-entry-detail",
    ),
    path("reports/time", time_api.TimeReportView.as_view(), name="report-time"),
    path("reports/timesheet", time_api.TimesheetView.as_view(), name="report-timesheet"),
    path("reports/estimates", time_api.EstimatesReportView.as_view(), name="report-estimates"),
]
