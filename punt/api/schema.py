"""The OpenAPI security scheme of punt's session class (accounts.schema has the API key's and
the JWT's), so Swagger's Authorize button can use the browser's session.

Imported from AccountsConfig.ready(): drf-spectacular finds extensions by subclassing.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class CsrfSessionScheme(OpenApiAuthenticationExtension):
    target_class = "punt.api.authentication.CsrfSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The session cookie from /api/auth/callback/credentials; writes also need X-CSRFToken.",
        }
