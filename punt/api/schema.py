"""PUNT's OpenAPI generation: every error status an operation can answer, and the session scheme.

`PuntAutoSchema` adds the error responses from what the view is made of (authentication,
permissions, throttles, parsers, path and query parameters), so no view lists them by hand
and none is forgotten; each one has the body `punt.api.errors` sends, the `Error` component.
All dialects (/api/v1, PUNT's /api/..., AgentsMesh, GitHub-style /api/v3) share that handler,
so they share the shape.

`CsrfSessionScheme` is the OpenAPI security scheme of punt's session class (accounts.schema
has the API key's and the JWT's), so Swagger's Authorize button can use the browser's
session. Imported from AccountsConfig.ready(): drf-spectacular finds extensions by subclassing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, TypeVar

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema_field
from rest_framework import permissions, serializers
from rest_framework.settings import api_settings

from punt.api.sessions import DOCUMENT_SESSION_COOKIE, is_punt_dialect_path

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

ERROR_DESCRIPTIONS = {
    "400": "Bad input: a malformed body or parameter; `details` name the fields.",
    "401": "Missing, expired or invalid credentials.",
    "403": "The credentials may not do this (role, API-key scope, CSRF token).",
    "404": "No such object, or the caller may not know it exists.",
    "409": "The current state does not allow it (an archived project, an active sprint...).",
    "413": "The request body is too large.",
    "415": "The request body's Content-Type is not accepted.",
    "429": "Too many requests (or failed credentials from one address); Retry-After says when to try again.",
    "503": "The server could not finish in time (a statement ran past its timeout) or is busy; try again.",
}


F = TypeVar("F", bound=serializers.Field)

HEX_COLOR_PATTERN = r"^#[0-9A-Fa-f]{6}$"
# A scheme and at least the first character of a host.
HTTP_URL_PATTERN = r"^[Hh][Tt][Tt][Pp][Ss]?://[^/?#@:\[\]\s]"
# DRF strips a string before checking that it is not blank: it needs one non-space character.
NOT_BLANK_PATTERN = r"\S"


_BOOLEAN_VALUES = serializers.BooleanField.TRUE_VALUES | serializers.BooleanField.FALSE_VALUES
BOOLEAN_QUERY_VALUES = sorted(value for value in _BOOLEAN_VALUES if isinstance(value, str))


def integer_parameter(minimum: int, maximum: int | None = None) -> dict[str, Any]:
    """The schema of an integer query parameter the view refuses outside [minimum, maximum]."""
    schema: dict[str, Any] = {"type": "integer", "minimum": minimum}
    if maximum is not None:
        schema["maximum"] = maximum
    return schema


def _any_case(word: str) -> str:
    # JSON Schema patterns (ECMA-262) have no case-insensitive flag.
    return "".join(f"[{c.upper()}{c.lower()}]" if c.lower() != c.upper() else re.escape(c) for c in word)


def comma_separated_parameter(values: Iterable[str], *, any_case: bool = False) -> dict[str, Any]:
    """The schema of a query parameter that takes any of `values`, comma-separated; blank
    entries and spaces around entries are ignored, as tickets.filters reads them."""
    if any_case:
        values = dict.fromkeys(value.lower() for value in values)
    words = "|".join(_any_case(value) if any_case else re.escape(value) for value in values)
    entry = rf"\s*(?:(?:{words})\s*)?"
    return {"type": "string", "pattern": rf"^{entry}(?:,{entry})*$"}


def documented(field: F, **schema: Any) -> F:
    """`field` unchanged for the server, documented with the rule the view or service checks
    (an enum, a pattern), so the schema refuses what the server refuses."""
    base: dict[str, Any] = {"type": "string", **schema}
    if getattr(field, "allow_null", False):
        base["nullable"] = True
    # drf-spectacular itself adds "" as a oneOf branch to a blank-allowing field with a
    # pattern or format (so "" must not match the pattern too: it would match both branches).
    if getattr(field, "allow_blank", False) and "enum" in base:
        base["enum"] = [*base["enum"], ""]
    # A subclass, not the instance: serializers deep-copy their fields by re-instantiating them.
    documented_class = extend_schema_field(base)(type(type(field).__name__, (type(field),), {}))
    return documented_class(*field._args, **field._kwargs)  # type: ignore[attr-defined]


class ErrorDetailSerializer(serializers.Serializer):
    field = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """The API's error body: `{"error": "...", "details": [{"field", "message"}]}`."""

    error = serializers.CharField()
    details = ErrorDetailSerializer(many=True, required=False, help_text="Only on validation errors.")


# Paging parameters, the same in every dialect: what the views refuse below (and above) these.
# Page sizes above their maximum are not refused, only clamped (up to MAX_PAGING for per_page).
MAX_PAGING = 10**9
PAGING_BOUNDS: dict[str, dict[str, int]] = {
    "page": {"minimum": 1, "maximum": MAX_PAGING},
    "offset": {"minimum": 0, "maximum": MAX_PAGING},
    "limit": {"minimum": 1},
    "per_page": {"minimum": 1, "maximum": MAX_PAGING},
    "page_size": {"minimum": 1},
    "after": {"minimum": 0},
}


