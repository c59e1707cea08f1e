"""OpenAPI security schemes for accounts' authentication classes, so Swagger's Authorize
button accepts a JWT or an API key (header or query).

Imported from AccountsConfig.ready(): drf-spectacular finds extensions by subclassing.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = ["apiKeyHeader", "apiKeyQuery"]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        # Either place works (OR); a dict with both names would demand both (AND).
        return [{"apiKeyHeader": []}, {"apiKeyQuery": []}]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        return [
            {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "An API key: punt_…"},
            {"type": "apiKey", "in": "query", "name": "api_key", "description": "An API key: punt_…"},
        ]


class BearerScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.BearerAuthentication"
    name = "jwtAuth"
    # Above simplejwt's own extension, which would also claim this subclass.
    priority = 1

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return build_bearer_security_scheme_object(
            header_name="HTTP_AUTHORIZATION", token_prefix="Bearer", bearer_format="JWT"
        )
