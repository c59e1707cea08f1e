"""/api/v1/ routes of the integrations (seed 004's Ticket API and webhooks, plus outgoing hooks)."""

from __future__ import annotations

from django.urls import path

from webhooks import api

P = "projects/<slug:slug>"
H = f"{P}/hooks/<int:hook_id>"

urlpatterns = [
    # CI Ticket API
    path(f"{P}/ticket", api.TicketApiCreateView.as_view(), name="ticket-api-create"),
    path(f"{P}/ticket/<str:key>", api.TicketApiUpdateView.as_view(), name="ticket-api-update"),
    # Git hosts
    path(f"{P}/git-hooks", api.GitHookListView.as_view(), name="git-hook-list"),
    path(f"{P}/git-hooks/<int:hook_id>", api.GitHookDetailView.as_view(), name="git-hook-detail"),
    path("github-webhook/<str:token>", api.GitHubReceiverView.as_view(), name="github-webhook"),
    path("gitlab-webhook/<str:token>", api.GitLabReceiverView.as_view(), name="gitlab-webhook"),
    path("gitea-webhook/<str:token>", api.GiteaReceiverView.as_view(), name="gitea-webhook"),
    # Incoming chat webhooks
    path(f"{P}/chat-webhooks", api.ChatWebhookListView.as_view(), name="chat-webhook-list"),
    path(f"{P}/chat-webhooks/<int:webhook_id>", api.ChatWebhookDetailView.as_view(), name="chat-webhook-detail"),
    path("webhooks/<str:token>", api.ChatWebhookPostView.as_view(), name="chat-webhook-post"),
    # Outgoing webhooks
    path(f"{P}/hooks", api.HookListView.as_view(), name="hook-list"),
    path(H, api.HookDetailView.as_view(), name="hook-detail"),
    path(f"{H}/deliveries", api.DeliveryListView.as_view(), name="hook-delivery-list"),
    path(f"{H}/deliveries/<int:delivery_id>", api.DeliveryDetailView.as_view(), name="hook-delivery-detail"),
    path(
        f"{H}/deliveries/<int:delivery_id>/redeliver",
        api.DeliveryRedeliverView.as_view(),
        name="hook-delivery-redeliver",
    ),
]
