from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from accounts import services
from accounts.forms import AdminLoginForm
from accounts.models import ApiKey, SystemSettings, User
from punt import errors
from punt.admin_tools import ServiceAdmin
from punt.api.request import request_user

# The admin's sign-in page is one more way to guess passwords: the same limits apply there.
admin.site.login_form = AdminLoginForm


def _clean_username(form: forms.ModelForm) -> str:
    # The same rules as registration: URL-safe, and not taken by a user or an organization.
    instance = form.instance if form.instance.pk else None
    try:
        return services.username_check(username=form.cleaned_data.get("username", ""), exclude_user=instance)
    except errors.Invalid as error:
        raise forms.ValidationError(errors.field_errors(error).get("username", [error.message])) from None


class PuntUserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User

    def clean_username(self) -> str:
        return _clean_username(self)


class PuntUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User

    def clean_username(self) -> str:
        return _clean_username(self)


@admin.register(User)
class UserAdmin(ServiceAdmin, DjangoUserAdmin):
    add_form = PuntUserCreationForm
    form = PuntUserChangeForm
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

    actions = ("deactivate",)

    @admin.action(description="Deactivate the selected users (signs them out everywhere)")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        me = request_user(request)
        count = 0
        for user in queryset.filter(is_active=True).exclude(pk=me.pk):
            services.user_deactivate(user=user, by=me, request=request)
            count += 1
        self.message_user(request, f"Deactivated {count} user(s).", messages.SUCCESS)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        changed = set(form.changed_data) if change else set()
        if not changed & {"is_active", "is_staff", "global_roles"}:
            super().save_model(request, obj, form, change)
            return
        # Who may be deactivated or lose the admin role is the service's rule (an admin cannot
        # lock themselves out), and it signs a deactivated user out everywhere: the form saves
        # the other fields, the service applies these.
        is_active = obj.is_active if "is_active" in changed else None
        roles = None
        if changed & {"is_staff", "global_roles"}:
            roles = [*obj.global_roles, *([User.GlobalRole.ADMIN.value] if obj.is_staff else [])]
        stored = User.objects.get(pk=obj.pk)
        obj.is_active, obj.is_staff, obj.global_roles = stored.is_active, stored.is_staff, stored.global_roles
        super().save_model(request, obj, form, change)
        services.user_admin_update(
            user=obj, by=request_user(request), is_active=is_active, global_roles=roles, request=request
        )


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
            services.api_key_revoke(api_key=key, by=request_user(request), request=request)
            count += 1
        self.message_user(request, f"Revoked {count} API key(s).", messages.SUCCESS)


class SystemSettingsForm(forms.ModelForm):
    class Meta:
        model = SystemSettings
        fields = (
            "site_name",
            "registration_open",
            "max_upload_bytes",
            "allowed_upload_types",
            "default_member_role",
            "webhooks_allow_private",
            "signup_email_domains",
            "password_signup",
            "email_verification",
            "require_two_factor",
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data  # what ModelForm.clean() returns; the stubs allow None
        given = {name: cleaned[name] for name in self.Meta.fields if cleaned.get(name) is not None}
        if not isinstance(given.get("allowed_upload_types", []), list):
            self.add_error("allowed_upload_types", 'Enter a JSON list, e.g. ["image/*", "application/pdf"].')
            return cleaned
        if not isinstance(given.get("signup_email_domains", []), list):
            self.add_error("signup_email_domains", 'Enter a JSON list, e.g. ["example.com"].')
            return cleaned
        try:
            # The API's rules, so both doors accept the same values.
            cleaned.update(services.system_settings_clean(**given))
        except errors.Invalid as exc:
            for field, messages_ in errors.field_errors(exc).items():
                self.add_error(field if field in self.fields else None, messages_)
        return cleaned


@admin.register(SystemSettings)
class SystemSettingsAdmin(admin.ModelAdmin):
    """One row: the list opens it directly; it can be added once and never deleted."""

    form = SystemSettingsForm
    readonly_fields = ("updated_at", "updated_by")
    fieldsets = (
        (None, {"fields": ("site_name", "registration_open", "default_member_role")}),
        ("Uploads", {"fields": ("max_upload_bytes", "allowed_upload_types")}),
        (
            "Sign-in",
            {
                "fields": ("password_signup", "signup_email_domains", "email_verification", "require_two_factor"),
                "description": "Company sign-in providers (GitHub, GitLab, Google, OpenID Connect) are set up "
                "under Social applications, or from the environment (see the README).",
            },
        ),
        ("Outgoing webhooks", {"fields": ("webhooks_allow_private",)}),
        ("Last change", {"fields": ("updated_at", "updated_by")}),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and not SystemSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        row = SystemSettings.objects.filter(pk=SystemSettings.SINGLETON_PK).first()
        if row is None:
            return redirect("admin:accounts_systemsettings_add")
        return redirect("admin:accounts_systemsettings_change", row.pk)

    def save_model(self, request: HttpRequest, obj: SystemSettings, form: Any, change: bool) -> None:
        values = {name: form.cleaned_data[name] for name in SystemSettingsForm.Meta.fields}
        saved = services.system_settings_update(by=request_user(request), request=request, **values)
        obj.pk = saved.pk
        obj._state.adding = False
