"""Refuse writes that a browser sent on behalf of another site.

Endpoints that take a cookie (or set one) without a CSRF token - PUNT's sign-in, which
must work before the client has a token - still need what Django's CSRF middleware checks
for everything else: that a browser request comes from this site. Browsers send `Origin`
on every POST and `Sec-Fetch-Site` on every request; scripts and curl send neither, so a
request without them is let through (it cannot carry a victim's cookies or plant one).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.utils.http import is_same_domain

from punt import errors

CROSS_SITE_MESSAGE = "Cross-site request refused: send it from this site's own pages."


def _trusted(origin: str, scheme: str) -> bool:
    """`origin` is listed in CSRF_TRUSTED_ORIGINS (a `*.` entry covers subdomains), as Django reads it."""
    netloc = urlsplit(origin).netloc
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        if trusted == origin:
            return True
        parts = urlsplit(trusted)
        if parts.scheme == scheme and parts.netloc.startswith("*") and is_same_domain(netloc, parts.netloc[1:]):
            return True
    return False


def same_origin(request: HttpRequest) -> bool:
    """Whether `request` is not a cross-site browser request (the Origin rule of Django's CSRF check)."""
    if request.headers.get("Sec-Fetch-Site", "").strip().lower() == "cross-site":
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    try:
        own = f"{'https' if request.is_secure() else 'http'}://{request.get_host()}"
    except DisallowedHost:
        own = None
    if origin == own:
        return True
    try:
        scheme = urlsplit(origin).scheme
    except ValueError:
        return False
    return bool(scheme) and _trusted(origin, scheme)


def sent_from_this_origin(request: HttpRequest) -> bool:
    """same_origin(), and no browser saying another origin of this site (a sibling subdomain) sent it.

    For writes that carry no CSRF token: `Sec-Fetch-Site` must be absent (not a browser),
    `same-origin`, or `none` (the user's own action: typed, bookmarked, an extension of
    theirs - no other site involved). `same-site`, `cross-site` and values browsers may
    add later are refused.
    """
    site = request.headers.get("Sec-Fetch-Site", "").strip().lower()
    return site in ("", "same-origin", "none") and same_origin(request)


def require_same_origin(request: HttpRequest) -> None:
    """Raise Forbidden (403 in the error shape) for a cross-site browser request."""
    if not same_origin(request):
        raise errors.Forbidden(CROSS_SITE_MESSAGE, code="cross_site")
