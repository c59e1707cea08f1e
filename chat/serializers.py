"""Input validation and output shapes for the chat API.

Output serializers read only what chat/selectors.py loaded (authors, reactions with their
users, conversation members); none of them queries per row. The same serializers build the
payloads of live events, where there is no request and so no `me`.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import UserBriefSerializer
from chat.models import EMOJI_MAX_LENGTH, Conversation, Message, Topic, TopicReply
from punt.api.fields import id_field

HISTORY_DEFAULT_LIMIT = 50
HISTORY_MAX_LIMIT = 100


def _viewer_id(serializer: serializers.Serializer) -> int | None:
    request = serializer.context.get("request")
    user = getattr(request, "user", None) if request is not None else serializer.context.get("user")
    return user.pk if user is not None and user.is_authenticated else None


# --- input -----------------------------------------------------------------------------


class HistoryQuerySerializer(serializers.Serializer):
    """`before`/`after` are message ids (exclusive); give at most one of them."""

    before = id_field(required=False)
    after = id_field(min_value=0, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=HISTORY_MAX_LIMIT, default=HISTORY_DEFAULT_LIMIT)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "before" in attrs and "after" in attrs:
            raise serializers.ValidationError({"after": "Give either before or after, not both."})
        return attrs


class MessageInputSerializer(serializers.Serializer):
    # Length and emptiness are business rules, checked by the service (one place for all callers).
    body = serializers.CharField(allow_blank=True, trim_whitespace=False)


class ReactionInputSerializer(serializers.Serializer):
    emoji = serializers.CharField(max_length=EMOJI_MAX_LENGTH)

    def validate_emoji(self, value: str) -> str:
        if any(ch.isspace() for ch in value):
            raise serializers.ValidationError("An emoji may not contain spaces.")
        return value


class ReadInputSerializer(serializers.Serializer):
    message_id = id_field(required=False, help_text="Read up to this message; defaults to the newest one.")


class ConversationInputSerializer(serializers.Serializer):
    usernames = serializers.ListField(child=serializers.CharField(max_length=150), min_length=1, max_length=50)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class TopicInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(required=False, allow_blank=True, default="")


class TopicUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    body = serializers.CharField(required=False, allow_blank=True)
    pinned = serializers.BooleanField(required=False)
    locked = serializers.BooleanField(required=False)


# --- output ----------------------------------------------------------------------------


class ReactionSummarySerializer(serializers.Serializer):
    emoji = serializers.CharField()
    count = serializers.IntegerField()
    users = serializers.ListField(child=serializers.CharField(), help_text="User names, first reactor first.")
    me = serializers.BooleanField(help_text="Whether the caller is among `users`.")


def reaction_summary(message: Message, viewer_id: int | None) -> list[dict[str, Any]]:
    """Group the prefetched reactions by emoji, in the order each emoji first appeared."""
    groups: dict[str, dict[str, Any]] = {}
    for reaction in message.reactions.all():
        group = groups.setdefault(reaction.emoji, {"emoji": reaction.emoji, "count": 0, "users": [], "me": False})
        group["count"] += 1
        group["users"].append(reaction.user.username)
        if reaction.user_id == viewer_id:
            group["me"] = True
    return list(groups.values())


class MessageSerializer(serializers.ModelSerializer):
    author = UserBriefSerializer(
        read_only=True, allow_null=True, help_text="Null for a message an integration posted (see `author_name`)."
    )
    author_name = serializers.CharField(
        source="sender_name",
        read_only=True,
        help_text="Who the message is from, as shown: the author's name, or the integration's (an incoming "
        "webhook's name) when `bot` is true.",
    )
    bot = serializers.BooleanField(
        source="from_integration", read_only=True, help_text="Posted by an integration, not by a person."
    )
    deleted = serializers.SerializerMethodField()
    reactions = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id",
            "project_id",
            "conversation_id",
            "author",
            "author_name",
            "bot",
            "body",
            "body_html",
            "created_at",
            "edited_at",
            "deleted",
            "reactions",
        ]
        read_only_fields = fields

    def get_deleted(self, message: Message) -> bool:
        return message.is_deleted

    @extend_schema_field(ReactionSummarySerializer(many=True))
    def get_reactions(self, message: Message) -> list[dict[str, Any]]:
        return reaction_summary(message, _viewer_id(self))


class MessagePageSerializer(serializers.Serializer):
    results = MessageSerializer(many=True, help_text="Newest first.")
    has_more = serializers.BooleanField(
        help_text="With `after`: newer messages remain past this page. Otherwise: older messages remain."
    )
    oldest_id = serializers.IntegerField(allow_null=True, help_text="Pass as `before` to page back.")
    newest_id = serializers.IntegerField(allow_null=True, help_text="Pass as `after` to fetch newer messages.")


def message_page(messages: list[Message], has_more: bool, context: dict[str, Any]) -> dict[str, Any]:
    return {
        "results": MessageSerializer(messages, many=True, context=context).data,
        "has_more": has_more,
        "oldest_id": messages[-1].pk if messages else None,
        "newest_id": messages[0].pk if messages else None,
    }


class ConversationSerializer(serializers.ModelSerializer):
    members = serializers.SerializerMethodField()
    created_by = UserBriefSerializer(read_only=True, allow_null=True)
    unread = serializers.SerializerMethodField()

    class Meta:
        model = Conversation
        fields = ["id", "kind", "title", "members", "created_by", "created_at", "last_message_at", "unread"]
        read_only_fields = fields

    @extend_schema_field(UserBriefSerializer(many=True))
    def get_members(self, conversation: Conversation) -> list[dict[str, Any]]:
        # many=True gives a ListSerializer, whose .data is a list; the stubs type it ReturnDict.
        return UserBriefSerializer([m.user for m in conversation.memberships.all()], many=True).data  # type: ignore[return-value]

    def get_unread(self, conversation: Conversation) -> int:
        # Annotated by the selector; a freshly created conversation has nothing unread.
        return getattr(conversation, "unread", 0) or 0


class TopicReplySerializer(serializers.ModelSerializer):
    author = UserBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = TopicReply
        fields = ["id", "topic_id", "author", "body", "body_html", "created_at"]
        read_only_fields = fields


class TopicSerializer(serializers.ModelSerializer):
    author = UserBriefSerializer(read_only=True, allow_null=True)
    reply_count = serializers.SerializerMethodField()

    class Meta:
        model = Topic
        fields = [
            "id",
            "project_id",
            "author",
            "title",
            "body",
            "body_html",
            "pinned",
            "locked",
            "reply_count",
            "created_at",
            "updated_at",
            "last_activity_at",
        ]
        read_only_fields = fields

    def get_reply_count(self, topic: Topic) -> int:
        return getattr(topic, "reply_count", 0) or 0


class TopicDetailSerializer(TopicSerializer):
    replies = TopicReplySerializer(many=True, read_only=True)

    class Meta(TopicSerializer.Meta):
        fields = [*TopicSerializer.Meta.fields, "replies"]
        read_only_fields = fields


class TopicPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = TopicSerializer(many=True)


class UnreadSerializer(serializers.Serializer):
    projects = serializers.DictField(child=serializers.IntegerField(), help_text="Project slug -> unread messages.")
    conversations = serializers.DictField(
        child=serializers.IntegerField(), help_text="Conversation id -> unread messages."
    )


class ReadStateSerializer(serializers.Serializer):
    last_read_id = serializers.IntegerField()
    unread = serializers.IntegerField()
