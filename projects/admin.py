"""Django admin for namespaces, projects and board structure: what a site admin needs to find and fix.

Saves and deletes go through the projects services, so the admin keeps the rules the app keeps
(one owner, one active sprint, a board keeps a column, an organization keeps an owner) and
sends the same real-time events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from projects import services
from projects.models import Column, Label, Membership, Organization, OrganizationMembership, Project, Sprint
from punt.admin_tools import ServiceAdmin, form_changes

OWNER_MESSAGE = (
    "A project has exactly one owner. Hand it over with POST /api/v1/projects/<slug>/transfer-ownership "
    "(or the project's settings page), which demotes the old owner in the same step."
)


class OrganizationMembershipInline(admin.TabularInline):
    """Who is in the organization; roles are changed on the membership page, which keeps an owner."""

    model = OrganizationMembership
    extra = 0
    fields = ("user", "role", "created_at")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Organization)
class OrganizationAdmin(ServiceAdmin):
    list_display = ["slug", "name", "created_at"]
    search_fields = ["slug", "name"]
    date_hierarchy = "created_at"
    inlines = [OrganizationMembershipInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # organization_create checks the slug against user names and makes the creator owner.
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The slug is a namespace in every project URL; it is chosen once.
        return [*super().get_readonly_fields(request, obj), "slug"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        field = form.base_fields.get("default_project")
        if isinstance(field, forms.ModelChoiceField):
            # Only this organization's live projects may become its default (organization_update checks
            # it too); one archived since it was chosen stays listed, so the form still saves.
            live_or_current = Q(archived_at__isnull=True) | Q(pk=obj.default_project_id) if obj else Q(pk__in=[])
            projects = Project.objects.filter(live_or_current, organization=obj)
            field.queryset = projects.order_by("created_at", "id")
            field.help_text = "Tickets created without a repository (AgentsMesh API) go here; empty: the first project."
        return form

    def save_model(self, request: HttpRequest, obj: Organization, form: Any, change: bool) -> None:
        changes = form_changes(form, ["name", "description"])
        if "default_project" in form.changed_data:
            changes["default_project_id"] = obj.default_project_id
        if changes:
            services.organization_update(org=Organization.objects.get(pk=obj.pk), by=request.user, **changes)

    def delete_model(self, request: HttpRequest, obj: Organization) -> None:
        services.organization_delete(org=obj, by=request.user)  # refused while it holds projects


@admin.register(OrganizationMembership)
class OrganizationMembershipAdmin(ServiceAdmin):
    list_display = ["organization", "user", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["organization__slug", "user__username", "user__email"]
    list_select_related = ["organization", "user"]
    autocomplete_fields = ["organization"]
    raw_id_fields = ["user"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "organization", "user"] if obj is not None else fields

    def save_model(self, request: HttpRequest, obj: OrganizationMembership, form: Any, change: bool) -> None:
        if not change:
            saved = services.organization_member_add(
                org=obj.organization, username=obj.user.username, role=obj.role, by=request.user, request=request
            )
            obj.pk = saved.pk
        elif "role" in form.changed_data:
            membership = OrganizationMembership.objects.select_related("organization").get(pk=obj.pk)
            services.organization_member_update(membership=membership, role=obj.role, by=request.user, request=request)

    def delete_model(self, request: HttpRequest, obj: OrganizationMembership) -> None:
        services.organization_member_remove(
            membership=obj, by=request.user, request=request
        )  # an organization keeps an owner


class MembershipInline(admin.TabularInline):
    """Who is in the project, at a glance; roles are changed on the membership page, which guards the owner."""

    model = Membership
    extra = 0
    fields = ("user", "role", "created_at")
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
        super().clean()
        cleaned = self.cleaned_data  # what ModelForm.clean() returns; the stubs allow None
        was_owner = self.instance.pk is not None and self.instance.role == Membership.Role.OWNER
        becomes_owner = cleaned.get("role") == Membership.Role.OWNER
        # Making a second owner would hit the one-owner constraint (a 500); demoting the owner
        # would leave the project with none. Both are what transfer-ownership does safely.
        if was_owner != becomes_owner:
            raise forms.ValidationError(OWNER_MESSAGE)
        return cleaned


class ColumnInline(admin.TabularInline):
    """The board's columns at a glance; each is changed on its own page (through the service)."""

    model = Column
    extra = 0
    fields = ("name", "order", "category", "wip_limit")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ArchivedFilter(admin.SimpleListFilter):
    title = "archived"
    parameter_name = "archived"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
        return [("yes", "Archived"), ("no", "Active")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(archived_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(archived_at__isnull=True)
        return queryset


PROJECT_HELP = (
    "Name, description and colour are saved through the same service as the project settings "
    "page. Archive and restore are actions on the project list. Delete removes the project and "
    "everything in it for good (tickets, files, chat) and tells its members' open pages."
)


@admin.register(Project)
class ProjectAdmin(ServiceAdmin):
    list_display = ["key", "slug", "name", "owner_user", "organization", "ticket_counter", "archived_at", "created_at"]
    list_filter = [ArchivedFilter, "created_at"]
    search_fields = ["key", "slug", "name", "path", "owner_user__username", "organization__slug"]
    list_select_related = ["owner_user", "organization"]
    fieldsets = [
        (None, {"fields": ["name", "description", "color"], "description": PROJECT_HELP}),
        (
            "Kept by the services",
            {
                "fields": [
                    "key",
                    "slug",
                    "path",
                    "owner_user",
                    "organization",
                    "created_by",
                    "ticket_counter",
                    "archived_at",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]
    # The key is immutable (seed 001): tickets are known by it. The slug is in every /api/v1 URL.
    # The path follows the name; the namespace changes only by transfer; archiving is an action.
    readonly_fields = [
        "key",
        "slug",
        "path",
        "owner_user",
        "organization",
        "created_by",
        "ticket_counter",
        "archived_at",
        "created_at",
        "updated_at",
    ]
    inlines = [MembershipInline, ColumnInline]
    actions = ["archive_projects", "restore_projects"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # project_create validates the key, makes the creator owner and lays out the default
        # columns; a bare admin form would skip all three. Projects are created in the app or API.
        return False

    def save_model(self, request: HttpRequest, obj: Project, form: Any, change: bool) -> None:
        changes = form_changes(form, ["name", "description", "color"])
        if changes:
            services.project_update(project=Project.objects.get(pk=obj.pk), by=request.user, **changes)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[Any, Any, set[str], Any]:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # project_delete removes what a plain cascade would refuse: the owner's membership (never
        # deleted on its own) and the tickets (Ticket.column is PROTECT; the service deletes
        # them before the columns, and the tickets are listed as protected here).
        perms_needed.discard(str(Membership._meta.verbose_name))
        # Ticket.column is the only PROTECT link, and the tickets are the project's own.
        protected = []
        return deleted, counts, perms_needed, protected

    def delete_model(self, request: HttpRequest, obj: Project) -> None:
        services.project_delete(project=obj, by=request.user, request=request)

    @admin.action(description="Archive the selected projects (read-only, restorable)")
    def archive_projects(self, request: HttpRequest, queryset: QuerySet[Project]) -> None:
        self.run_each(
            request,
            queryset.filter(archived_at__isnull=True),
            lambda project: services.project_archive(project=project, by=request.user, request=request),
            done="Archived {count} project(s).",
        )

    @admin.action(description="Restore the selected archived projects")
    def restore_projects(self, request: HttpRequest, queryset: QuerySet[Project]) -> None:
        self.run_each(
            request,
            queryset.filter(archived_at__isnull=False),
            lambda project: services.project_restore(project=project, by=request.user, request=request),
            done="Restored {count} project(s).",
        )


@admin.register(Membership)
class MembershipAdmin(ServiceAdmin):
    form = MembershipAdminForm
    list_display = ["project", "user", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["project__key", "project__name", "user__username", "user__email"]
    list_select_related = ["project", "user"]
    autocomplete_fields = ["project"]
    raw_id_fields = ["user"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A membership is a person in a project: changing either makes it another membership.
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "project", "user"] if obj is not None else fields

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        if not change:
            saved = services.membership_add(
                project=obj.project, username=obj.user.username, role=obj.role, by=request.user, request=request
            )
            obj.pk = saved.pk
        elif "role" in form.changed_data:
            membership = Membership.objects.select_related("user").get(pk=obj.pk)
            services.membership_update(membership=membership, role=obj.role, by=request.user, request=request)

    def has_delete_permission(self, request: HttpRequest, obj: Membership | None = None) -> bool:
        if obj is not None and obj.role == Membership.Role.OWNER:
            return False  # the project would be left without an owner
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        services.membership_remove(membership=obj, by=request.user, request=request)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # Bulk deletion cannot tell owners apart; members are removed one at a time.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class ProjectChildAdmin(ServiceAdmin):
    """A column, label or sprint: made in a project and kept there (the project is read-only
    once saved), written through its services. `service_fields` are the fields the admin
    edits, passed to `create` and, when changed, to `update`; the services take the object
    under its model name (`column=`, `label=`, `sprint=`)."""

    list_select_related = ["project"]
    autocomplete_fields = ["project"]
    service_fields: tuple[str, ...] = ()
    create: Callable[..., Any]
    update: Callable[..., Any]
    delete: Callable[..., Any]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "project"] if obj is not None else fields

    def _keyword(self) -> str:
        """The services' keyword for the object: its model name."""
        return str(self.opts.model_name)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            values = {name: getattr(obj, name) for name in self.service_fields}
            obj.pk = self.create(project=obj.project, by=request.user, **values).pk
            return
        changes = form_changes(form, self.service_fields)
        if changes:
            stored = type(obj).objects.select_related("project").get(pk=obj.pk)
            self.update(**{self._keyword(): stored}, by=request.user, **changes)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self.delete(**{self._keyword(): obj}, by=request.user)


@admin.register(Column)
class ColumnAdmin(ProjectChildAdmin):
    """Order is changed by dragging columns on the board; a column holding tickets cannot be
    deleted here (move its tickets on the board, or delete it there, which moves them)."""

    list_display = ["name", "project", "order", "category", "wip_limit"]
    list_filter = ["category"]
    search_fields = ["name", "project__key", "project__name"]
    readonly_fields = ["order"]
    service_fields = ("name", "category", "wip_limit")
    create = staticmethod(services.column_create)
    update = staticmethod(services.column_update)
    delete = staticmethod(services.column_delete)


@admin.register(Label)
class LabelAdmin(ProjectChildAdmin):
    list_display = ["name", "project", "color", "created_at"]
    search_fields = ["name", "project__key", "project__name"]
    service_fields = ("name", "color", "description")
    create = staticmethod(services.label_create)
    update = staticmethod(services.label_update)
    delete = staticmethod(services.label_delete)


@admin.register(Sprint)
class SprintAdmin(ProjectChildAdmin):
    """Status changes with the start and complete actions (one active sprint per project;
    completing moves unfinished tickets to the backlog). An active sprint is not deleted."""

    list_display = ["name", "project", "status", "start_date", "end_date", "started_at", "completed_at"]
    list_filter = ["status", "start_date"]
    search_fields = ["name", "goal", "project__key", "project__name"]
    readonly_fields = ["status", "started_at", "completed_at"]
    actions = ["start_sprints", "complete_sprints"]
    service_fields = ("name", "goal", "start_date", "end_date")
    create = staticmethod(services.sprint_create)
    update = staticmethod(services.sprint_update)
    delete = staticmethod(services.sprint_delete)

    @admin.action(description="Start the selected sprints")
    def start_sprints(self, request: HttpRequest, queryset: QuerySet[Sprint]) -> None:
        self.run_each(
            request,
            queryset,
            lambda sprint: services.sprint_start(sprint=sprint, by=request.user),
            done="Started {count} sprint(s).",
        )

    @admin.action(description="Complete the selected sprints (unfinished tickets go to the backlog)")
    def complete_sprints(self, request: HttpRequest, queryset: QuerySet[Sprint]) -> None:
        self.run_each(
            request,
            queryset,
            lambda sprint: services.sprint_complete(sprint=sprint, by=request.user),
            done="Completed {count} sprint(s).",
        )
