from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import User


def avatar_url(user: User) -> str | None:
    return user.avatar.url if user.avatar else None


class UserBriefSerializer(serializers.ModelSerializer):
    """How a person appears inside other objects (assignee, author, member): no queries."""

    name = serializers.CharField(read_only=True)
    avatar = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "name", "avatar"]
        read_only_fields = fields

    def get_avatar(self, user: User) -> str | None:
        return avatar_url(user)


def user_brief(user: User | None) -> dict[str, Any] | None:
    return None if user is None else UserBriefSerializer(user).data
