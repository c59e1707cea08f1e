from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import ApiKey, User


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


# --------------------------------------------------------------------------- output


class MeSerializer(serializers.ModelSerializer):
    """The signed-in user's own profile (also the `user` of login responses)."""

    name = serializers.CharField(read_only=True)
    avatar = serializers.SerializerMethodField()
    global_roles = serializers.ListField(source="roles", child=serializers.CharField(), read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "email", "display_name", "name", "avatar", "global_roles", "date_joined"]
        read_only_fields = fields

    def get_avatar(self, user: User) -> str | None:
        return avatar_url(user)


class TokenPairSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()
    token_type = serializers.CharField(help_text='Always "Bearer".')
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")
    user = MeSerializer()


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ApiKeySerializer(serializers.ModelSerializer):
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "scopes", "expires_at", "last_used_at", "created_at", "is_active"]
        read_only_fields = fields


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The secret. Shown only in this response.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class PuntLoginSerializer(serializers.Serializer):
    user = MeSerializer()
    csrfToken = serializers.CharField(help_text="Send it back as X-CSRFToken on cookie-authenticated writes.")


class PuntSessionSerializer(serializers.Serializer):
    user = MeSerializer(allow_null=True)
    expires = serializers.DateTimeField(allow_null=True)


class PuntCsrfSerializer(serializers.Serializer):
    csrfToken = serializers.CharField()


# --------------------------------------------------------------------------- input


class LoginInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class RefreshInputSerializer(serializers.Serializer):
    refresh_token = serializers.CharField(max_length=4096)


class RegisterInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=39)
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    display_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")


class ForgotPasswordInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class ResetPasswordInputSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class MeUpdateInputSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    # Not blank: the address is how a forgotten password is recovered.
    email = serializers.EmailField(max_length=254, required=False)


class PasswordChangeInputSerializer(serializers.Serializer):
    current_password = serializers.CharField(max_length=4096, trim_whitespace=False)
    new_password = serializers.CharField(max_length=4096, trim_whitespace=False)


class AvatarInputSerializer(serializers.Serializer):
    # A plain file: Pillow checks happen in the service, pixel limit first (an ImageField
    # would decode the whole image before any limit applies).
    avatar = serializers.FileField()


class ApiKeyCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=ApiKey.Scope.choices),
        required=False,
        default=list,
        help_text="Empty: every right of the owner. `x:write` implies `x:read`; `admin` implies all.",
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
