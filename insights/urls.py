"""/api/v1/ routes for insights: one path per insight, so each has its own parameters and response in the schema."""

from __future__ import annotations

from django.urls import path

from insights import api

urlpatterns = [
    path(
        "projects/<slug:slug>/insights/cumulative-flow",
        api.CumulativeFlowView.as_view(),
        name="insights-cumulative-flow",
    ),
    path("projects/<slug:slug>/insights/cycle-time", api.CycleTimeView.as_view(), name="insights-cycle-time"),
    path("projects/<slug:slug>/insights/throughput", api.ThroughputView.as_view(), name="insights-throughput"),
    path("projects/<slug:slug>/insights/velocity", api.VelocityView.as_view(), name="insights-velocity"),
    path("projects/<slug:slug>/insights/forecast", api.ForecastView.as_view(), name="insights-forecast"),
    path("projects/<slug:slug>/insights/aging-wip", api.AgingWipView.as_view(), name="insights-aging-wip"),
]
