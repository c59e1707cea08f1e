"""Django admin for namespaces, projects and board structure: what a site admin needs to find and fix."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from projects.models import Column, Label, Membership, Organization, OrganizationMembership, Project, Sprint

OWNER_MESSAGE = (
    "A project has exactly one owner. Hand it over with POST /api/v1/projects/<slug>/transfer-ownership "
    "(or the project's settings page), which demotes the old owner in the same step."
)


class OrganizationMembershipInline(admin.TabularInline):
    model = OrganizationMembership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "created_at"]
    search_fields = ["slug", "name"]
    date_hierarchy = "created_at"
    inlines = [OrganizationMembershipInline]


@admin.register(OrganizationMembership)
class OrganizationMembershipAdmin(admin.ModelAdmin):
    list_display = ["organization", "user", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["organization__slug", "user__username", "user__email"]
    list_select_related = ["organization", "user"]
    autocomplete_fields = ["organization"]
    raw_id_fields = ["user"]


class MembershipInline(admin.TabularInline):
    """Who is in the project, at a glance; roles are changed on the membership page, which guards the owner."""

    model = Membership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MembershipAdminForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["project", "user", "role"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        was_owner = self.instance.pk is not None and self.instance.role == Membership.Role.OWNER
        becomes_owner = cleaned.get("role") == Membership.Role.OWNER
        # Making a second owner would hit the one-owner constraint (a 500); demoting the owner
        # would leave the project with none. Both are what transfer-ownership does safely.
        if was_owner != becomes_owner:
            raise forms.ValidationError(OWNER_MESSAGE)
        if was_owner and cleaned.get("project") != self.instance.project:
            raise forms.ValidationError(OWNER_MESSAGE)
        return cleaned


class ColumnInline(admin.TabularInline):
    model = Column
    extra = 0
    fields = ["name", "order", "category", "wip_limit"]


class ArchivedFilter(admin.SimpleListFilter):
    title = "archived"
    parameter_name = "archived"

    def lookups(self, request, model_admin):  # type: ignore[no-untyped-def]
        return [("yes", "Archived"), ("no", "Active")]

    def queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        if self.value() == "yes":
            return queryset.filter(archived_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(archived_at__isnull=True)
        return queryset


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "owner_user", "organization", "ticket_counter", "archived_at", "created_at"]
    list_filter = [ArchivedFilter, "created_at"]
    search_fields = ["key", "name", "path", "owner_user__username", "organization__slug"]
    list_select_related = ["owner_user", "organization"]
    autocomplete_fields = ["organization"]
    raw_id_fields = ["owner_user", "created_by"]
    readonly_fields = ["ticket_counter", "created_at", "updated_at"]
    inlines = [MembershipInline, ColumnInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # project_create validates the key, makes the creator owner and lays out the default
        # columns; a bare admin form would skip all three. Projects are created in the app or API.
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The key is immutable (seed 001): tickets are known by it and its slug is in every URL.
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "key"] if obj is not None else fields


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipAdminForm
    list_display = ["project", "user", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["project__key", "project__name", "user__username", "user__email"]
    list_select_related = ["project", "user"]
    autocomplete_fields = ["project"]
    raw_id_fields = ["user"]

    def has_delete_permission(self, request: HttpRequest, obj: Membership | None = None) -> bool:
        if obj is not None and obj.role == Membership.Role.OWNER:
            return False  # the project would be left without an owner
        return super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # Bulk deletion cannot tell owners apart; members are removed one at a time.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(Column)
class ColumnAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "order", "category", "wip_limit"]
    list_filter = ["category"]
    search_fields = ["name", "project__key", "project__name"]
    list_select_related = ["project"]
    autocomplete_fields = ["project"]


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "color", "created_at"]
    search_fields = ["name", "project__key", "project__name"]
    list_select_related = ["project"]
    autocomplete_fields = ["project"]


@admin.register(Sprint)
class SprintAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "status", "start_date", "end_date", "started_at", "completed_at"]
    list_filter = ["status", "start_date"]
    search_fields = ["name", "goal", "project__key", "project__name"]
    list_select_related = ["project"]
    autocomplete_fields = ["project"]
