"""Who is on the other end of a WebSocket or SSE connection.

Browsers cannot set headers on a WebSocket or an EventSource, so besides the session
cookie we accept a JWT access token or an API key in the query string (`?token=`,
`?api_key=`), and for other clients the usual `Authorization: Bearer` / `X-API-Key`
headers. Credentials that are present but wrong are an error (WebSocket close 4401, HTTP
401), never a silent fall-back to the session.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from django.contrib.auth.models import AnonymousUser
from rest_framework import exceptions

from accounts.authentication import API_KEY_PREFIX, authenticate_access_token, authenticate_api_key
from accounts.models import ApiKey

# Any of these lets an API key follow a project's live events.
READ_SCOPES = (ApiKey.Scope.PROJECTS_READ, ApiKey.Scope.TICKETS_READ, ApiKey.Scope.CHAT_READ)


class AuthFailed(Exception):
    """Credentials were given but are invalid, expired or revoked."""


@dataclass(frozen=True)
class Credentials:
    token: str | None = None  # a JWT access token
    api_key: str | None = None

    @property
    def given(self) -> bool:
        return bool(self.token or self.api_key)


def credentials_from(query: Mapping[str, str], headers: Mapping[str, str]) -> Credentials:
    """Pick the credentials out of a query string and (lower-cased) headers."""
    token = query.get("token") or None
    api_key = query.get("api_key") or headers.get("x-api-key") or None
    scheme, _, bearer = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and bearer.strip() and not token:
        token = bearer.strip()
    if token and token.startswith(API_KEY_PREFIX):
        token, api_key = None, api_key or token
    return Credentials(token=token.strip() if token else None, api_key=api_key.strip() if api_key else None)


def scope_query(scope: Mapping[str, Any]) -> dict[str, str]:
    parsed = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return {name: values[-1] for name, values in parsed.items()}


def scope_headers(scope: Mapping[str, Any]) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", [])}


def user_for_credentials(credentials: Credentials) -> tuple[Any, ApiKey | None]:
    """Return (user, api_key or None) for `credentials`; raise AuthFailed if they are bad.

    Touches the database: call through database_sync_to_async from async code.
    """
    if credentials.api_key:
        try:
            user, key = authenticate_api_key(credentials.api_key)
        except exceptions.AuthenticationFailed as exc:
            raise AuthFailed(str(exc.detail)) from None
        return user, key
    if credentials.token:
        try:
            user, _ = authenticate_access_token(credentials.token)
        except exceptions.AuthenticationFailed as exc:
            raise AuthFailed(str(exc.detail)) from None
        return user, None
    return AnonymousUser(), None


def key_may_read(key: ApiKey | None) -> bool:
    return key is None or any(key.allows(scope) for scope in READ_SCOPES)
