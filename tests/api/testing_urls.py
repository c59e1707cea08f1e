"""A test-only URLconf: PUNT's URLs plus views that fail on purpose or ask for a scope."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from punt import errors
from punt.urls import urlpatterns as punt_urlpatterns

# What a service might refuse with, one of each kind (tests/errors/test_api_mapping.py).
REFUSALS: dict[str, errors.PuntError] = {
    "not-found": errors.NotFound("Card not found."),
    "forbidden": errors.Forbidden("Only the author can edit a comment."),
    "unauthenticated": errors.Unauthenticated("The refresh token is invalid, expired or revoked."),
    "invalid": errors.invalid("title", "A title is required."),
    "invalid-fields": errors.invalid_fields({"title": "Too long.", "due_date": ["Not a date.", "In the past."]}),
    "conflict": errors.Conflict("This project is already archived."),
    "unprocessable": errors.Unprocessable(),
    "too-large": errors.PayloadTooLarge("The file is larger than the limit of 10 bytes."),
    "rate-limited": errors.RateLimited("Slow down.", retry_after=7),
    "unavailable": errors.Unavailable(),
}


class Boom(APIView):
    api_scope = "projects"

    def get(self, request: Request) -> Response:
        raise RuntimeError("secret internals: /etc/passwd")


def plain_boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret internals: /etc/passwd")


def plain_missing(request: HttpRequest) -> HttpResponse:
    raise Http404("nothing here")


def plain_body(request: HttpRequest) -> HttpResponse:
    return HttpResponse(len(request.body))  # reading the body enforces DATA_UPLOAD_MAX_MEMORY_SIZE


class Scoped(APIView):
    api_scope = "projects"

    def get(self, request: Request) -> Response:
        return Response({"ok": True, "user": request.user.username})

    def post(self, request: Request) -> Response:
        return Response({"ok": True}, status=201)


class Refuse(APIView):
    def get(self, request: Request, kind: str) -> Response:
        raise REFUSALS[kind]


def plain_refuse(request: HttpRequest, kind: str) -> HttpResponse:
    raise REFUSALS[kind]


urlpatterns = [
    path("api/v1/test/refuse/<str:kind>", Refuse.as_view()),
    path("api/v1/test/plain-refuse/<str:kind>", plain_refuse),
    path("api/v1/test/boom", Boom.as_view()),
    path("api/v1/test/plain-boom", plain_boom),
    path("api/v1/test/plain-missing", plain_missing),
    path("api/v1/test/plain-body", plain_body),
    path("api/v1/test/scoped", Scoped.as_view()),
    *punt_urlpatterns,
]
