"""Reads of the integrations, scoped to one project the caller was already checked against."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from projects.models import Project
from webhooks.models import ChatWebhook, Delivery, GitHook, Hook, hash_token


def git_hooks_for(*, project: Project) -> QuerySet[GitHook]:
    return GitHook.objects.filter(project=project).select_related("created_by")


def git_hook_get(*, project: Project, hook_id: int) -> GitHook:
    hook = git_hooks_for(project=project).filter(pk=hook_id).first()
    if hook is None:
        raise Http404("Git webhook not found.")
    return hook


def git_hook_by_token(*, provider: str, token: str) -> GitHook:
    """The live hook behind a receiver URL; 404 for an unknown or revoked token, or another host's URL."""
    hook = (
        GitHook.objects.select_related("project")
        .filter(token=token, provider=provider, revoked_at__isnull=True, project__archived_at__isnull=True)
        .first()
    )
    if hook is None:
        raise Http404("Unknown webhook.")
    return hook


def chat_webhooks_for(*, project: Project) -> QuerySet[ChatWebhook]:
    return ChatWebhook.objects.filter(project=project).select_related("created_by")


def chat_webhook_get(*, project: Project, webhook_id: int) -> ChatWebhook:
    webhook = chat_webhooks_for(project=project).filter(pk=webhook_id).first()
    if webhook is None:
        raise Http404("Chat webhook not found.")
    return webhook


def chat_webhook_by_token(*, token: str) -> ChatWebhook:
    webhook = (
        ChatWebhook.objects.select_related("project", "project__owner_user", "project__organization", "created_by")
        .filter(token_hash=hash_token(token), revoked_at__isnull=True, project__archived_at__isnull=True)
        .first()
    )
    if webhook is None:
        raise Http404("Unknown webhook.")
    return webhook


def hooks_for(*, project: Project) -> QuerySet[Hook]:
    return Hook.objects.filter(project=project).select_related("created_by")


def hook_get(*, project: Project, hook_id: int) -> Hook:
    hook = hooks_for(project=project).filter(pk=hook_id).first()
    if hook is None:
        raise Http404("Webhook not found.")
    return hook


def deliveries_for(*, hook: Hook, status: str | None = None) -> QuerySet[Delivery]:
    queryset = Delivery.objects.filter(hook=hook).order_by("-id")
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def delivery_get(*, hook: Hook, delivery_id: int) -> Delivery:
    delivery = Delivery.objects.filter(hook=hook, pk=delivery_id).select_related("hook").first()
    if delivery is None:
        raise Http404("Delivery not found.")
    return delivery
