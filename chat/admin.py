"""Moderation screens. Deleting goes through the services, so a moderated message leaves the
same tombstone (and sends the same live event) as one deleted in the app."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from chat import services
from chat.models import Conversation, ConversationMember, Message, Notification, Topic, TopicReply


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "project", "conversation", "author", "excerpt", "created_at", "edited_at", "deleted_at")
    list_filter = ("project", ("deleted_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("body", "author__username")
    list_select_related = ("project", "conversation", "author")
    raw_id_fields = ("project", "conversation", "author", "deleted_by")
    readonly_fields = ("body_html", "created_at", "edited_at", "deleted_at", "deleted_by")
    date_hierarchy = "created_at"
    actions = ["tombstone_messages"]

    @admin.display(description="Text")
    def excerpt(self, message: Message) -> str:
        return message.body[:80]

    @admin.action(description="Delete selected messages (leave a tombstone)")
    def tombstone_messages(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        deleted = 0
        for message in queryset.filter(deleted_at__isnull=True).select_related(
            "project__owner_user", "project__organization", "conversation"
        ):
            services.message_delete(user=request.user, message=message)
            deleted += 1
        self.message_user(request, f"Deleted {deleted} message(s).", messages.SUCCESS)

    def get_actions(self, request: HttpRequest) -> dict:
        # A hard delete would skip the tombstone and the live event; moderators use ours.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class TopicReplyInline(admin.TabularInline):
    model = TopicReply
    extra = 0
    fields = ("author", "body", "created_at")
    readonly_fields = ("created_at",)
    raw_id_fields = ("author",)


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("title", "project", "author", "pinned", "locked", "last_activity_at")
    list_filter = ("pinned", "locked", "project")
    search_fields = ("title", "body", "author__username")
    list_select_related = ("project", "author")
    raw_id_fields = ("project", "author")
    readonly_fields = ("body_html", "created_at", "updated_at", "last_activity_at")
    inlines = [TopicReplyInline]
    actions = ["delete_topics"]

    @admin.action(description="Delete selected topics and their replies")
    def delete_topics(self, request: HttpRequest, queryset: QuerySet[Topic]) -> None:
        count = 0
        for topic in queryset.select_related("project"):
            services.topic_delete(user=request.user, topic=topic)
            count += 1
        self.message_user(request, f"Deleted {count} topic(s).", messages.SUCCESS)

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class ConversationMemberInline(admin.TabularInline):
    model = ConversationMember
    extra = 0
    raw_id_fields = ("user",)
    readonly_fields = ("joined_at", "last_read_id")


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "title", "created_by", "created_at", "last_message_at")
    list_filter = ("kind",)
    search_fields = ("title", "memberships__user__username")
    raw_id_fields = ("created_by",)
    inlines = [ConversationMemberInline]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("id", "recipient", "kind", "actor", "text", "created_at", "read_at")
    list_filter = ("kind", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("text", "recipient__username", "actor__username")
    list_select_related = ("recipient", "actor")
    raw_id_fields = ("recipient", "actor", "project")
