"""Admin screens for the integrations. Secrets (git hook and outgoing hook secrets, chat
token hashes) are never listed nor shown; revocation goes through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from webhooks import services
from webhooks.models import ChatWebhook, Delivery, GitDelivery, GitHook, Hook, IdempotencyRecord


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows are made through the API (which generates secrets); the admin looks and revokes."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(GitHook)
class GitHookAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "project",
        "provider",
        "signed",
        "created_by",
        "created_at",
        "last_delivery_at",
        "revoked_at",
    ]
    list_filter = ["provider", ("secret", admin.EmptyFieldListFilter), ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["project__key", "project__name", "token"]
    list_select_related = ["project", "created_by"]
    exclude = ["secret"]
    readonly_fields = ["signed"]
    actions = ["revoke"]

    @admin.display(boolean=True, description="secret (deliveries signed)")
    def signed(self, hook: GitHook) -> bool:
        return hook.signed

    @admin.action(description="Revoke the selected git webhooks")
    def revoke(self, request: HttpRequest, queryset: QuerySet[GitHook]) -> None:
        for hook in queryset.filter(revoked_at__isnull=True):
            services.git_hook_revoke(hook=hook, by=request.user, request=request)
        messages.success(request, "Revoked.")


@admin.register(GitDelivery)
class GitDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "hook", "event", "outcome", "delivery_id", "received_at"]
    list_filter = ["outcome", "event", "hook__provider"]
    search_fields = ["delivery_id", "hook__project__key"]
    list_select_related = ["hook", "hook__project"]


@admin.register(ChatWebhook)
class ChatWebhookAdmin(ReadOnlyAdmin):
    list_display = ["id", "name", "project", "token_prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "project__key", "project__name", "token_prefix"]
    list_select_related = ["project", "created_by"]
    exclude = ["token_hash"]
    actions = ["revoke"]

    @admin.action(description="Revoke the selected chat webhooks")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ChatWebhook]) -> None:
        for webhook in queryset.filter(revoked_at__isnull=True):
            services.chat_webhook_revoke(webhook=webhook, by=request.user, request=request)
        messages.success(request, "Revoked.")


@admin.register(Hook)
class HookAdmin(ReadOnlyAdmin):
    list_display = ["id", "url", "project", "filter", "active", "created_by", "created_at"]
    list_filter = ["active", ("filter", admin.EmptyFieldListFilter)]
    search_fields = ["url", "project__key", "project__name", "description", "filter"]
    list_select_related = ["project", "created_by"]
    exclude = ["secret"]
    actions = ["disable"]

    @admin.action(description="Disable the selected outgoing webhooks")
    def disable(self, request: HttpRequest, queryset: QuerySet[Hook]) -> None:
        for hook in queryset.filter(active=True):
            services.hook_update(hook=hook, by=request.user, request=request, active=False)
        messages.success(request, "Disabled.")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "hook", "event", "status", "attempts", "response_code", "created_at", "completed_at"]
    list_filter = ["status", "event"]
    search_fields = ["guid", "hook__url", "hook__project__key"]
    list_select_related = ["hook"]
    actions = ["redeliver"]

    @admin.action(description="Redeliver the selected deliveries")
    def redeliver(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        for delivery in queryset.select_related("hook"):
            services.delivery_redeliver(delivery=delivery, by=request.user)
        messages.success(request, "Queued again.")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ["key", "user", "method", "path", "status_code", "created_at"]
    list_filter = ["method"]
    search_fields = ["key", "path", "user__username"]
    list_select_related = ["user"]
