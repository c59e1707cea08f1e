"""Django admin for namespaces, projects and board structure: what a site admin needs to find and fix."""

from __future__ import annotations

from django.contrib import admin

from projects.models import Column, Label, Membership, Organization, OrganizationMembership, Project, Sprint


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
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


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


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["project", "user", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["project__key", "project__name", "user__username", "user__email"]
    list_select_related = ["project", "user"]
    autocomplete_fields = ["project"]
    raw_id_fields = ["user"]


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