class PuntAutoSchema(AutoSchema):
    def _map_serializer_field(self, field: Any, direction: Any, bypass_extensions: bool = False) -> Any:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            direction == "request"
            and type(field) is serializers.CharField
            and field.trim_whitespace
            and not field.allow_blank
            and not {"pattern", "format", "enum", "oneOf"} & set(schema)
        ):
            schema["pattern"] = NOT_BLANK_PATTERN
        return schema

    def _get_parameters(self) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super()._get_parameters()
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if parameter.get("in") == "query" and not parameter.get("required") and schema.get("type") == "string":
                # DRF reads an empty value of an optional query parameter as no value at all.
                if schema.get("pattern") == NOT_BLANK_PATTERN:
                    schema["pattern"] = f"^$|{NOT_BLANK_PATTERN}"
                if schema.get("minLength") == 1:
                    del schema["minLength"]
            if parameter.get("in") == "query" and schema == {"type": "boolean"}:
                # What DRF's BooleanField reads in a query string: "true", "1", "yes", "off"...
                parameter["schema"] = {"type": "string", "enum": BOOLEAN_QUERY_VALUES}
            if parameter.get("in") == "query" and schema.get("type") == "integer":
                for bound, value in PAGING_BOUNDS.get(parameter["name"], {}).items():
                    schema.setdefault(bound, value)
        return parameters

    def _get_request_for_media_type(self, serializer: Any, direction: Any = "request") -> Any:
        # PUNT's views validate a PATCH body with the input serializer as declared (no
        # partial=True): its required fields are required, so document them as PUT's.
        method = self.method
        self.method = "PUT" if method == "PATCH" else method
        try:
            return super()._get_request_for_media_type(serializer, direction)
        finally:
            self.method = method

    def map_parsers(self) -> list[Any]:
        # The JSON API documents JSON bodies: a form body cannot say null, an empty list or a
        # nested object, so a client following the schema in form encoding would be refused.
        # Views that choose their own parsers (uploads, login) document what they chose.
        if list(self.view.parser_classes) == list(api_settings.DEFAULT_PARSER_CLASSES):
            return ["application/json"]
        return list(super().map_parsers())

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        error = self._get_response_for_code(ErrorSerializer, "400", direction=direction)
        for code in self._error_codes():
            described = responses.get(code)
            if described is None:
                responses[code] = {**error, "description": ERROR_DESCRIPTIONS[code]}
            elif not described.get("content"):
                described["content"] = error["content"]
        for code, described in responses.items():
            # Error responses a view declared without a body get the shape they are sent with.
            if code >= "400" and not described.get("content"):
                described["content"] = error["content"]
        return dict(sorted(responses.items()))

    def _error_codes(self) -> list[str]:
        view, method = self.view, self.method
        path_parameters = "{" in self.path
        has_body = method in ("POST", "PUT", "PATCH")
        codes = []
        query_parameters = [p for p in self._get_parameters() if p.get("in") == "query"]
        takes_input = has_body or bool(query_parameters)
        if takes_input or self._is_list_view():
            codes.append("400")
        if view.get_authenticators():
            codes.append("401")
        open_to_all = all(isinstance(p, permissions.AllowAny) for p in view.get_permissions())
        if not open_to_all or (method in UNSAFE_METHODS and view.get_authenticators()):
            # Unsafe methods also answer 403 on a session without its CSRF token.
            codes.append("403")
        if path_parameters or any(p["name"] == "format" for p in query_parameters):
            # DRF answers an unknown ?format= with 404.
            codes.append("404")
        if method in UNSAFE_METHODS and path_parameters:
            codes.append("409")
        if has_body:
            codes.extend(["413", "415"])
        if view.get_throttles() or view.get_authenticators():
            # Bad credentials sent too often from one address are refused with 429 too.
            codes.append("429")
        # Any statement can run past PUNT_STATEMENT_TIMEOUT_MS (punt.db): every operation may answer 503.
        codes.append("503")
        return codes


class CsrfSessionScheme(OpenApiAuthenticationExtension):
    target_class = "punt.api.authentication.CsrfSessionAuthentication"
    name = ["cookieAuth", "documentCookieAuth"]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        # Either cookie (OR); seed 000's name is read on the PUNT dialect's paths only.
        if is_punt_dialect_path(auto_schema.path):
            return [{"cookieAuth": []}, {"documentCookieAuth": []}]
        return [{"cookieAuth": []}]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        return [
            {
                "type": "apiKey",
                "in": "cookie",
                "name": settings.SESSION_COOKIE_NAME,
                "description": (
                    "The session cookie from /api/auth/callback/credentials or /api/auth/register. On the PUNT "
                    "dialect's paths (/api/, except /api/v1/ and /api/v3/) a JSON write "
                    "(Content-Type: application/json) needs only the cookie, unless its Origin or Sec-Fetch-Site "
                    "names another origin; other writes (forms, text/plain) and cookie writes elsewhere also need "
                    "X-CSRFToken."
                ),
            },
            {
                "type": "apiKey",
                "in": "cookie",
                "name": DOCUMENT_SESSION_COOKIE,
                "description": (
                    f"Seed 000's name for the same session: set beside {settings.SESSION_COOKIE_NAME} by PUNT's "
                    "sign-in and registration, cleared by its sign-out, read on the PUNT dialect's paths only."
                ),
            },
        ]
