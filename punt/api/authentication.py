"""Authentication plumbing that needs no account model: the session cookie and the Bearer header.

API keys and JWTs are the accounts app's (accounts.authentication), listed beside the
session class in settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"].
"""

from __future__ import annotations

from rest_framework import authentication
from rest_framework.request import Request


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if there is one."""
    header = authentication.get_authorization_header(request).decode("latin-1")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


class CsrfSessionAuthentication(authentication.SessionAuthentication):
    """The session cookie, with CSRF enforced on unsafe methods (DRF's default behaviour)."""
