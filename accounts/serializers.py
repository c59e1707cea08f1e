from __future__ import annotations

from typing import Any, overload

from rest_framework import serializers

from accounts.models import (
    CONTENT_TYPE_INPUT_PATTERN,
    EMAIL_DOMAIN_INPUT_PATTERN,
    UPLOAD_BYTES_MAX,
    UPLOAD_BYTES_MIN,
    ApiKey,
    SystemSettings,
    User,
)
from punt.api.schema import documented


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


@overload
def user_brief(user: User) -> dict[str, Any]: ...
@overload
def user_brief(user: None) -> None: ...
@overload
def user_brief(user: User | None) -> dict[str, Any] | None: ...
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


class TwoFactorChallengeSerializer(serializers.Serializer):
    two_factor_required = serializers.BooleanField(help_text="Always true: send a code to /api/v1/auth/login/2fa.")
    challenge = serializers.CharField(help_text="Valid for 5 minutes, for one completed sign-in.")
    methods = serializers.ListField(
        child=serializers.ChoiceField(choices=["totp", "recovery_code"]),
        help_text='What the account can answer with: "totp" (the authenticator app) and "recovery_code".',
    )


class TwoFactorLoginInputSerializer(serializers.Serializer):
    challenge = serializers.CharField(max_length=1024)
    code = serializers.RegexField(
        r"^[0-9 -]{6,20}$",
        max_length=20,
        help_text="The authenticator app's current code, or one of the account's unused recovery codes.",
        error_messages={"invalid": "Enter the digits of a code."},
    )


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
    csrfToken = serializers.CharField(
        help_text=(
            "Send it back as X-CSRFToken on cookie-authenticated form writes "
            "(JSON writes from this site need only the cookie)."
        )
    )


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


class PuntRegisterInputSerializer(serializers.Serializer):
    """RegisterInputSerializer in PUNT's words: the display name is `name`."""

    username = serializers.CharField(max_length=39)
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    name = serializers.CharField(source="display_name", max_length=150, required=False, allow_blank=True, default="")


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


# --------------------------------------------------------------------------- admin: users


class AdminUserSerializer(serializers.ModelSerializer):
    """An account as site admins see it."""

    name = serializers.CharField(read_only=True)
    avatar = serializers.SerializerMethodField()
    global_roles = serializers.ListField(
        source="roles",
        child=serializers.ChoiceField(choices=User.GlobalRole.choices),
        read_only=True,
        help_text="admin, metrics, backup.",
    )

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "display_name",
            "name",
            "avatar",
            "is_active",
            "global_roles",
            "date_joined",
            "last_login",
        ]
        read_only_fields = fields

    def get_avatar(self, user: User) -> str | None:
        return avatar_url(user)


class AdminUserPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = AdminUserSerializer(many=True)


def _roles_field() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=User.GlobalRole.choices),
        required=False,
        max_length=len(User.GlobalRole.values),
        help_text="Global roles: admin (site admin), metrics, backup.",
    )


class UserListQuerySerializer(serializers.Serializer):
    search = serializers.CharField(
        max_length=150, required=False, default="", allow_blank=True, help_text="Part of a user name, email or name."
    )
    is_active = serializers.BooleanField(required=False, allow_null=True, default=None)
    role = serializers.ChoiceField(
        choices=User.GlobalRole.choices, required=False, default="", allow_blank=True, help_text="Holds this role."
    )


class UserCreateInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=39)
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    display_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    global_roles = _roles_field()
    is_active = serializers.BooleanField(required=False, default=True)


class UserAdminUpdateInputSerializer(serializers.Serializer):
    """Fields left out stay as they are."""

    display_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False)
    is_active = serializers.BooleanField(required=False)
    global_roles = _roles_field()
    password = serializers.CharField(
        max_length=4096, trim_whitespace=False, required=False, help_text="Set a new password (signs the user out)."
    )


# --------------------------------------------------------------------------- system settings


class SystemSettingsSerializer(serializers.ModelSerializer):
    updated_by = UserBriefSerializer(read_only=True, allow_null=True)
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = SystemSettings
        fields = [
            "site_name",
            "registration_open",
            "max_upload_bytes",
            "allowed_upload_types",
            "default_member_role",
            "webhooks_allow_private",
            "signup_email_domains",
            "password_signup",
            "email_verification",
            "require_two_factor",
            "updated_at",
            "updated_by",
        ]
        read_only_fields = fields


class SystemSettingsInputSerializer(serializers.Serializer):
    """Fields left out stay as they are; the service checks ranges and content types."""

    site_name = serializers.CharField(max_length=100, required=False)
    registration_open = serializers.BooleanField(required=False)
    max_upload_bytes = documented(
        serializers.IntegerField(required=False, help_text="1 KiB to 1 GiB."),
        type="integer",
        minimum=UPLOAD_BYTES_MIN,
        maximum=UPLOAD_BYTES_MAX,
    )
    allowed_upload_types = serializers.ListField(
        child=documented(serializers.CharField(max_length=255), pattern=CONTENT_TYPE_INPUT_PATTERN),
        required=False,
        help_text='Content types such as "application/pdf" or "image/*"; empty accepts any type.',
    )
    default_member_role = serializers.ChoiceField(choices=SystemSettings.MemberRole.choices, required=False)
    webhooks_allow_private = serializers.BooleanField(required=False)
    signup_email_domains = serializers.ListField(
        child=documented(serializers.CharField(max_length=253), pattern=EMAIL_DOMAIN_INPUT_PATTERN),
        required=False,
        max_length=100,
        help_text='Only addresses at these domains may sign up (every sign-up path), e.g. ["example.com"]; empty: any.',
    )
    password_signup = serializers.BooleanField(
        required=False, help_text="Off: no sign-up with a password; company sign-in still creates accounts."
    )
    email_verification = serializers.ChoiceField(
        choices=SystemSettings.EmailVerification.choices,
        required=False,
        help_text="none, optional (a confirmation link is mailed) or mandatory (no web sign-in before confirming).",
    )
    require_two_factor = serializers.ChoiceField(
        choices=SystemSettings.TwoFactor.choices, required=False, help_text="off, admins or everyone."
    )
