"""PUNT's own exceptions: what services and selectors raise when a rule says no.

Services never import DRF. Each surface turns these into its own shape in one place:
the API (`punt.api.errors.exception_handler`: `{"error": ..., "details": [...]}` with the
status), pages (`NotFound` and `Forbidden` are Django's `Http404` and `PermissionDenied`,
so an uncaught one is the 404 / 403 page; `message()` gives a form or toast its line,
`field_errors()` a form its field errors), WebSockets (`close_code()`) and management
commands (`command_errors`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.management.base import CommandError
from django.http import Http404

Details = list[dict[str, str]]
P = ParamSpec("P")
R = TypeVar("R")


class PuntError(Exception):
    """A refusal with an HTTP status, a readable message and, for bad input, per-field details."""

    status: int = 400
    default_message: str = "Bad request."
    code: str = "error"

    def __init__(self, message: str | None = None, *, details: Details | None = None, code: str | None = None) -> None:
        self.message = message or self.default_message
        self.details: Details = list(details or [])
        if code is not None:
            self.code = code
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        """The API's error shape."""
        body: dict[str, Any] = {"error": self.message}
        if self.details:
            body["details"] = self.details
        return body

    def headers(self) -> dict[str, str]:
        return {}


class NotFound(PuntError, Http404):
    """The thing does not exist or the caller may not know it does (outsiders get this, not 403)."""

    status = 404
    default_message = "Not found."
    code = "not_found"


class Forbidden(PuntError, DjangoPermissionDenied):
    """The caller can see the thing but their role does not allow this."""

    status = 403
    default_message = "You do not have permission to perform this action."
    code = "forbidden"


class Unauthenticated(PuntError):
    status = 401
    default_message = "Authentication credentials were not provided."
    code = "not_authenticated"


class Invalid(PuntError):
    """Bad input. `details` name the fields: [{"field": "title", "message": "Too long."}]."""

    status = 400
    default_message = "Validation failed"
    code = "invalid"

    def first_message(self) -> str:
        return self.details[0]["message"] if self.details else self.message


class Conflict(PuntError):
    """The request is valid but the current state does not allow it."""

    status = 409
    default_message = "This conflicts with the current state."
    code = "conflict"


class Unprocessable(PuntError):
    status = 422
    default_message = "The request cannot be processed."
    code = "unprocessable"


class PayloadTooLarge(PuntError):
    status = 413
    default_message = "The request body is too large."
    code = "too_large"


class RateLimited(PuntError):
    status = 429
    default_message = "Too many requests. Try again later."
    code = "rate_limited"

    def __init__(self, message: str | None = None, *, retry_after: int | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(int(self.retry_after))} if self.retry_after else {}


class Unavailable(PuntError):
    status = 503
    default_message = "The service is unavailable. Try again later."
    code = "unavailable"


def invalid(field: str, message: str | Sequence[str]) -> Invalid:
    """A 400 naming `field`, for services to raise: `raise invalid("title", "Too long.")`."""
    return invalid_fields({field: message})


def invalid_fields(errors: Mapping[str, str | Sequence[str]]) -> Invalid:
    """A 400 naming several fields at once: `{"title": "Too long.", "due_date": ["Not a date."]}`."""
    details: Details = []
    for field, message in errors.items():
        messages = [message] if isinstance(message, str) else list(message)
        details.extend({"field": field, "message": text} for text in messages)
    return Invalid(details=details)


def message(exc: PuntError) -> str:
    """One readable line for a page (a toast, a form error, a JSON reply to htmx)."""
    return exc.first_message() if isinstance(exc, Invalid) else exc.message


def field_errors(exc: PuntError) -> dict[str | None, list[str]]:
    """{field name or None: [messages]}, for `form.add_error(field, message)` on pages."""
    errors: dict[str | None, list[str]] = {}
    if not exc.details:
        errors[None] = [exc.message]
    for detail in exc.details:
        field = detail.get("field") or None
        errors.setdefault(None if field == "non_field_errors" else field, []).append(detail["message"])
    return errors


# WebSocket close codes: 4000 + the HTTP status (4401, 4409, ...), as Channels apps commonly do,
# except that a socket never tells "no such project" from "not yours": both close 4403, as
# punt/realtime/README.md promises (a 404 page says as little, in its own words).
def close_code(exc: PuntError) -> int:
    return 4000 + (Forbidden.status if isinstance(exc, NotFound) else exc.status)


def command_errors(handle: Callable[P, R]) -> Callable[P, R]:
    """For a management command's `handle`: a refusal ends it with its message, not a traceback."""

    @functools.wraps(handle)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return handle(*args, **kwargs)
        except PuntError as exc:
            raise CommandError(message(exc)) from exc

    return wrapper
