"""Django admin for tickets and what hangs off them: what a site admin needs to find and fix.

Every write here goes through the tickets services, as a write in the app would: the timeline
gets its event, open boards their real-time event, watchers their notification, and a hard
delete removes the attachment files from storage. Where the board is the right tool (moving a
card, reordering) the admin shows the field read-only and offers an action instead.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from punt.admin_tools import ServiceAdmin
from tickets import services
from tickets.models import (
    Attachment,
    ChecklistItem,
    CustomField,
    CustomFieldOption,
    Event,
    GitLink,
    SavedView,
    Ticket,
    TicketRelation,
    TimeEntry,
    Watcher,
)
from tickets.selectors import CARD_KEY_RE
from tickets.services import custom_fields as custom_field_services
from tickets.services.time import time_entry_delete, time_entry_update


class ReadOnlyInline(admin.TabularInline):
    """Shown on the ticket for context; changed on its own admin page, which calls the service."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ChecklistItemInline(ReadOnlyInline):
    model = ChecklistItem
    fields = ("text", "done", "order")
    readonly_fields = fields


class GitLinkInline(ReadOnlyInline):
    model = GitLink
    fields = ("kind", "url", "title", "ref", "state")
    readonly_fields = fields


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fields = ("filename", "content_type", "size", "uploaded_by", "created_at")
    readonly_fields = fields


# What the ticket form may change; saving hands exactly the changed ones to ticket_update.
TICKET_EDITABLE = [
    "title",
    "body",
    "type",
    "priority",
    "assignee",
    "labels",
    "sprint",
    "parent",
    "due_date",
    "estimate",
]

TICKET_HELP = (
    "Saving goes through the same service as the app: the timeline records the change and open "
    "boards update. The column, state and rank are changed on the board (or with the actions on "
    "the ticket list: close, reopen). Delete removes the ticket for good, with its timeline, "
    "checklist and attachment files; to hide it from the board but keep it restorable, use the "
    'list action "Move to the trash" instead.'
)


