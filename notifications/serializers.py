"""Notification input and output shapes (the OpenAPI components keep their names from chat)."""

from __future__ import annotations

from rest_framework import serializers

from accounts.serializers import UserBriefSerializer
from notifications.models import DEFAULT_DELIVERY, Notification, NotificationPreference
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


class NotificationPreferencesSerializer(serializers.Serializer):
    """How the caller gets each kind by e-mail: instant, in the daily digest, or not at all."""

    all_required = True

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            kind: serializers.ChoiceField(
                choices=NotificationPreference.Delivery.choices,
                required=self.all_required,
                help_text=f"{Notification.Kind(kind).label}: how you get it by e-mail (default: {default}).",
            )
            for kind, default in DEFAULT_DELIVERY.items()
        }


class NotificationPreferencesInputSerializer(NotificationPreferencesSerializer):
    """The kinds to change; the ones left out stay as they are."""

    all_required = False
