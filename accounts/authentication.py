"""How API callers prove who they are with an account's credentials: API keys and JWT Bearer tokens.

Listed in settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] next to punt's session
class; the realtime endpoints (punt.realtime.auth) check API keys through the same function.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication

from accounts.models import API_KEY_PREFIX, ApiKey, hash_api_key
from punt.api.authentication import bearer_token

__all__ = [
    "API_KEY_PREFIX",
    "ApiKeyAuthentication",
    "BearerAuthentication",
    "api_key_from_request",
    "authenticate_api_key",
]

# last_used_at is a hint for humans; writing it on every request would turn every read
# into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def authenticate_api_key(raw_key: str) -> tuple[Any, ApiKey]:
    """Return (user, key) for a valid key or raise AuthenticationFailed (401)."""
    try:
        key = ApiKey.objects.select_related("user").get(hashed_key=hash_api_key(raw_key))
    except ApiKey.DoesNotExist:
        raise exceptions.AuthenticationFailed("Invalid API key.") from None
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
        return authenticate_api_key(raw_key)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class BearerAuthentication(JWTAuthentication):
    """JWT access tokens (simplejwt); leaves `Bearer punt_…` API keys to ApiKeyAuthentication."""

    def authenticate(self, request: Request) -> Any:
        token = bearer_token(request)
        if token is None or token.startswith(API_KEY_PREFIX):
            return None
        return super().authenticate(request)
