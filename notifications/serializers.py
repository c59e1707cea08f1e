"""Notification input and output shapes (the OpenAPI components keep their names from chat)."""

from __future__ import annotations

from rest_framework import serializers

from accounts.serializers import UserBriefSerializer
from notifications.models import Notification
from punt.api.fields import id_field

PAGE_DEFAULT_LIMIT = 50
PAGE_MAX_LIMIT = 100


class NotificationQuerySerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False, default=False)
    before = id_field(required=False)
    limit = serializers.IntegerField(min_value=1, max_value=PAGE_MAX_LIMIT, default=PAGE_DEFAULT_LIMIT)


class NotificationSerializer(serializers.ModelSerializer):
    actor = UserBriefSerializer(read_only=True, allow_null=True)
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "actor", "text", "url", "project_id", "data", "read", "read_at", "created_at"]
        read_only_fields = fields

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class NotificationPageSerializer(serializers.Serializer):
    results = NotificationSerializer(many=True, help_text="Newest first.")
    has_more = serializers.BooleanField()
    oldest_id = serializers.IntegerField(allow_null=True, help_text="Pass as `before` for the next page.")
    unread_count = serializers.IntegerField()


class ReadAllSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notifications were unread.")
