"""One error shape for the whole API: {"error": "...", "details": [{"field", "message"}]}.

`details` appears only on validation errors.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from punt import db, errors

logger = logging.getLogger("punt.api")

API_PREFIXES = ("/api/",)


def error_body(message: str, details: list[dict[str, str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": message}
    if details:
        body["details"] = details
    return body


def flatten_validation_errors(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """Turn DRF's nested error dict/list into a flat list of {"field", "message"}."""
    if isinstance(detail, dict):
        items: list[dict[str, str]] = []
        for key, value in detail.items():
            field = prefix if key == "non_field_errors" else (f"{prefix}.{key}" if prefix else str(key))
            items.extend(flatten_validation_errors(value, field))
        return items
    if isinstance(detail, list):
        items = []
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)):
                items.extend(flatten_validation_errors(value, f"{prefix}[{index}]" if prefix else str(index)))
            else:
                items.append({"field": prefix or "non_field_errors", "message": str(value)})
        return items
    return [{"field": prefix or "non_field_errors", "message": str(detail)}]


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        detail = next(iter(detail.values()), "")
    if isinstance(detail, list):
        detail = detail[0] if detail else ""
        return _first_message(detail)
    return str(detail)


def _client_error(exc: Exception) -> tuple[str, int] | None:
    """The message and status for Django's request-level refusals, which DRF does not translate.

    A body over DATA_UPLOAD_MAX_MEMORY_SIZE (or too many fields) is raised while DRF parses it;
    left alone it would be reported as a 500 although the client is at fault.
    """
    if isinstance(exc, RequestDataTooBig):
        return "The request body is too large.", status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    if isinstance(exc, SuspiciousOperation):
        return "Bad request.", status.HTTP_400_BAD_REQUEST
    return None


def statement_timed_out() -> errors.Unavailable:
    """What a request whose statement ran past its timeout (punt.db) answers: 503, try again."""
    return errors.Unavailable("The database took too long to answer this request. Try again, or ask for less.")


def _punt_error_response(exc: errors.PuntError, context: dict[str, Any]) -> Response:
    status_code, headers = exc.status, exc.headers()
    if isinstance(exc, errors.Unauthenticated):
        # As DRF does for its own 401s: name the scheme the view accepts, or answer 403
        # when the view has none to offer (a 401 must carry WWW-Authenticate).
        view, request = context.get("view"), context.get("request")
        scheme = view.get_authenticate_header(request) if view is not None and request is not None else None
        if scheme:
            headers = {**headers, "WWW-Authenticate": scheme}
        else:
            status_code = status.HTTP_403_FORBIDDEN
    return Response(exc.body(), status=status_code, headers=headers)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    if db.is_statement_timeout(exc):
        exc = statement_timed_out()
    if isinstance(exc, errors.PuntError):
        set_rollback()
        return _punt_error_response(exc, context)
    refused = _client_error(exc)
    if refused is not None:
        set_rollback()
        return Response(error_body(refused[0]), status=refused[1])
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, exceptions.ValidationError):
        details = flatten_validation_errors(exc.detail)
        set_rollback()
        return Response(error_body("Validation failed", details), status=exc.status_code)

    if isinstance(exc, exceptions.APIException):
        headers: dict[str, str] = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
        set_rollback()
        return Response(error_body(_first_message(exc.detail)), status=exc.status_code, headers=headers)

    request = context.get("request")
    logger.exception("Unhandled error in API view %s", getattr(request, "path", "?"), exc_info=exc)
    set_rollback()
    return Response(error_body("Internal server error"), status=status.HTTP_500_INTERNAL_SERVER_ERROR)


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES)


# Exempt from CSRF: an unknown URL is a JSON 404 for every method, not Django's HTML 403 page.
@csrf_exempt
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    return JsonResponse(error_body(f"No API endpoint at {request.path}"), status=404)


class ApiErrorMiddleware:
    """JSON instead of HTML for errors raised outside DRF views under /api/ (404s, 500s).

    A statement stopped by its timeout is a 503 everywhere (plain text on pages).
    """

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if db.is_statement_timeout(exception):
            exception = statement_timed_out()
            if not is_api_path(request.path):
                return HttpResponse(exception.message, status=exception.status, content_type="text/plain")
        if not is_api_path(request.path):
            return None
        if isinstance(exception, errors.PuntError):
            return JsonResponse(exception.body(), status=exception.status, headers=exception.headers())
        if isinstance(exception, Http404):
            return JsonResponse(error_body("Not found"), status=404)
        if isinstance(exception, PermissionDenied):
            return JsonResponse(error_body("You do not have permission to perform this action."), status=403)
        refused = _client_error(exception)
        if refused is not None:
            return JsonResponse(error_body(refused[0]), status=refused[1])
        logger.exception("Unhandled error at %s", request.path, exc_info=exception)
        return JsonResponse(error_body("Internal server error"), status=500)
