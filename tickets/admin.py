"""Django admin for tickets and what hangs off them: what a site admin needs to find and fix."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from tickets.models import Attachment, ChecklistItem, Event, GitLink, Ticket, TimeEntry, Watcher
from tickets.selectors import CARD_KEY_RE


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 0
    fields = ["text", "done", "order"]


class GitLinkInline(admin.TabularInline):
    model = GitLink
    extra = 0
    fields = ["kind", "url", "title", "ref", "state"]


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    fields = ["filename", "content_type", "size", "uploaded_by", "created_at"]
    readonly_fields = fields
    can_delete = False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["key", "title", "project", "type", "priority", "state", "column", "assignee", "updated_at"]
    list_filter = ["project", "type", "priority", "state", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "project__key"]
    list_select_related = ["project", "column", "assignee"]
    raw_id_fields = ["assignee", "reporter", "parent", "closed_by", "updated_by", "deleted_by", "column", "sprint"]
    readonly_fields = ["number", "body_html", "created_at", "updated_at"]
    filter_horizontal = ["labels"]
    date_hierarchy = "created_at"
    inlines = [ChecklistItemInline, GitLinkInline, AttachmentInline]

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


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
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


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):
    list_display = ["text", "ticket", "done", "order", "done_by", "created_at"]
    list_filter = ["done"]
    search_fields = ["text", "ticket__title"]
    list_select_related = ["ticket", "ticket__project", "done_by"]
    raw_id_fields = ["ticket", "done_by"]


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["filename", "ticket", "content_type", "size", "uploaded_by", "created_at"]
    list_filter = ["content_type"]
    search_fields = ["filename", "ticket__title", "uploaded_by__username"]
    list_select_related = ["ticket", "ticket__project", "uploaded_by"]
    raw_id_fields = ["ticket", "uploaded_by"]
    date_hierarchy = "created_at"


@admin.register(GitLink)
class GitLinkAdmin(admin.ModelAdmin):
    list_display = ["url", "kind", "ticket", "ref", "provider", "state", "created_at"]
    list_filter = ["kind", "provider", "state"]
    search_fields = ["url", "title", "ref", "ticket__title"]
    list_select_related = ["ticket", "ticket__project"]
    raw_id_fields = ["ticket", "created_by"]


@admin.register(TimeEntry)
class TimeEntryAdmin(admin.ModelAdmin):
    list_display = ["user", "ticket", "minutes", "date", "note", "created_at"]
    list_filter = ["date"]
    search_fields = ["user__username", "ticket__title", "note"]
    list_select_related = ["user", "ticket", "ticket__project"]
    raw_id_fields = ["ticket", "user", "comment"]
    date_hierarchy = "date"


@admin.register(Watcher)
class WatcherAdmin(admin.ModelAdmin):
    list_display = ["user", "ticket", "created_at"]
    search_fields = ["user__username", "ticket__title"]
    list_select_related = ["user", "ticket", "ticket__project"]
    raw_id_fields = ["ticket", "user"]
