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


# The scope an API key needs to be sent a live event (WebSocket and SSE), by the event's
# name: the same area as the REST endpoints that read the same things (cards, comments and
# time under tickets; columns, labels, sprints, members and the project itself under
# projects; chat, direct messages and notifications under chat). Longest prefix wins.
EVENT_SCOPES: dict[str, str | None] = {
    "board.card_": ApiKey.Scope.TICKETS_READ,
    "board.column": ApiKey.Scope.PROJECTS_READ,  # board.column_* and board.columns_reordered
    "comment.": ApiKey.Scope.TICKETS_READ,
    "time_entry.": ApiKey.Scope.TICKETS_READ,
    "project.": ApiKey.Scope.PROJECTS_READ,
    "member.": ApiKey.Scope.PROJECTS_READ,
    "org.": ApiKey.Scope.PROJECTS_READ,
    "label.": ApiKey.Scope.PROJECTS_READ,
    "sprint.": ApiKey.Scope.PROJECTS_READ,
    "chat.": ApiKey.Scope.CHAT_READ,
    "topic.": ApiKey.Scope.CHAT_READ,
    "dm.": ApiKey.Scope.CHAT_READ,
    "conversation.": ApiKey.Scope.CHAT_READ,
    "notification.": ApiKey.Scope.CHAT_READ,  # notifications came with chat (notifications.api)
    # The account's own profile: like /users/me, only for an unrestricted key.
    "user.": ApiKey.Scope.ADMIN,
    "profile.": ApiKey.Scope.ADMIN,
    # Who else has the project open: part of the socket itself, for whoever may connect.
    "presence.": None,
}


def event_scope(event: str) -> str | None:
    """The scope a key needs to receive `event`; None: any key that may connect.

    An event of a kind not listed needs an unrestricted key: a new kind stays hidden from
    scoped keys until someone decides which scope it belongs to.
    """
    matches = [prefix for prefix in EVENT_SCOPES if event.startswith(prefix)]
    if not matches:
        return ApiKey.Scope.ADMIN
    return EVENT_SCOPES[max(matches, key=len)]


def key_may_receive(key: ApiKey | None, event: str) -> bool:
    """Whether a connection authenticated by `key` (None: a session or JWT) is sent `event`.

    Precondition: the connection's user may see the group the event came through.
    """
    if key is None:
        return True
    scope = event_scope(event)
    return scope is None or key.allows(scope)
