"""API-key scopes, checked per view on top of the user's own rights."""

from __future__ import annotations

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

from accounts.models import ApiKey

SAFE_METHODS = permissions.SAFE_METHODS


def required_scope(view: Any, method: str) -> str | None:
    """The scope a view needs for `method`: `<api_scope>:read` or `:write`.

    A view sets `api_scope = "tickets"` (or "projects", "chat"), or `api_scope = "admin"`.
    Views without `api_scope` manage the account itself and need an unrestricted key.
    """
    area = getattr(view, "api_scope", None)
    if area is None:
        return "admin"
    if area == "admin":
        return "admin"
    return f"{area}:{'read' if method in SAFE_METHODS else 'write'}"


class ApiKeyScope(permissions.BasePermission):
    """A request made with an API key must carry the scope the view asks for."""

    message = "This API key lacks the required scope."

    def has_permission(self, request: Request, view: Any) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return True
        scope = required_scope(view, request.method or "GET")
        if scope is None or key.allows(scope):
            return True
        self.message = f"This API key lacks the '{scope}' scope."
        return False
