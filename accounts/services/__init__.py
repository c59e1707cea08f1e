"""Writes for accounts: registration, profile, passwords, JWT pairs, API keys, avatars.

Sign-in throttling and known devices live in accounts.services.login (re-exported here).

Every function is keyword-only and runs in one transaction. Callers (DRF views, the admin,
PUNT's session endpoints) have already authenticated the actor and applied rate limits;
the rules checked here are the ones that depend on the data, so every caller gets them.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.images import ImageRejected, image_open_checked, image_to_square_webp, image_work
from accounts.models import (
    API_KEY_PREFIX,
    CONTENT_TYPE_PATTERN,
    EMAIL_DOMAIN_PATTERN,
    TOKEN_VERSION_CLAIM,
    UPLOAD_BYTES_MAX,
    UPLOAD_BYTES_MIN,
    ApiKey,
    PasswordResetToken,
    RefreshRotation,
    SystemSettings,
    User,
    hash_api_key,
)
from accounts.serializers import user_brief
from accounts.services.login import DEVICE_COOKIE as DEVICE_COOKIE
from accounts.services.login import DEVICE_COOKIE_MAX_AGE as DEVICE_COOKIE_MAX_AGE
from accounts.services.login import AddressBudget as AddressBudget
from accounts.services.login import LoginResult as LoginResult
from accounts.services.login import LoginThrottled as LoginThrottled
from accounts.services.login import credential_failed as credential_failed
from accounts.services.login import login_attempt as login_attempt
from audit.services import audit_record, changes
from punt.errors import Forbidden, Unauthenticated
from punt.errors import invalid as _invalid
from punt.events import publish, sessions_revoke

logger = logging.getLogger("punt.accounts")

REFRESH_TOKEN_INVALID = "The refresh token is invalid, expired or revoked."

# Names appear in URLs (/projects/:owner/:project), so they stay URL-safe, like GitHub's.
USERNAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,38})$")
USERNAME_HELP = "Use 1-39 letters, digits, '.', '_' or '-', starting with a letter or digit."
AVATAR_SIZE = 256
# Shown in API key lists so people can tell their keys apart: "punt_" + 8 characters.
API_KEY_PREFIX_LENGTH = len(API_KEY_PREFIX) + 8


def registration_open() -> bool:
    """Whether strangers may sign up: the system settings (the environment until an admin saves them)."""
    return system_settings().registration_open


PASSWORD_SIGNUP_OFF = "Sign-up with a password is turned off on this server: use your company sign-in."


def signup_email_check(*, email: str) -> None:
    """Invalid on "email" unless the site's sign-up domains (if any) include `email`'s domain.

    Every way to open an account applies it: the password sign-ups (user_register) and company
    sign-in (accounts.allauth_adapters). Accounts made by site admins are exempt.
    """
    policy = system_settings()
    if not policy.signup_email_allowed(email):
        domains = ", ".join(policy.signup_email_domains)
        raise _invalid("email", f"Sign-up is limited to addresses at {domains}.")


def password_signup_open() -> bool:
    """Whether strangers may sign up with a user name and password (registration open and allowed)."""
    policy = system_settings()
    return policy.registration_open and policy.password_signup


def _password_validate(password: str, *, user: User | None, field: str) -> None:
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise _invalid(field, list(exc.messages)) from None


def _email_taken(email: str, *, exclude_user: User | None = None) -> bool:
    users = User.objects.filter(email__iexact=email)
    if exclude_user is not None:
        users = users.exclude(pk=exclude_user.pk)
    return users.exists()


# --------------------------------------------------------------------------- users

# User names share one namespace with names other apps hand out (projects: organization
# slugs). Those apps depend on accounts, so they register a "is this name theirs?" check from
# their AppConfig.ready() instead of accounts importing them.
_name_claims: list[Callable[[str], bool]] = []


def username_claim_register(*, claimed: Callable[[str], bool]) -> None:
    """Make `claimed(name)` (case-insensitive) a reason for username_check to refuse `name`."""
    if claimed not in _name_claims:
        _name_claims.append(claimed)


def username_check(*, username: str, exclude_user: User | None = None) -> str:
    """`username` stripped, if it is well formed and free; else Invalid on "username".

    One namespace for people and organizations: /projects/<name>/… must never be ambiguous.
    Shared by registration, the admin users API and the Django admin's user forms.
    """
    username = (username or "").strip()
    if not USERNAME_RE.match(username):
        raise _invalid("username", USERNAME_HELP)
    users = User.objects.filter(username__iexact=username)
    if exclude_user is not None:
        users = users.exclude(pk=exclude_user.pk)
    if users.exists() or any(claimed(username) for claimed in _name_claims):
        raise _invalid("username", f"The name '{username}' is already taken.")
    return username


def _user_build(*, username: str, email: str, password: str, display_name: str) -> User:
    """A validated, unsaved account (the rules shared by self-registration and admins)."""
    username = username_check(username=username)
    email = User.objects.normalize_email((email or "").strip())
    if _email_taken(email):
        raise _invalid("email", "An account with this email address already exists.")
    user = User(username=username, email=email, display_name=(display_name or "").strip())
    _password_validate(password, user=user, field="password")
    user.set_password(password)
    return user


def _user_insert(user: User) -> User:
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # A concurrent registration won the race past the check above; the unique index decided.
        raise _invalid("username", f"The name '{user.username}' is already taken.") from None
    return user


@transaction.atomic
def user_register(*, username: str, email: str, password: str, display_name: str = "") -> User:
    """Create an account with a password. Precondition: registration_open() was checked by the
    caller (each answers a closed site its own way). Forbidden when password sign-up is off;
    Invalid on "email" outside the sign-up domains."""
    if not system_settings().password_signup:
        raise Forbidden(PASSWORD_SIGNUP_OFF, code="password_signup_off")
    signup_email_check(email=email)
    user = _user_insert(_user_build(username=username, email=email, password=password, display_name=display_name))
    email_address_sync(user=user)
    return user


def email_unverified_blocks(*, user: User) -> bool:
    """Whether the site's mandatory e-mail verification keeps `user` out of session sign-in
    (the web app, PUNT's session API) until the address is confirmed. JWTs and API keys are
    not affected. An account without an address (made by an admin) has nothing to confirm."""
    if system_settings().email_verification != SystemSettings.EmailVerification.MANDATORY or not user.email:
        return False
    return not EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()


def email_address_sync(*, user: User) -> None:
    """Keep allauth's address rows (verification, linking by e-mail) in step with `user.email`.

    PUNT has one address per account: it is the primary row; the account's other rows go.
    A new address starts unverified; one the user already verified stays verified.
    """
    email = (user.email or "").strip().lower()
    EmailAddress.objects.filter(user=user).exclude(email=email).delete()
    if email:
        EmailAddress.objects.update_or_create(user=user, email=email, defaults={"primary": True})


@transaction.atomic
def user_update(*, user: User, display_name: str | None = None, email: str | None = None) -> User:
    """Change the profile fields that were given (None = leave as is). The username is fixed:
    it is part of every project URL in the user's namespace."""
    fields: list[str] = []
    if display_name is not None:
        user.display_name = display_name.strip()
        fields.append("display_name")
    if email is not None:
        email = User.objects.normalize_email(email.strip())
        if email and _email_taken(email, exclude_user=user):
            raise _invalid("email", "An account with this email address already exists.")
        user.email = email
        fields.append("email")
    if fields:
        user.save(update_fields=fields)
        if "email" in fields:
            email_address_sync(user=user)
        _publish_profile(user)
    return user


def _publish_profile(user: User) -> None:
    """`user.updated` to the user's own sockets and streams (other tabs, other devices)."""
    publish("user.updated", user_brief(user), user_ids=[user.pk], actor_id=user.pk)


@transaction.atomic
def password_change(*, user: User, current_password: str, new_password: str) -> User:
    """Set a new password after checking the current one; every refresh token dies with
    the old password, so a stolen session cannot outlive the change."""
    if not user.check_password(current_password or ""):
        raise _invalid("current_password", "The current password is wrong.")
    _password_validate(new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    refresh_tokens_revoke_all(user=user)
    return user


# --------------------------------------------------------------------------- password reset


def _hash_token(raw: str) -> str:
    # Reset tokens are 256-bit random secrets, so a plain SHA-256 is enough (same as API keys).
    return hash_api_key(raw)


@transaction.atomic
def password_reset_request(*, email: str) -> int:
    """Mail a single-use reset link to every active account with `email`.

    Returns how many mails were sent; callers must not reveal it (no account enumeration).
    """
    email = (email or "").strip()
    if not email:
        return 0
    lifetime = timedelta(minutes=settings.PUNT_PASSWORD_RESET_TIMEOUT_MINUTES)
    sent = 0
    for user in User.objects.filter(email__iexact=email, is_active=True):
        if not user.has_usable_password():
            continue
        raw = secrets.token_urlsafe(32)
        link = f"{settings.SITE_URL}/reset-password?token={raw}"
        minutes = settings.PUNT_PASSWORD_RESET_TIMEOUT_MINUTES
        body = (
            f"Hello {user.name},\n\n"
            f"Someone (hopefully you) asked to reset the password of your PUNT account '{user.username}'.\n"
            f"Open this link within {minutes} minutes to choose a new password:\n\n{link}\n\n"
            f"Or send this token to POST /api/v1/auth/reset-password:\n{raw}\n\n"
            "If you did not ask for this, ignore this mail: your password stays as it is.\n"
        )
        try:
            # One savepoint per mail: a token whose mail never left is rolled back, not kept.
            with transaction.atomic():
                PasswordResetToken.objects.create(
                    user=user, hashed_token=_hash_token(raw), expires_at=timezone.now() + lifetime
                )
                send_mail("Reset your PUNT password", body, None, [user.email])
        except (smtplib.SMTPException, OSError):
            # Logged, not raised: a 500 here would tell the caller that the account exists.
            logger.exception("Could not send the password reset mail to user %s", user.pk)
            continue
        sent += 1
    return sent


@transaction.atomic
def password_reset_confirm(*, token: str, password: str) -> User:
    """Set a new password with a reset token; the token (and the user's others) are spent."""
    invalid = _invalid("token", "This reset link is invalid or has expired.")
    reset = (
        PasswordResetToken.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(hashed_token=_hash_token((token or "").strip()))
        .first()
    )
    now = timezone.now()
    if reset is None or reset.used_at is not None or reset.expires_at <= now or not reset.user.is_active:
        raise invalid
    user = reset.user
    _password_validate(password, user=user, field="password")
    user.set_password(password)
    user.save(update_fields=["password"])
    PasswordResetToken.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
    refresh_tokens_revoke_all(user=user)
    return user


# --------------------------------------------------------------------------- JWT pairs


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    user: User
    token_type: str = "Bearer"

    @property
    def expires_in(self) -> int:
        return int(jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds())


class _PresentedRefreshToken(RefreshToken):
    """A refresh token checked for its signature, expiry and type, but not against the
    blacklist: token_pair_refresh and refresh_token_revoke decide what a revoked one means
    (a retry, a reuse, or just a refusal) once its row is locked."""

    def check_blacklist(self) -> None:
        return None


def _refresh_for(user: User) -> tuple[RefreshToken, OutstandingToken]:
    """A new refresh token for `user` carrying the user's token version, and its outstanding
    row, which keeps the token exactly as handed out (token_pair_refresh may hand it out again)."""
    refresh = RefreshToken()
    # The claims simplejwt's RefreshToken.for_user sets, plus ours, before the row stores the text.
    refresh[jwt_settings.USER_ID_CLAIM] = str(getattr(user, jwt_settings.USER_ID_FIELD))
    refresh[TOKEN_VERSION_CLAIM] = user.token_version
    outstanding = OutstandingToken.objects.create(
        user=user,
        jti=refresh[jwt_settings.JTI_CLAIM],
        token=str(refresh),
        created_at=refresh.current_time,
        expires_at=datetime_from_epoch(refresh["exp"]),
    )
    return refresh, outstanding


def _pair(refresh: RefreshToken, user: User) -> TokenPair:
    """`refresh` and its access token, which is derived from the refresh token alone (id,
    issue and expiry times), so the same refresh token always comes with the same access token."""
    access = refresh.access_token
    issued_at = datetime_from_epoch(refresh["iat"])
    access.set_iat(at_time=issued_at)
    access.set_exp(from_time=issued_at)
    jti = hashlib.sha256(f"access:{refresh[jwt_settings.JTI_CLAIM]}".encode()).hexdigest()[:32]
    access[jwt_settings.JTI_CLAIM] = jti
    return TokenPair(access_token=str(access), refresh_token=str(refresh), user=user)


@transaction.atomic
def token_pair_issue(*, user: User) -> TokenPair:
    """A fresh access + refresh pair for an authenticated, active user (records the login)."""
    refresh, _ = _refresh_for(user)
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    return _pair(refresh, user)


@transaction.atomic
def token_pair_sign_in(*, user: User, request: Any = None) -> TokenPair:
    """token_pair_issue() for a sign-in (password, registration, a completed second factor),
    which the audit log records; a pair re-issued to a signed-in client is not one."""
    pair = token_pair_issue(user=user)
    audit_record(action="auth.login", actor=user, request=request, target=user, data={"via": "token"})
    return pair


def _outstanding_locked(raw: str, *, ip: str | None) -> tuple[RefreshToken, OutstandingToken]:
    """Decode a refresh token and lock its OutstandingToken row (revoked or not: see _revoked).

    The lock serializes two requests that present the same token, so only one of them can
    rotate or revoke it. Raises Unauthenticated (401) for anything unusable; a token that
    is not one of ours at all also counts against `ip` (RateLimited past the limit).
    """
    try:
        # simplejwt annotates `token` as a Token, but it decodes the encoded string it is given
        # (its own TokenRefreshSerializer passes one).
        token = _PresentedRefreshToken(raw or "")  # type: ignore[arg-type]
    except ExpiredTokenError:
        raise Unauthenticated(REFRESH_TOKEN_INVALID, code="token_not_valid") from None
    except TokenError:
        if ip is not None:
            credential_failed(ip=ip)
        raise Unauthenticated(REFRESH_TOKEN_INVALID, code="token_not_valid") from None
    jti = token.payload.get(jwt_settings.JTI_CLAIM)
    # order_by("pk"): the model's default ordering joins the (nullable) user, which
    # PostgreSQL cannot lock FOR UPDATE.
    outstanding = OutstandingToken.objects.select_for_update(of=("self",)).filter(jti=jti).order_by("pk").first()
    if outstanding is None:
        raise Unauthenticated(REFRESH_TOKEN_INVALID, code="token_not_valid")
    return token, outstanding


def _revoked(outstanding: OutstandingToken) -> bool:
    return BlacklistedToken.objects.filter(token=outstanding).exists()


def _token_user(token: RefreshToken) -> User:
    """The active user `token` was issued to, if the token's version is still theirs; else 401."""
    user_id = token.payload.get(jwt_settings.USER_ID_CLAIM)
    user = None if user_id is None else User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or token.payload.get(TOKEN_VERSION_CLAIM, 0) != user.token_version:
        raise Unauthenticated(REFRESH_TOKEN_INVALID, code="token_not_valid")
    return user


def _family_revoke(family: str) -> int:
    """Revoke every refresh token of `family` that is still usable; returns how many."""
    live = OutstandingToken.objects.filter(
        Q(jti=family) | Q(rotated_from__family=family), blacklistedtoken__isnull=True
    ).order_by()
    revoked = [BlacklistedToken(token=token) for token in live]
    BlacklistedToken.objects.bulk_create(revoked, ignore_conflicts=True)
    return len(revoked)


def _retried_rotation(outstanding: OutstandingToken) -> RefreshRotation | None:
    """The rotation that a revoked token, presented again, retries; or None, after revoking
    what its presentation says must go.

    Within PUNT_REFRESH_REUSE_GRACE_SECONDS of the token's rotation, while the token it was
    exchanged for is unused and unrevoked, presenting it again is its own client retrying (an
    answer lost on the way). Anything else - later, or after the new token moved on or was
    signed out - means someone else holds a copy: every token of its family is revoked
    (theft detection; the rightful client signs in again). A token revoked without a rotation
    (sign-out, password change) is only refused. Precondition: `outstanding` is locked.
    """
    rotation = RefreshRotation.objects.select_related("replacement").filter(token=outstanding).first()
    if rotation is None:
        return None
    grace = timedelta(seconds=settings.PUNT_REFRESH_REUSE_GRACE_SECONDS)
    if timezone.now() - rotation.rotated_at <= grace and not _revoked(rotation.replacement):
        return rotation
    revoked = _family_revoke(rotation.family)
    logger.warning(
        "Refresh token %s was used again after its rotation: %d token(s) of its family revoked (user %s)",
        outstanding.jti,
        revoked,
        outstanding.user_id,
    )
    return None


@transaction.atomic
def _token_pair_rotate(*, refresh_token: str, ip: str | None) -> TokenPair | None:
    """token_pair_refresh's transaction; None: refused after revoking a reused token's family."""
    token, outstanding = _outstanding_locked(refresh_token, ip=ip)
    user = _token_user(token)
    if _revoked(outstanding):
        rotation = _retried_rotation(outstanding)
        if rotation is None:
            return None
        return _pair(_PresentedRefreshToken(rotation.replacement.token), user)  # type: ignore[arg-type]
    BlacklistedToken.objects.create(token=outstanding)
    family = RefreshRotation.objects.filter(replacement=outstanding).values_list("family", flat=True).first()
    refresh, replacement = _refresh_for(user)
    RefreshRotation.objects.create(
        token=outstanding, replacement=replacement, family=family or outstanding.jti, rotated_at=timezone.now()
    )
    return _pair(refresh, user)


def token_pair_refresh(*, refresh_token: str, ip: str | None = None) -> TokenPair:
    """Rotate: the presented refresh token is revoked and a new pair issued.

    The same token again within PUNT_REFRESH_REUSE_GRACE_SECONDS gets the same pair again;
    a later reuse revokes the token's whole family (see _retried_rotation). `ip`: the
    caller's address, charged for a token that is not ours (see credential_failed).
    """
    pair = _token_pair_rotate(refresh_token=refresh_token, ip=ip)
    if pair is None:
        # Raised once the transaction committed: the family's revocation must stand.
        raise Unauthenticated(REFRESH_TOKEN_INVALID, code="token_not_valid")
    return pair


@transaction.atomic
def _refresh_token_revoke(*, refresh_token: str, ip: str | None) -> bool:
    """refresh_token_revoke's transaction; False: refused (after revoking a reused token's family)."""
    _, outstanding = _outstanding_locked(refresh_token, ip=ip)
    if not _revoked(outstanding):
        BlacklistedToken.objects.create(token=outstanding)
        return True
    rotation = _retried_rotation(outstanding)
    if rotation is None:
        return False
    # The client signs out with the token it still has, its refresh answer lost: end the pair
    # it never received, or it would stay usable for its whole life.
    BlacklistedToken.objects.create(token=rotation.replacement)
    return True


def refresh_token_revoke(*, refresh_token: str, ip: str | None = None) -> None:
    """Log out one client: its refresh token can never be used again.

    A rotated token within the grace window (see _retried_rotation) signs out the token it
    was exchanged for; a later one revokes its family and is refused.
    """
    if not _refresh_token_revoke(refresh_token=refresh_token, ip=ip):
        raise Unauthenticated(REFRESH_TOKEN_INVALID, code="token_not_valid")


@transaction.atomic
def user_sign_out_everywhere(*, user: User) -> User:
    """End every access token, refresh token, session and open socket of `user` at once.

    API keys are left alone: they are managed one by one (accounts.services.api_key_revoke).
    """
    User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
    user.refresh_from_db(fields=["token_version"])
    refresh_tokens_revoke_all(user=user)
    sessions_revoke(user.pk)
    return user


@transaction.atomic
def refresh_tokens_revoke_all(*, user: User) -> int:
    """Revoke every refresh token of `user` that is still usable; returns how many."""
    live = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True)
    revoked = [BlacklistedToken(token=token) for token in live]
    BlacklistedToken.objects.bulk_create(revoked, ignore_conflicts=True)
    return len(revoked)


# --------------------------------------------------------------------------- API keys


@transaction.atomic
def api_key_create(
    *,
    user: User,
    name: str,
    scopes: list[str] | None = None,
    expires_at: datetime | None = None,
    request: Any = None,
) -> tuple[ApiKey, str]:
    """Create a key; returns it with the raw secret, which exists nowhere else afterwards."""
    name = (name or "").strip()
    if not name:
        raise _invalid("name", "Give the key a name.")
    scopes = list(dict.fromkeys(scopes or []))
    unknown = [scope for scope in scopes if scope not in ApiKey.Scope.values]
    if unknown:
        choices = ", ".join(ApiKey.Scope.values)
        raise _invalid("scopes", f"Unknown scope(s): {', '.join(unknown)}. Choose from {choices}.")
    if expires_at is not None and expires_at <= timezone.now():
        raise _invalid("expires_at", "The expiry must be in the future.")
    raw = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        user=user,
        name=name,
        prefix=raw[:API_KEY_PREFIX_LENGTH],
        hashed_key=hash_api_key(raw),
        scopes=scopes,
        expires_at=expires_at,
    )
    audit_record(action="api_key.created", actor=user, request=request, target=key, after=_api_key_facts(key))
    return key, raw


