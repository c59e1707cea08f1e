"""Permissions that need no app: site admins. API-key scopes are accounts.permissions.ApiKeyScope."""

from __future__ import annotations

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request


class IsSiteAdmin(permissions.BasePermission):
    message = "Site admin role required."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)
