"""/api/v1/ routes of the integrations (seed 004's Ticket API and webhooks, plus outgoing hooks)."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from webhooks import api

P = "projects/<slug:slug>"

# Management of hooks: one ViewSet each; the router names routes <basename>-list/-detail/-<action>.
router = SimpleRouter(trailing_slash=False, use_regex_path=False)
router.register(f"{P}/git-hooks", api.GitHookViewSet, basename="git-hook")
router.register(f"{P}/chat-webhooks", api.ChatWebhookViewSet, basename="chat-webhook")
router.register(f"{P}/hooks", api.HookViewSet, basename="hook")
router.register(f"{P}/hooks/<int:hook_id>/deliveries", api.DeliveryViewSet, basename="hook-delivery")

urlpatterns = [
    # CI Ticket API
    path(f"{P}/ticket", api.TicketApiCreateView.as_view(), name="ticket-api-create"),
    path(f"{P}/ticket/<str:key>", api.TicketApiUpdateView.as_view(), name="ticket-api-update"),
    # Git hosts
    path("github-webhook/<str:token>", api.GitHubReceiverView.as_view(), name="github-webhook"),
    path("gitlab-webhook/<str:token>", api.GitLabReceiverView.as_view(), name="gitlab-webhook"),
    path("gitea-webhook/<str:token>", api.GiteaReceiverView.as_view(), name="gitea-webhook"),
    # Incoming chat webhooks
    path("webhooks/<str:token>", api.ChatWebhookPostView.as_view(), name="chat-webhook-post"),
    # git-hooks, chat-webhooks, outgoing hooks and their deliveries
    *router.urls,
]