def api_key_mark_used(*, api_key: ApiKey, now: datetime) -> None:
    """Record that `api_key` authenticated a request at `now` (a hint for humans, not an audit log).

    One conditional UPDATE, atomic on its own; the caller decides how often it is worth a write.
    """
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now


def _api_key_facts(key: ApiKey) -> dict[str, Any]:
    return {"name": key.name, "prefix": key.prefix, "scopes": key.scopes, "expires_at": key.expires_at}


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, by: User | None = None, request: Any = None) -> ApiKey:
    """Revoke a key for good (idempotent). Precondition: the caller (`by`, the owner when
    None) owns it or is an admin."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_record(action="api_key.revoked", actor=by or api_key.user, request=request, target=api_key)
    return api_key


# --------------------------------------------------------------------------- avatars


def _delete_file_on_commit(storage: Any, name: str) -> None:
    # Files are not transactional: drop the old one only once the row no longer points at it.
    def delete() -> None:
        try:
            storage.delete(name)
        except OSError:
            logger.warning("Could not delete old avatar file %s", name)

    transaction.on_commit(delete)


def avatar_set(*, user: User, upload: UploadedFile[bytes]) -> User:
    """Check the uploaded image and store it as a 256x256 WebP without metadata."""
    # Decoded before the transaction: on SQLite a write transaction holds the database's one
    # write lock, and no writer should wait for an image to decode.
    try:
        with image_work():
            image = image_open_checked(upload, draft=AVATAR_SIZE)
            data = image_to_square_webp(image, size=AVATAR_SIZE)
    except ImageRejected as exc:
        raise _invalid("avatar", str(exc)) from None
    return _avatar_store(user=user, data=data)


@transaction.atomic
def _avatar_store(*, user: User, data: bytes) -> User:
    old_name = user.avatar.name if user.avatar else ""
    # A new name each time, so browsers and proxies never serve the previous picture.
    user.avatar.save(f"{user.pk}-{secrets.token_hex(6)}.webp", ContentFile(data), save=False)
    new_name = user.avatar.name
    assert new_name is not None  # save() just named the stored file
    try:
        user.save(update_fields=["avatar"])
    except Exception:
        user.avatar.storage.delete(new_name)  # no row points at it: do not leave it behind
        raise
    if old_name:
        _delete_file_on_commit(user.avatar.storage, old_name)
    _publish_profile(user)
    return user


@transaction.atomic
def avatar_clear(*, user: User) -> User:
    old_name = user.avatar.name
    if old_name:  # what `if user.avatar` tests: a FieldFile is true when it has a name
        storage = user.avatar.storage
        user.avatar = ""
        user.save(update_fields=["avatar"])
        _delete_file_on_commit(storage, old_name)
        _publish_profile(user)
    return user


# --------------------------------------------------------------------------- admin: users


def _roles_apply(user: User, roles: list[str]) -> None:
    """Set the global roles from a list: "admin" is is_staff, the others live in global_roles."""
    roles = list(dict.fromkeys(roles))
    unknown = [role for role in roles if role not in User.GlobalRole.values]
    if unknown:
        choices = ", ".join(User.GlobalRole.values)
        raise _invalid("global_roles", f"Unknown role(s): {', '.join(unknown)}. Choose from {choices}.")
    admin = User.GlobalRole.ADMIN.value in roles
    user.is_staff = admin
    if not admin:
        # A superuser holds the admin role too (User.roles); taking the role away means both flags.
        user.is_superuser = False
    user.global_roles = [role for role in User.GlobalRole.values if role in roles and role != User.GlobalRole.ADMIN]


@transaction.atomic
def user_create(
    *,
    by: User,
    username: str,
    email: str,
    password: str,
    display_name: str = "",
    global_roles: list[str] | None = None,
    is_active: bool = True,
    request: Any = None,
) -> User:
    """An account made by a site admin (registration open or not). Precondition: `by` is a site admin."""
    user = _user_build(username=username, email=email, password=password, display_name=display_name)
    _roles_apply(user, global_roles or [])
    user.is_active = is_active
    _user_insert(user)
    email_address_sync(user=user)
    logger.info("User %s created by admin %s", user.pk, by.pk)
    audit_record(action="user.created", actor=by, request=request, target=user, after=_user_facts(user))
    return user


@transaction.atomic
def user_admin_update(
    *,
    user: User,
    by: User,
    display_name: str | None = None,
    email: str | None = None,
    is_active: bool | None = None,
    global_roles: list[str] | None = None,
    password: str | None = None,
    request: Any = None,
) -> User:
    """Change an account as a site admin (None = leave as is). Precondition: `by` is a site admin.

    Admins cannot deactivate themselves or drop their own admin role: that is how a site
    loses its last admin. Deactivating revokes every refresh token; API keys, access
    tokens and sessions already refuse inactive users.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    before = _user_facts(user)
    fields: list[str] = []
    if global_roles is not None:
        if user.pk == by.pk and User.GlobalRole.ADMIN.value not in global_roles:
            raise _invalid("global_roles", "You cannot remove your own admin role.")
        _roles_apply(user, global_roles)
        fields += ["is_staff", "is_superuser", "global_roles"]
    if is_active is not None and is_active != user.is_active:
        if user.pk == by.pk and not is_active:
            raise _invalid("is_active", "You cannot deactivate your own account.")
        user.is_active = is_active
        fields.append("is_active")
    if password is not None:
        _password_validate(password, user=user, field="password")
        user.set_password(password)
        fields.append("password")
    if fields:
        user.save(update_fields=fields)
    user = user_update(user=user, display_name=display_name, email=email)
    if ("is_active" in fields and not user.is_active) or "password" in fields:
        refresh_tokens_revoke_all(user=user)
    if "is_active" in fields and not user.is_active:
        sessions_revoke(user.pk)
    _user_change_record(before, user, by=by, request=request, password_set="password" in fields)
    return user