@admin.register(Ticket)
class TicketAdmin(ServiceAdmin):
    list_display = ["key", "title", "project", "type", "priority", "state", "column", "assignee", "updated_at"]
    list_filter = ["project", "type", "priority", "state", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "project__key"]
    list_select_related = ["project", "column", "assignee"]
    raw_id_fields = ["assignee", "parent", "sprint"]
    fieldsets = [
        (None, {"fields": ["project", "number", *TICKET_EDITABLE], "description": TICKET_HELP}),
        (
            "Kept by the services",
            {
                "fields": [
                    "column",
                    "rank",
                    "state",
                    "closed_at",
                    "closed_by",
                    "reporter",
                    "updated_by",
                    "deleted_at",
                    "deleted_by",
                    "body_html",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]
    readonly_fields = [
        "project",
        "number",
        "column",
        "rank",
        "state",
        "closed_at",
        "closed_by",
        "reporter",
        "updated_by",
        "deleted_at",
        "deleted_by",
        "body_html",
        "created_at",
        "updated_at",
    ]
    filter_horizontal = ["labels"]
    date_hierarchy = "created_at"
    inlines = [ChecklistItemInline, GitLinkInline, AttachmentInline]
    actions = ["close_tickets", "reopen_tickets", "trash_tickets", "restore_tickets"]

    @admin.display(description="Key", ordering="number")
    def key(self, ticket: Ticket) -> str:
        return ticket.key

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A ticket is born through ticket_create (the API, the pages, the dialects): it allocates
        # the per-project number under a lock and writes the timeline. A bare admin form has no
        # number to give and would fail on the NOT NULL column.
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Ticket], search_term: str
    ) -> tuple[QuerySet[Ticket], bool]:
        # The key is not a column: "BLOG-42" means project BLOG, number 42.
        match = CARD_KEY_RE.match(search_term.strip())
        if match:
            found = queryset.filter(project__key=match.group(1).upper(), number=int(match.group(2)))
            return found, False
        return super().get_search_results(request, queryset, search_term)

    def save_model(self, request: HttpRequest, obj: Ticket, form: ModelForm, change: bool) -> None:
        # The form has already written its values onto `obj`; the service needs the row as it
        # is, to record old and new values.
        changes: dict[str, Any] = {
            name: form.cleaned_data[name] for name in form.changed_data if name in TICKET_EDITABLE
        }
        if "labels" in changes:
            changes["labels"] = [label.pk for label in changes["labels"]]
        if changes:
            services.ticket_update(ticket=Ticket.objects.get(pk=obj.pk), by=request.user, **changes)

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool) -> None:
        # Labels went through ticket_update with the other fields (no form.save_m2m()); the
        # inlines are read-only, so saving them writes nothing.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request: HttpRequest, obj: Ticket) -> None:
        services.ticket_destroy(ticket=obj, by=request.user)

    @admin.action(description="Close the selected tickets (move them to a done column)")
    def close_tickets(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        self.run_each(
            request,
            queryset.filter(deleted_at__isnull=True).select_related("project", "column"),
            lambda ticket: services.ticket_close(ticket=ticket, by=request.user),
            done="Closed {count} ticket(s).",
        )

    @admin.action(description="Reopen the selected tickets")
    def reopen_tickets(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        self.run_each(
            request,
            queryset.filter(deleted_at__isnull=True).select_related("project", "column"),
            lambda ticket: services.ticket_reopen(ticket=ticket, by=request.user),
            done="Reopened {count} ticket(s).",
        )

    @admin.action(description="Move the selected tickets to the trash (restorable)")
    def trash_tickets(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        self.run_each(
            request,
            queryset.filter(deleted_at__isnull=True).select_related("project"),
            lambda ticket: services.ticket_delete(ticket=ticket, by=request.user),
            done="Moved {count} ticket(s) to the trash.",
        )

    @admin.action(description="Restore the selected tickets from the trash")
    def restore_tickets(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        self.run_each(
            request,
            queryset.filter(deleted_at__isnull=False).select_related("project"),
            lambda ticket: services.ticket_restore(ticket=ticket, by=request.user),
            done="Restored {count} ticket(s).",
        )


@admin.register(Event)
class EventAdmin(ServiceAdmin):
    """The timeline, read-only: a comment is edited by its author in the app. Deleting a comment
    here tombstones it like a delete in the app (the time it logged goes with it); other events
    are history and are only deleted as rows."""

    list_display = ["id", "ticket", "kind", "short_text", "author", "created_at", "deleted_at"]
    list_filter = ["kind", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["text", "author__username", "ticket__title"]
    list_select_related = ["ticket", "ticket__project", "author"]
    raw_id_fields = ["ticket", "author"]
    readonly_fields = ["html", "created_at", "updated_at"]
    date_hierarchy = "created_at"

    @admin.display(description="Text")
    def short_text(self, event: Event) -> str:
        return event.text[:80]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Event) -> None:
        if obj.kind == Event.Kind.COMMENT:
            if obj.deleted_at is None:
                services.comment_delete(comment=obj, by=request.user)
        else:
            super().delete_model(request, obj)


@admin.register(ChecklistItem)
class ChecklistItemAdmin(ServiceAdmin):
    """Text and done go through the checklist services (timeline and board events); items are
    added and reordered on the ticket."""

    list_display = ["text", "ticket", "done", "order", "done_by", "created_at"]
    list_filter = ["done"]
    search_fields = ["text", "ticket__title"]
    list_select_related = ["ticket", "ticket__project", "done_by"]
    fields = ["ticket", "text", "done", "order", "done_at", "done_by", "created_at"]
    readonly_fields = ["ticket", "order", "done_at", "done_by", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ChecklistItem, form: ModelForm, change: bool) -> None:
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in ("text", "done")}
        if changes:
            item = ChecklistItem.objects.select_related("ticket__project").get(pk=obj.pk)
            services.checklist_item_update(item=item, by=request.user, **changes)

    def delete_model(self, request: HttpRequest, obj: ChecklistItem) -> None:
        services.checklist_item_delete(item=obj, by=request.user)


@admin.register(Attachment)
class AttachmentAdmin(ServiceAdmin):
    """Uploaded in the app (checked and re-encoded there); deleting here removes the files from
    storage and records the detach on the timeline."""

    list_display = ["filename", "ticket", "content_type", "size", "uploaded_by", "created_at"]
    list_filter = ["content_type"]
    search_fields = ["filename", "ticket__title", "uploaded_by__username"]
    list_select_related = ["ticket", "ticket__project", "uploaded_by"]
    raw_id_fields = ["ticket", "uploaded_by"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Attachment) -> None:
        services.attachment_delete(attachment=obj, by=request.user)


@admin.register(GitLink)
class GitLinkAdmin(admin.ModelAdmin):
    list_display = ["url", "kind", "ticket", "ref", "provider", "state", "created_at"]
    list_filter = ["kind", "provider", "state"]
    search_fields = ["url", "title", "ref", "ticket__title"]
    list_select_related = ["ticket", "ticket__project"]
    raw_id_fields = ["ticket", "created_by"]


@admin.register(TicketRelation)
class TicketRelationAdmin(ServiceAdmin):
    """Links are made in the app (where the caller's access to both tickets is checked); the admin
    finds them and removes them through the service, so both timelines say so."""

    list_display = ["source", "kind", "target", "created_by", "created_at"]
    list_filter = ["kind"]
    search_fields = ["source__title", "target__title", "created_by__username"]
    list_select_related = ["source__project", "target__project", "created_by"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: TicketRelation) -> None:
        services.relation_remove(relation=obj, by=request.user)


@admin.register(TimeEntry)
class TimeEntryAdmin(ServiceAdmin):
    """Corrections go through the time services (the comment that logged the time follows)."""

    list_display = ["user", "ticket", "minutes", "date", "note", "created_at"]
    list_filter = ["date"]
    search_fields = ["user__username", "ticket__title", "note"]
    list_select_related = ["user", "ticket", "ticket__project"]
    fields = ["ticket", "user", "comment", "minutes", "date", "note", "created_at"]
    readonly_fields = ["ticket", "user", "comment", "created_at"]
    date_hierarchy = "date"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: TimeEntry, form: ModelForm, change: bool) -> None:
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in ("minutes", "date", "note")}
        if "date" in changes:
            changes["day"] = changes.pop("date")
        if changes:
            entry = TimeEntry.objects.select_related("ticket__project").get(pk=obj.pk)
            time_entry_update(entry=entry, by=request.user, **changes)

    def delete_model(self, request: HttpRequest, obj: TimeEntry) -> None:
        time_entry_delete(entry=obj, by=request.user)


@admin.register(Watcher)
class WatcherAdmin(ServiceAdmin):
    list_display = ["user", "ticket", "created_at"]
    search_fields = ["user__username", "ticket__title"]
    list_select_related = ["user", "ticket", "ticket__project"]
    raw_id_fields = ["ticket", "user"]

    # Watching starts in the app (or on assignment); the admin can only stop it.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Watcher) -> None:
        services.ticket_unwatch(ticket=obj.ticket, user=obj.user)


@admin.register(SavedView)
class SavedViewAdmin(ServiceAdmin):
    """Saved views are made in the app; here a site admin corrects or removes one (the query is
    checked as the API checks it)."""

    list_display = ["name", "project", "owner", "display", "position", "query", "updated_at"]
    list_filter = ["display"]
    search_fields = ["name", "query", "project__key", "owner__username"]
    list_select_related = ["project", "owner"]
    fields = ["project", "owner", "name", "query", "display", "position", "created_by", "created_at", "updated_at"]
    readonly_fields = ["project", "owner", "created_by", "created_at", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: SavedView, form: ModelForm, change: bool) -> None:
        changes = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in ("name", "query", "display", "position")
        }
        if changes:
            view = SavedView.objects.select_related("project").get(pk=obj.pk)
            services.saved_view_update(view=view, by=request.user, **changes)

    def delete_model(self, request: HttpRequest, obj: SavedView) -> None:
        services.saved_view_delete(view=obj, by=request.user)


