"""The session cookie under the name seed 000 documents, on the PUNT dialect's paths.

Seed 000 tells its clients to send `Cookie: next-auth.session-token=<token>` (the name
NextAuth gives it). Django's session cookie is SESSION_COOKIE_NAME (`sessionid`). On the
PUNT dialect's paths - /api/ except the other dialects' /api/v1/ and /api/v3/ - the
document's name is read when Django's is absent, and whenever the session cookie is set or
cleared there (sign-in, sign-out) the document's cookie follows with the same value and
flags. Elsewhere it is never read: pages, /api/v1/ and /api/v3/ know only `sessionid`.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse

DOCUMENT_SESSION_COOKIE = "next-auth.session-token"
OTHER_DIALECTS = ("/api/v1/", "/api/v3/")


def is_punt_dialect_path(path: str) -> bool:
    """Whether `path` belongs to the PUNT dialect (seeds 000, 001): /api/, but not /api/v1/ or /api/v3/."""
    return path.startswith("/api/") and not path.startswith(OTHER_DIALECTS)


def _session_from_document_cookie(request: HttpRequest) -> bool:
    return (
        settings.SESSION_COOKIE_NAME not in request.COOKIES
        and DOCUMENT_SESSION_COOKIE in request.COOKIES
        and is_punt_dialect_path(request.path_info)
    )


class PuntSessionMiddleware(SessionMiddleware):
    """Django's SessionMiddleware, plus seed 000's cookie name on the PUNT dialect's paths."""

    def process_request(self, request: HttpRequest) -> None:
        name = DOCUMENT_SESSION_COOKIE if _session_from_document_cookie(request) else settings.SESSION_COOKIE_NAME
        request.session = self.SessionStore(request.COOKIES.get(name))

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        response = super().process_response(request, response)
        written = response.cookies.get(settings.SESSION_COOKIE_NAME)
        if written is not None:
            # Also off the PUNT paths when the client holds the document's cookie: a session
            # key rotated by a page sign-in must not leave a stale copy behind.
            if is_punt_dialect_path(request.path_info) or DOCUMENT_SESSION_COOKIE in request.COOKIES:
                response.cookies[DOCUMENT_SESSION_COOKIE] = written.value
                # Every attribute of Django's cookie: expiry (0 when it was cleared), path,
                # domain, Secure, HttpOnly, SameSite.
                response.cookies[DOCUMENT_SESSION_COOKIE].update(dict(written.items()))
        elif _session_from_document_cookie(request):
            session = getattr(request, "session", None)
            if session is not None and session.is_empty():
                # Signed out (or the session expired): Django clears only a cookie it was sent.
                response.delete_cookie(
                    DOCUMENT_SESSION_COOKIE,
                    path=settings.SESSION_COOKIE_PATH,
                    domain=settings.SESSION_COOKIE_DOMAIN,
                    samesite=settings.SESSION_COOKIE_SAMESITE,
                )
        return response