def _user_facts(user: User) -> dict[str, Any]:
    return {
        "display_name": user.display_name,
        "email": user.email,
        "is_active": user.is_active,
        "global_roles": list(user.roles),
    }


def _user_change_record(before: dict[str, Any], user: User, *, by: User, request: Any, password_set: bool) -> None:
    old, new = changes(before, _user_facts(user))
    if password_set:
        # Never the password itself, not even its hash: only that an admin set it.
        old["password"], new["password"] = "(old)", "(set by an admin)"
    if not new:
        return
    action = "user.deactivated" if new.get("is_active") is False else "user.changed"
    audit_record(action=action, actor=by, request=request, target=user, before=old, after=new)


@transaction.atomic
def user_deactivate(*, user: User, by: User, request: Any = None) -> User:
    """Deactivate rather than delete: the account's tickets, comments and time stay attributed."""
    return user_admin_update(user=user, by=by, is_active=False, request=request)


# --------------------------------------------------------------------------- system settings

SYSTEM_SETTINGS_CACHE_KEY = "punt:system-settings:v1"
# Writes invalidate the cache; the expiry only bounds staleness after writes that bypass
# system_settings_update() (a restore, a shell session).
SYSTEM_SETTINGS_CACHE_SECONDS = 300
SITE_NAME_MAX = 100
UPLOAD_TYPES_MAX = 100
CONTENT_TYPE_RE = re.compile(CONTENT_TYPE_PATTERN)
EMAIL_DOMAINS_MAX = 100
EMAIL_DOMAIN_RE = re.compile(EMAIL_DOMAIN_PATTERN)
_NO_ROW = "none"


