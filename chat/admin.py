"""Moderation screens. Every change goes through the services, so a moderated message leaves the
same tombstone (and sends the same live event) as one deleted in the app, and an edited topic is
rendered again and announced like one edited in the app."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest

from chat import services
from chat.models import Conversation, ConversationMember, Message, Topic, TopicReply
from punt.api.request import request_user


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "project", "conversation", "sender", "excerpt", "created_at", "edited_at", "deleted_at")
    list_filter = ("project", ("deleted_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("body", "author__username", "author_name")
    list_select_related = ("project", "conversation", "author")
    raw_id_fields = ("project", "conversation", "author", "deleted_by")
    readonly_fields = ("author_name", "body_html", "created_at", "edited_at", "deleted_at", "deleted_by")
    date_hierarchy = "created_at"
    actions = ["tombstone_messages"]

    @admin.display(description="From")
    def sender(self, message: Message) -> str:
        # An integration's message has no author, only the name it posts under.
        if message.from_integration:
            return f"{message.author_name} (integration)"
        return message.author.username if message.author is not None else "-"

    @admin.display(description="Text")
    def excerpt(self, message: Message) -> str:
        return message.body[:80]

    @admin.action(description="Delete selected messages (leave a tombstone)")
    def tombstone_messages(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        deleted = self._tombstone(request, queryset)
        self.message_user(request, f"Deleted {deleted} message(s).", messages.SUCCESS)

    def _tombstone(self, request: HttpRequest, queryset: QuerySet[Message]) -> int:
        deleted = 0
        for message in queryset.filter(deleted_at__isnull=True).select_related(
            "project__owner_user", "project__organization", "conversation"
        ):
            services.message_delete(user=request_user(request), message=message)
            deleted += 1
        return deleted

    def get_actions(self, request: HttpRequest) -> dict:
        # A hard delete would skip the tombstone and the live event; moderators use ours.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # Messages are written in the app (rendering, mentions, events): here they are only read
    # and tombstoned. Saving the form would change `body` without its HTML or an event.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # The change page's Delete button: a tombstone too. (Delete permission itself stays, so
    # deleting a project or a user in the admin may still cascade to their messages.)
    def delete_model(self, request: HttpRequest, obj: Message) -> None:
        self._tombstone(request, Message.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        self._tombstone(request, queryset)


class TopicReplyInline(admin.TabularInline):
    """Replies are read here and removed (through the service); writing them happens in the app."""

    model = TopicReply
    extra = 0
    fields = ("author", "body", "created_at")
    readonly_fields = ("author", "body", "created_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# What a moderator may change on a topic; each goes through services.topic_update.
TOPIC_EDITABLE = ("title", "body", "pinned", "locked")


class TopicAdminForm(ModelForm):
    class Meta:
        model = Topic
        fields = list(TOPIC_EDITABLE)

    def clean_body(self) -> str:
        # The service's own limit, checked here so the admin shows it as a form error.
        body = self.cleaned_data.get("body") or ""
        if len(body.strip()) > services.TOPIC_BODY_MAX_LENGTH:
            raise ValidationError(f"Ensure this field has no more than {services.TOPIC_BODY_MAX_LENGTH} characters.")
        return body


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("title", "project", "author", "pinned", "locked", "last_activity_at")
    list_filter = ("pinned", "locked", "project")
    search_fields = ("title", "body", "author__username")
    list_select_related = ("project", "author")
    form = TopicAdminForm
    fields = ("project", "author", *TOPIC_EDITABLE, "body_html", "created_at", "updated_at", "last_activity_at")
    readonly_fields = ("project", "author", "body_html", "created_at", "updated_at", "last_activity_at")
    inlines = [TopicReplyInline]
    actions = ["delete_topics"]

    @admin.action(description="Delete selected topics and their replies")
    def delete_topics(self, request: HttpRequest, queryset: QuerySet[Topic]) -> None:
        count = 0
        for topic in queryset.select_related("project"):
            services.topic_delete(user=request_user(request), topic=topic)
            count += 1
        self.message_user(request, f"Deleted {count} topic(s).", messages.SUCCESS)

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A topic has an author and a project member's rights behind it: it is started in the app.
        return False

    def save_model(self, request: HttpRequest, obj: Topic, form: ModelForm, change: bool) -> None:
        changed = {name: form.cleaned_data[name] for name in form.changed_data if name in TOPIC_EDITABLE}
        # The topic.updated payload carries it; not a field, but what the selectors annotate.
        setattr(obj, "reply_count", obj.replies.count())  # noqa: B010
        services.topic_update(user=request_user(request), topic=obj, **changed)

    def save_formset(self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool) -> None:
        # Only deletions can come from the read-only reply inline; they go through the service.
        formset.save(commit=False)
        for reply in formset.deleted_objects:
            services.topic_reply_delete(user=request_user(request), reply=reply)

    def delete_model(self, request: HttpRequest, obj: Topic) -> None:
        services.topic_delete(user=request_user(request), topic=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Topic]) -> None:
        for topic in queryset.select_related("project"):
            services.topic_delete(user=request_user(request), topic=topic)


class ViewOnlyMixin:
    """Rows written only by the services (membership rules, events): the admin shows them.

    Deleting stays possible (a spam group), and so does the cascade
    when a project or a user is deleted here.
    """

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ConversationMemberInline(ViewOnlyMixin, admin.TabularInline):
    model = ConversationMember
    extra = 0
    can_delete = False  # leaving a conversation is not a moderation action (a DM keeps two members)
    fields = ("user", "joined_at", "last_read_id")
    readonly_fields = ("user", "joined_at", "last_read_id")


@admin.register(Conversation)
class ConversationAdmin(ViewOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "kind", "title", "created_by", "created_at", "last_message_at")
    list_filter = ("kind",)
    search_fields = ("title", "memberships__user__username")
    list_select_related = ("created_by",)
    inlines = [ConversationMemberInline]
