"""Rate limits on django-ratelimit's counters (the shared cache: Redis when REDIS_URL is set).

Limited endpoints send X-RateLimit-Limit / -Remaining / -Reset (seed 000); a refusal is
a 429 with Retry-After in PUNT's error shape.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage
from rest_framework.throttling import BaseThrottle

from punt import errors

RATE_ATTR = "_punt_rate_limit"


@dataclass(frozen=True)
class Usage:
    limit: int
    remaining: int
    reset: int  # Unix time when the window ends
    limited: bool

    @property
    def retry_after(self) -> int:
        return max(1, self.reset - int(time.time()))


class RateLimited(errors.RateLimited):
    def __init__(self, usage: Usage) -> None:
        wait = usage.retry_after
        super().__init__(f"Too many requests. Try again in {wait} seconds.", retry_after=wait)


def _django_request(request: Any) -> HttpRequest:
    return getattr(request, "_request", request)


def client_ip(request: Any) -> str:
    """The caller's address, as the per-IP limits see it.

    Behind N trusted proxies (PUNT_TRUSTED_PROXY_COUNT) it is the N-th entry from the right
    of X-Forwarded-For: each proxy appends what it saw, so entries further left are whatever
    the client chose to send and cannot be trusted.
    """
    meta = _django_request(request).META
    hops = settings.PUNT_TRUSTED_PROXY_COUNT
    if hops:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return meta.get("REMOTE_ADDR", "") or "unknown"


def check_rate(request: Any, *, group: str, rate: str, key: str, increment: bool = True) -> Usage:
    """Count one hit of `key` in `group` and remember the usage for the response headers.

    Raises RateLimited (429) when the limit is exceeded.
    """
    django_request = _django_request(request)
    raw = get_usage(django_request, group=group, key=lambda _group, _request: key, rate=rate, increment=increment)
    if raw is None:
        return Usage(limit=0, remaining=0, reset=0, limited=False)
    usage = Usage(
        limit=raw["limit"],
        remaining=max(0, raw["limit"] - raw["count"]),
        reset=int(time.time()) + int(raw["time_left"]),
        limited=raw["should_limit"],
    )
    setattr(django_request, RATE_ATTR, usage)
    if usage.limited:
        raise RateLimited(usage)
    return usage


class UserApiThrottle(BaseThrottle):
    """The general per-caller API limit (PUNT_API_RATE_PER_MINUTE per user, or per IP)."""

    def allow_request(self, request: Any, view: Any) -> bool:
        if getattr(view, "skip_general_rate_limit", False):
            return True
        user = getattr(request, "user", None)
        who = f"user:{user.pk}" if user is not None and user.is_authenticated else f"ip:{client_ip(request)}"
        check_rate(request, group="api", rate=f"{settings.PUNT_API_RATE_PER_MINUTE}/m", key=who)
        return True


class RateLimitHeadersMiddleware:
    """Copies the usage recorded by check_rate onto the response as X-RateLimit-* headers."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        response = self.get_response(request)
        usage: Usage | None = getattr(request, RATE_ATTR, None)
        if usage is not None and usage.limit:
            response["X-RateLimit-Limit"] = str(usage.limit)
            response["X-RateLimit-Remaining"] = str(usage.remaining)
            response["X-RateLimit-Reset"] = str(usage.reset)
            if usage.limited:
                response["Retry-After"] = str(usage.retry_after)
        return response


def record_usage(request: Any, *, limit: int, remaining: int, reset: int, limited: bool = False) -> None:
    """Report a budget that a service counted itself (sign-ins) in the X-RateLimit-* headers."""
    usage = Usage(limit=limit, remaining=remaining, reset=reset, limited=limited)
    setattr(_django_request(request), RATE_ATTR, usage)