def _settings_fields() -> list[str]:
    return [field.attname for field in SystemSettings._meta.concrete_fields]


def system_settings() -> SystemSettings:
    """The site's settings (cached; one cache read per call, no query when warm).

    Until an admin saves them there is no row: the defaults then come from the environment
    (PUNT_REGISTRATION_OPEN, PUNT_MAX_UPLOAD_BYTES, PUNT_WEBHOOKS_ALLOW_PRIVATE) each time.
    Treat the result as read-only; change it with system_settings_update().
    """
    cached = cache.get(SYSTEM_SETTINGS_CACHE_KEY)
    if cached is None:
        row = SystemSettings.objects.filter(pk=SystemSettings.SINGLETON_PK).values(*_settings_fields()).first()
        cached = row if row is not None else _NO_ROW
        cache.set(SYSTEM_SETTINGS_CACHE_KEY, cached, SYSTEM_SETTINGS_CACHE_SECONDS)
    if cached == _NO_ROW:
        return SystemSettings()
    instance = SystemSettings(**cached)
    instance._state.adding = False
    return instance


def system_settings_invalidate() -> None:
    """Drop the cached settings now and again after the transaction commits.

    The second delete matters: a reader between the first one and the commit would cache
    the old row again.
    """
    cache.delete(SYSTEM_SETTINGS_CACHE_KEY)
    transaction.on_commit(_system_settings_recache)


