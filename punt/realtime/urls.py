"""PUNT-dialect SSE routes, included under /api/ (seed 000)."""

from __future__ import annotations

from django.urls import path, re_path

from punt.realtime import sse

urlpatterns = [
    # Before <projectId>/events: "events" is not a project id.
    path("projects/events", sse.project_list_events, name="sse-project-list"),
    re_path(r"^projects/(?P<project_id>[A-Za-z0-9]{1,20})/events$", sse.project_events, name="sse-project"),
    path("users/events", sse.user_events, name="sse-user"),
]
