"""What every signed-in page's top bar shows: the unread notifications and conversations."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.http import HttpRequest

from chat import selectors as chat_selectors
from notifications import selectors as notification_selectors


class InboxCounts:
    """The bell's and the Messages badge's numbers, each one query, read only if a page shows it.

    Fragments (htmx swaps, live refreshes) render without the top bar and so cost nothing;
    base.html reads them only for a signed-in user.
    """

    def __init__(self, user: Any) -> None:
        self.user = user

    @cached_property
    def notifications(self) -> int:
        if not self.user.is_authenticated:
            return 0
        return notification_selectors.notification_unread_count(user=self.user)

    @cached_property
    def messages(self) -> int:
        if not self.user.is_authenticated:
            return 0
        return chat_selectors.conversations_unread_count(user=self.user)


def inbox(request: HttpRequest) -> dict[str, Any]:
    # request.user stays lazy here: a page that never shows the counts never loads the user for them.
    user = getattr(request, "user", None)
    return {"inbox": InboxCounts(user)} if user is not None else {}