def _system_settings_recache() -> None:
    # Cached again at once, not on the next read: pages check the two-factor policy only in the
    # cached settings (web.middleware.TwoFactorPolicyMiddleware), so a change reaches them now.
    cache.delete(SYSTEM_SETTINGS_CACHE_KEY)
    system_settings()


def _upload_types_clean(values: list[str]) -> list[str]:
    if len(values) > UPLOAD_TYPES_MAX:
        raise _invalid("allowed_upload_types", f"At most {UPLOAD_TYPES_MAX} content types.")
    cleaned: list[str] = []
    for value in values:
        text = str(value).strip().lower()
        if not CONTENT_TYPE_RE.match(text):
            raise _invalid("allowed_upload_types", f"'{value}' is not a content type like 'image/png' or 'image/*'.")
        if text not in cleaned:
            cleaned.append(text)
    return cleaned


def _email_domains_clean(values: list[str]) -> list[str]:
    if len(values) > EMAIL_DOMAINS_MAX:
        raise _invalid("signup_email_domains", f"At most {EMAIL_DOMAINS_MAX} domains.")
    cleaned: list[str] = []
    for value in values:
        # "@example.com" and "Example.COM" mean example.com.
        text = str(value).strip().lower().lstrip("@")
        if not EMAIL_DOMAIN_RE.match(text):
            raise _invalid("signup_email_domains", f"'{value}' is not a domain like 'example.com'.")
        if text not in cleaned:
            cleaned.append(text)
    return cleaned


