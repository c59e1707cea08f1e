"""AgentsMesh routes (seed 002), included under /api/v1/ext/orgs/<org>/."""

from __future__ import annotations

from django.urls import path

from dialects.agentsmesh import views

urlpatterns = [
    path("tickets", views.TicketListView.as_view(), name="am-ticket-list"),
    # Before tickets/<slug>: "board" is not a slug.
    path("tickets/board", views.BoardView.as_view(), name="am-ticket-board"),
    path("tickets/<str:slug>", views.TicketDetailView.as_view(), name="am-ticket-detail"),
    path("tickets/<str:slug>/status", views.TicketStatusView.as_view(), name="am-ticket-status"),
]
