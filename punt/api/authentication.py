"""Authentication plumbing that needs no account model: the session cookie and the Bearer header.

API keys and JWTs are the accounts app's (accounts.authentication), listed beside the
session class in settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"].
"""

from __future__ import annotations

from rest_framework import authentication
from rest_framework.request import Request

from punt.api.origin import sent_from_this_origin
from punt.api.sessions import is_punt_dialect_path

JSON_MEDIA_TYPE = "application/json"


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if there is one."""
    header = authentication.get_authorization_header(request).decode("latin-1")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def cookie_write_needs_no_token(request: Request) -> bool:
    """Whether a write authenticated by the session cookie alone may go without a CSRF token.

    Seed 000 has its clients sign in and then send `Content-Type: application/json` and the
    cookie, nothing else. That is safe on the PUNT dialect's paths when the body is JSON and
    no browser says another origin sent it: a page on another site cannot send a JSON body,
    nor any PUT, PATCH or DELETE, without a CORS preflight, which PUNT never grants, and its
    Origin / Sec-Fetch-Site would give it away besides. A POST of a form (urlencoded,
    multipart) or text/plain is what other sites can send, so that still needs the token, as
    does every cookie write on the other dialects (/api/v1/, /api/v3/: their documents use
    tokens and keys) and on pages.
    """
    django_request = request._request
    return (
        is_punt_dialect_path(django_request.path_info)
        and (django_request.method != "POST" or django_request.content_type == JSON_MEDIA_TYPE)
        and sent_from_this_origin(django_request)
    )


class CsrfSessionAuthentication(authentication.SessionAuthentication):
    """The session cookie, with CSRF enforced on unsafe methods (DRF's default behaviour),
    except for the PUNT dialect's JSON writes from this site (cookie_write_needs_no_token)."""

    def enforce_csrf(self, request: Request) -> None:
        if cookie_write_needs_no_token(request):
            return
        super().enforce_csrf(request)