def system_settings_clean(
    *,
    site_name: str | None = None,
    registration_open: bool | None = None,
    max_upload_bytes: int | None = None,
    allowed_upload_types: list[str] | None = None,
    default_member_role: str | None = None,
    webhooks_allow_private: bool | None = None,
    signup_email_domains: list[str] | None = None,
    password_signup: bool | None = None,
    email_verification: str | None = None,
    require_two_factor: str | None = None,
) -> dict[str, Any]:
    """The given settings checked and normalized (None = not given, left out of the result).

    Raises Invalid with the first bad field. The API and the admin form share it.
    """
    values: dict[str, Any] = {}
    if site_name is not None:
        site_name = site_name.strip()
        if not site_name or len(site_name) > SITE_NAME_MAX:
            raise _invalid("site_name", f"Give the site a name of 1-{SITE_NAME_MAX} characters.")
        values["site_name"] = site_name
    if registration_open is not None:
        values["registration_open"] = bool(registration_open)
    if max_upload_bytes is not None:
        if not UPLOAD_BYTES_MIN <= max_upload_bytes <= UPLOAD_BYTES_MAX:
            raise _invalid(
                "max_upload_bytes", f"Choose a limit between {UPLOAD_BYTES_MIN} and {UPLOAD_BYTES_MAX} bytes."
            )
        values["max_upload_bytes"] = int(max_upload_bytes)
    if allowed_upload_types is not None:
        values["allowed_upload_types"] = _upload_types_clean(allowed_upload_types)
    if default_member_role is not None:
        if default_member_role not in SystemSettings.MemberRole.values:
            raise _invalid("default_member_role", "Choose member or viewer.")
        values["default_member_role"] = default_member_role
    if webhooks_allow_private is not None:
        values["webhooks_allow_private"] = bool(webhooks_allow_private)
    if signup_email_domains is not None:
        values["signup_email_domains"] = _email_domains_clean(signup_email_domains)
    if password_signup is not None:
        values["password_signup"] = bool(password_signup)
    if email_verification is not None:
        if email_verification not in SystemSettings.EmailVerification.values:
            raise _invalid("email_verification", "Choose none, optional or mandatory.")
        values["email_verification"] = email_verification
    if require_two_factor is not None:
        if require_two_factor not in SystemSettings.TwoFactor.values:
            raise _invalid("require_two_factor", "Choose off, admins or everyone.")
        values["require_two_factor"] = require_two_factor
    return values


