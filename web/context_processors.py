"""What every signed-in page's top bar shows: the unread notifications and conversations."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.http import HttpRequest

from chat import selectors as chat_selectors
from notifications import selectors as notification_selectors


class InboxCounts:
    """The bell's and the Messages badge's numbers, each one query, read only if a page shows it.

    Fragments (htmx swaps, live refreshes) render without the top bar and so cost nothing.
    """

    def __init__(self, user: Any) -> None:
        self.user = user

    @cached_property
    def notifications(self) -> int:
        return notification_selectors.notification_unread_count(user=self.user)

    @cached_property
    def messages(self) -> int:
        return chat_selectors.conversations_unread_count(user=self.user)


def inbox(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"inbox": InboxCounts(user)}