class CustomFieldOptionInline(ReadOnlyInline):
    """A select's options, for context: they are edited in the project settings or the API
    (`options` of the field), where a rename keeps the tickets' values."""

    model = CustomFieldOption
    fields = ("name", "color", "position")
    readonly_fields = fields
    show_change_link = False


@admin.register(CustomField)
class CustomFieldAdmin(ServiceAdmin):
    """A project's custom fields. Adding, changing and deleting go through the services: a
    delete is soft (restorable for 30 days with the action), whatever values tickets hold."""

    list_display = ["name", "key", "project", "type", "required", "show_on_card", "position", "deleted_at"]
    list_filter = ["type", "required", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "key", "project__key"]
    list_select_related = ["project"]
    fields = [
        "project",
        "name",
        "key",
        "type",
        "description",
        "unit",
        "required",
        "default",
        "show_on_card",
        "position",
        "deleted_at",
        "deleted_by",
    ]
    readonly_fields = ["position", "deleted_at", "deleted_by"]
    inlines = [CustomFieldOptionInline]
    actions = ["restore_fields"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The type decides the value column: it never changes once the field exists.
        return [*self.readonly_fields, "project", "type"] if obj is not None else list(self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: CustomField, form: ModelForm, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            created = custom_field_services.custom_field_create(
                project=data["project"],
                by=request.user,
                name=data["name"],
                type=data["type"],
                key=data.get("key") or None,
                description=data.get("description", ""),
                unit=data.get("unit", ""),
                required=data.get("required", False),
                default=data.get("default"),
                show_on_card=data.get("show_on_card", False),
            )
            obj.pk = created.pk
            return
        editable = ("name", "key", "description", "unit", "required", "default", "show_on_card")
        changes = {name: data[name] for name in form.changed_data if name in editable}
        if changes:
            field = CustomField.objects.select_related("project").get(pk=obj.pk)
            custom_field_services.custom_field_update(field=field, by=request.user, **changes)

    def delete_model(self, request: HttpRequest, obj: CustomField) -> None:
        custom_field_services.custom_field_delete(field=obj, by=request.user, confirm=True)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CustomField]) -> None:
        for field in queryset:
            custom_field_services.custom_field_delete(field=field, by=request.user, confirm=True)

    @admin.action(description="Restore the selected deleted fields")
    def restore_fields(self, request: HttpRequest, queryset: QuerySet[CustomField]) -> None:
        for field in queryset.filter(deleted_at__isnull=False):
            custom_field_services.custom_field_restore(field=field, by=request.user)