@transaction.atomic
def system_settings_update(
    *,
    by: User | None,
    site_name: str | None = None,
    registration_open: bool | None = None,
    max_upload_bytes: int | None = None,
    allowed_upload_types: list[str] | None = None,
    default_member_role: str | None = None,
    webhooks_allow_private: bool | None = None,
    signup_email_domains: list[str] | None = None,
    password_signup: bool | None = None,
    email_verification: str | None = None,
    require_two_factor: str | None = None,
    request: Any = None,
) -> SystemSettings:
    """Validate and save the settings that were given (None = leave as is); the first save
    creates the row from the current defaults. Precondition: `by` is a site admin (None: a
    command). Every process sees the change on its next read (the cache is shared)."""
    values = system_settings_clean(
        site_name=site_name,
        registration_open=registration_open,
        max_upload_bytes=max_upload_bytes,
        allowed_upload_types=allowed_upload_types,
        default_member_role=default_member_role,
        webhooks_allow_private=webhooks_allow_private,
        signup_email_domains=signup_email_domains,
        password_signup=password_signup,
        email_verification=email_verification,
        require_two_factor=require_two_factor,
    )
    row, _ = SystemSettings.objects.select_for_update().get_or_create(pk=SystemSettings.SINGLETON_PK)
    before = {name: getattr(row, name) for name in values}
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_by = by
    row.save()
    system_settings_invalidate()
    old, new = changes(before, values)
    if new:
        audit_record(action="settings.changed", actor=by, request=request, target=row, before=old, after=new)
    return row
