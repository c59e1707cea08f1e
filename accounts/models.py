from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

# The JWT claim that carries User.token_version (accounts.services issues it, the
# authentication classes compare it).
TOKEN_VERSION_CLAIM = "ver"


class PuntUserManager(UserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        # User names share a case-insensitive namespace with organization slugs (as on
        # GitHub), so "Alice" logs in as "alice"; the Lower(username) constraint keeps it unique.
        return self.get(username__iexact=username)


class User(AbstractUser):
    """A person. `is_staff` is the global admin role; `global_roles` holds the others.

    Because staff *is* PUNT's site-admin role, an active staff member holds every Django
    permission (the admin site's model pages included) without per-model grants.
    """

    class GlobalRole(models.TextChoices):
        ADMIN = "admin", "Admin"
        METRICS = "metrics", "Metrics"
        BACKUP = "backup", "Backup"

    email = models.EmailField(blank=True, db_index=True)
    display_name = models.CharField(max_length=150, blank=True)
    avatar = models.ImageField(upload_to="avatars/", blank=True)
    global_roles = models.JSONField(default=list, blank=True)
    # Carried by every JWT issued to the user (TOKEN_VERSION_CLAIM) and compared on each
    # request: raising it ends every access and refresh token at once (a new password,
    # "sign out everywhere"). Mixed into the session hash too, so sessions end with them.
    token_version = models.PositiveIntegerField(default=0, editable=False)

    objects: ClassVar[PuntUserManager] = PuntUserManager()
    _ends_tokens = False

    class Meta:
        ordering = ["username"]
        constraints = [models.UniqueConstraint(Lower("username"), name="user_username_ci_unique")]

    def set_password(self, raw_password: str | None) -> None:
        # Replacing a password the account had ends the tokens issued under it (see save());
        # an account's first password (just created, still without one) has no tokens to end.
        self._ends_tokens = self.pk is not None and bool(self.password) and self.has_usable_password()
        super().set_password(raw_password)

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Whichever path set the new password (API, web form, admin, `changepassword`), its
        # save moves the token version. Django's hash upgrades on login clear _password
        # before saving: they change nothing for tokens.
        if getattr(self, "_password", None) is not None and getattr(self, "_ends_tokens", False):
            self.token_version += 1
            self._ends_tokens = False
            update_fields = kwargs.get("update_fields")
            if update_fields is not None and "token_version" not in update_fields:
                kwargs["update_fields"] = [*update_fields, "token_version"]
        super().save(*args, **kwargs)

    def get_session_auth_hash(self) -> str:
        return self._session_hash(None)

    def get_session_auth_fallback_hash(self) -> Iterator[str]:
        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(fallback_secret)

    def _session_hash(self, secret: str | bytes | None) -> str:
        # Django's HMAC of the password, with the token version mixed in once it is past 0
        # (so sessions that predate the field stay valid): "sign out everywhere" ends sessions.
        value = self.password if not self.token_version else f"{self.password}:{self.token_version}"
        salt = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"
        return salted_hmac(salt, value, secret=secret, algorithm="sha256").hexdigest()

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @property
    def roles(self) -> list[str]:
        roles = [r for r in self.global_roles if r != self.GlobalRole.ADMIN]
        if self.is_staff or self.is_superuser:
            roles.insert(0, self.GlobalRole.ADMIN.value)
        return roles

    def has_global_role(self, role: str) -> bool:
        return role in self.roles

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        if self.is_active and self.is_staff:
            return True
        return super().has_perm(perm, obj)

    def has_module_perms(self, app_label: str) -> bool:
        if self.is_active and self.is_staff:
            return True
        return super().has_module_perms(app_label)


# Every API key starts with this, so a `Bearer` token can be told from a JWT at a glance.
API_KEY_PREFIX = "punt_"


def hash_api_key(raw_key: str) -> str:
    # Keys are 256-bit random secrets, so a fast hash is enough (no dictionary to attack)
    # and it keeps authentication a single indexed lookup.
    return hashlib.sha256(raw_key.encode()).hexdigest()


class ApiKey(models.Model):
    class Scope(models.TextChoices):
        PROJECTS_READ = "projects:read"
        PROJECTS_WRITE = "projects:write"
        TICKETS_READ = "tickets:read"
        TICKETS_WRITE = "tickets:write"
        CHAT_READ = "chat:read"
        CHAT_WRITE = "chat:write"
        ADMIN = "admin"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The first characters of the key, to recognise it.")
    hashed_key = models.CharField(max_length=64, unique=True, editable=False)
    # Empty scopes = every right of the owner (what WarmDesk's keys do).
    scopes = models.JSONField(default=list, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()

    def allows(self, scope: str) -> bool:
        """True if the key carries `scope`; `x:read` is implied by `x:write`, all by `admin`."""
        if not self.scopes or self.Scope.ADMIN in self.scopes:
            return True
        if scope in self.scopes:
            return True
        area, _, action = scope.partition(":")
        return action == "read" and f"{area}:write" in self.scopes


class PasswordResetToken(models.Model):
    """A single-use, expiring password reset token. Only its hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_reset_tokens")
    hashed_token = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"reset token for {self.user_id}"


class RefreshRotation(models.Model):
    """A refresh token exchanged for a new one (accounts.services.token_pair_refresh).

    `token` was handed in, `replacement` handed out; both are simplejwt's outstanding-token
    rows, which hold every refresh token as issued, so the replacement's pair can be handed
    out again to a retry without storing another copy of it. `family` is the jti of the
    sign-in's first refresh token, shared by every token rotated from it: what a reuse revokes.
    Rows go with the old token's outstanding row (simplejwt's flushexpiredtokens); sign-in
    state, like those rows, is not backed up (punt.ops.backup).
    """

    token = models.OneToOneField(OutstandingToken, on_delete=models.CASCADE, related_name="rotation")
    replacement = models.OneToOneField(OutstandingToken, on_delete=models.CASCADE, related_name="rotated_from")
    family = models.CharField(max_length=255, db_index=True)
    rotated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"rotation of refresh token {self.token_id}"


# The environment decides until an admin saves the settings: each default is read from
# punt/settings.py when the row is first built, so a fresh install behaves as configured.
def default_site_name() -> str:
    return "PUNT"


def default_registration_open() -> bool:
    return bool(settings.PUNT_REGISTRATION_OPEN)


def default_max_upload_bytes() -> int:
    return int(settings.PUNT_MAX_UPLOAD_BYTES)


def default_webhooks_allow_private() -> bool:
    return bool(settings.PUNT_WEBHOOKS_ALLOW_PRIVATE)


def default_email_verification() -> str:
    return str(settings.PUNT_EMAIL_VERIFICATION)


def default_signup_email_domains() -> list[str]:
    return list(settings.PUNT_SIGNUP_EMAIL_DOMAINS)


def default_password_signup() -> bool:
    return bool(settings.PUNT_PASSWORD_SIGNUP)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
# What a site accepts until an admin changes the list: the files teams attach to tickets, each of
# which the upload checks look into (tickets.services.attachments). An empty list accepts any type.
DEFAULT_UPLOAD_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "text/x-log",
    "text/markdown",
    "text/csv",
    "application/json",
    "application/yaml",
    XLSX,
    DOCX,
    PPTX,
    "application/zip",
    "application/gzip",
    "application/x-tar",
    "video/mp4",
    "video/webm",
)


def default_allowed_upload_types() -> list[str]:
    return list(DEFAULT_UPLOAD_TYPES)


# Limits of the upload settings (accounts.services checks them; the API schema states them).
UPLOAD_BYTES_MIN = 1024
UPLOAD_BYTES_MAX = 1024**3
# A content type such as "application/pdf" or "image/*", lower case (input is lowered first).
CONTENT_TYPE_PATTERN = r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/(?:\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,126})$"
# A domain name such as "example.com" (lower case; input is lowered and a leading "@" dropped first).
EMAIL_DOMAIN_PATTERN = r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
EMAIL_DOMAIN_INPUT_PATTERN = r"^@?(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
CONTENT_TYPE_INPUT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/(?:\*|[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126})$"


class SystemSettings(models.Model):
    """Site-wide settings that admins change at run time: a single row, pk 1.

    Read it through accounts.services.system_settings() (cached); write it through
    system_settings_update(), which validates and invalidates the cache.
    """

    SINGLETON_PK = 1

    class MemberRole(models.TextChoices):
        MEMBER = "member", "Member"
        VIEWER = "viewer", "Viewer"

    class EmailVerification(models.TextChoices):
        NONE = "none", "Off"
        OPTIONAL = "optional", "Optional (a link is mailed, signing in is allowed)"
        MANDATORY = "mandatory", "Mandatory (no web sign-in before the address is verified)"

    class TwoFactor(models.TextChoices):
        OFF = "off", "Not required"
        ADMINS = "admins", "Required for site admins"
        EVERYONE = "everyone", "Required for everyone"

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_PK, editable=False)
    site_name = models.CharField(max_length=100, default=default_site_name)
    registration_open = models.BooleanField(
        default=default_registration_open, help_text="Whether anyone may create an account."
    )
    max_upload_bytes = models.PositiveBigIntegerField(
        default=default_max_upload_bytes, help_text="Largest attachment accepted, in bytes."
    )
    allowed_upload_types = models.JSONField(
        default=default_allowed_upload_types,
        blank=True,
        help_text='Content types accepted for attachments, e.g. "image/*", "application/pdf". Empty: any type.',
    )
    default_member_role = models.CharField(
        max_length=10,
        choices=MemberRole.choices,
        default=MemberRole.MEMBER,
        help_text="The role a new project member gets when none is given.",
    )
    webhooks_allow_private = models.BooleanField(
        default=default_webhooks_allow_private,
        help_text="Let outgoing webhooks call loopback, private and link-local addresses (services on the LAN).",
    )
    signup_email_domains = models.JSONField(
        default=default_signup_email_domains,
        blank=True,
        help_text='Only addresses at these domains may sign up, e.g. ["example.com"]. Empty: any domain.',
    )
    password_signup = models.BooleanField(
        default=default_password_signup,
        help_text="Whether people may sign up with a password; off leaves only company sign-in (GitHub, GitLab…).",
    )
    email_verification = models.CharField(
        max_length=10,
        choices=EmailVerification.choices,
        default=default_email_verification,
        help_text="Whether new accounts must confirm their e-mail address before signing in on the web.",
    )
    require_two_factor = models.CharField(
        max_length=10,
        choices=TwoFactor.choices,
        default=TwoFactor.OFF,
        help_text="Who must set up two-factor authentication to use the web app.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = "system settings"
        verbose_name_plural = "system settings"
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="system_settings_singleton")]

    def __str__(self) -> str:
        return "System settings"

    def upload_type_allowed(self, content_type: str) -> bool:
        """Whether an upload of `content_type` is accepted ("type/*" entries match a whole family)."""
        if not self.allowed_upload_types:
            return True
        content_type = (content_type or "").split(";", 1)[0].strip().lower()
        family = content_type.split("/", 1)[0] + "/*"
        return content_type in self.allowed_upload_types or family in self.allowed_upload_types

    def signup_email_allowed(self, email: str) -> bool:
        """Whether `email` may open an account (its domain is listed, or no list is set)."""
        if not self.signup_email_domains:
            return True
        domain = (email or "").rpartition("@")[2].strip().lower()
        return bool(domain) and domain in self.signup_email_domains
