from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts import services
from accounts.models import ApiKey, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "display_name", "is_active", "is_staff", "date_joined", "last_login")
    list_filter = ("is_staff", "is_active", "is_superuser", "date_joined")
    search_fields = ("username", "email", "display_name")
    ordering = ("username",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Profile", {"fields": ("display_name", "email", "avatar")}),
        (
            "Rights",
            {
                "fields": ("is_active", "is_staff", "is_superuser", "global_roles", "groups", "user_permissions"),
                "description": "Staff is PUNT's site-admin role. Other global roles: metrics, backup.",
            },
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {"classes": ("wide",), "fields": ("username", "email", "usable_password", "password1", "password2")},
        ),
    )
    readonly_fields = ("last_login", "date_joined")


class ApiKeyStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "Active"), ("expired", "Expired"), ("revoked", "Revoked")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> QuerySet[ApiKey]:
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created by their owners (the secret is shown once, to them); the admin can
    see and revoke them. The hash is never displayed."""

    list_display = ("name", "user", "prefix", "scopes", "is_active", "created_at", "last_used_at", "expires_at")
    list_filter = (ApiKeyStateFilter, "created_at", "last_used_at")
    search_fields = ("name", "prefix", "user__username", "user__email")
    list_select_related = ("user",)
    fields = ("name", "user", "prefix", "scopes", "expires_at", "last_used_at", "revoked_at", "created_at")
    readonly_fields = ("user", "prefix", "scopes", "last_used_at", "revoked_at", "created_at")
    actions = ("revoke",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(boolean=True, description="active")
    def is_active(self, key: ApiKey) -> bool:
        return key.is_active

    @admin.action(description="Revoke the selected API keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = 0
        for key in queryset.filter(revoked_at__isnull=True):
            services.api_key_revoke(api_key=key)
            count += 1
        self.message_user(request, f"Revoked {count} API key(s).", messages.SUCCESS)
