"""How API callers prove who they are with an account's credentials: API keys and JWT Bearer tokens.

Listed in settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] next to punt's session
class; the realtime endpoints (punt.realtime.auth) check API keys and access tokens through
the same functions. Credentials that are not ours at all are counted per address
(accounts.services.credential_failed): past a limit the 401 becomes a 429.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import API_KEY_PREFIX, TOKEN_VERSION_CLAIM, ApiKey, User, hash_api_key
from punt.api.authentication import bearer_token
from punt.api.ratelimit import client_ip
from punt.errors import RateLimited

__all__ = [
    "API_KEY_PREFIX",
    "ApiKeyAuthentication",
    "BearerAuthentication",
    "api_key_from_request",
    "authenticate_access_token",
    "authenticate_api_key",
]

# last_used_at is a hint for humans; writing it on every request would turn every read
# into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class CredentialRefused(exceptions.AuthenticationFailed):
    """A 401 for a credential that is not ours at all (unknown API key, forged or garbled
    JWT): counted against the caller's address, unlike an expired or revoked one."""


def authenticate_api_key(raw_key: str) -> tuple[Any, ApiKey]:
    """Return (user, key) for a valid key or raise AuthenticationFailed (401)."""
    try:
        key = ApiKey.objects.select_related("user").get(hashed_key=hash_api_key(raw_key))
    except ApiKey.DoesNotExist:
        raise CredentialRefused("Invalid API key.") from None
    if key.revoked_at is not None:
        raise exceptions.AuthenticationFailed("This API key has been revoked.")
    now = timezone.now()
    if key.expires_at is not None and key.expires_at <= now:
        raise exceptions.AuthenticationFailed("This API key has expired.")
    if not key.user.is_active:
        raise exceptions.AuthenticationFailed("The owner of this API key is deactivated.")
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        # Imported here: DRF loads this module (DEFAULT_AUTHENTICATION_CLASSES) when
        # rest_framework.views is first imported, which accounts.services itself may trigger.
        from accounts.services import api_key_mark_used

        api_key_mark_used(api_key=key, now=now)
    return key.user, key


def authenticate_access_token(raw_token: str) -> tuple[User, AccessToken]:
    """Return (user, token) for a valid JWT access token or raise AuthenticationFailed (401).

    A token dies with its expiry, with its user's deactivation, and when the user's
    token_version moves past the one it carries (a new password, "sign out everywhere").
    """
    try:
        # simplejwt annotates `token` as a Token, but it decodes the encoded string it is given.
        token = AccessToken(raw_token)  # type: ignore[arg-type]
    except ExpiredTokenError:
        raise exceptions.AuthenticationFailed("Token is expired.", code="token_not_valid") from None
    except TokenError:
        raise CredentialRefused("Token is invalid.", code="token_not_valid") from None
    user_id = token.get(jwt_settings.USER_ID_CLAIM)
    user = User.objects.filter(pk=user_id).first() if isinstance(user_id, int | str) else None
    if user is None:
        raise exceptions.AuthenticationFailed("User not found.", code="user_not_found")
    if not user.is_active:
        raise exceptions.AuthenticationFailed("User is inactive.", code="user_inactive")
    if token.get(TOKEN_VERSION_CLAIM, 0) != user.token_version:
        raise exceptions.AuthenticationFailed(
            "This token was revoked: the password changed or the user signed out everywhere.", code="token_revoked"
        )
    return user, token


def _counted(request: Request, exc: exceptions.AuthenticationFailed) -> Exception:
    """`exc`, or a 429 once the caller's address has sent too many credentials that are not ours."""
    if isinstance(exc, CredentialRefused):
        # Imported here for the same reason as api_key_mark_used above.
        from accounts.services import credential_failed

        try:
            credential_failed(ip=client_ip(request))
        except RateLimited as limited:
            return limited
    return exc


def api_key_from_request(request: Request) -> str | None:
    header = request.META.get("HTTP_X_API_KEY")
    if header:
        return header.strip()
    query = request.query_params.get("api_key") if hasattr(request, "query_params") else None
    if query:
        return query.strip()
    bearer = bearer_token(request)
    if bearer and bearer.startswith(API_KEY_PREFIX):
        return bearer
    return None


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`X-API-Key: punt_…`, `?api_key=punt_…` or `Authorization: Bearer punt_…`."""

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        raw_key = api_key_from_request(request)
        if raw_key is None:
            return None
        try:
            return authenticate_api_key(raw_key)
        except exceptions.AuthenticationFailed as exc:
            raise _counted(request, exc) from None

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class BearerAuthentication(JWTAuthentication):
    """JWT access tokens (simplejwt); leaves `Bearer punt_…` API keys to ApiKeyAuthentication."""

    def authenticate(self, request: Request) -> Any:
        token = bearer_token(request)
        if token is None or token.startswith(API_KEY_PREFIX):
            return None
        try:
            return authenticate_access_token(token)
        except exceptions.AuthenticationFailed as exc:
            raise _counted(request, exc) from None
