"""Resuming a stream or a socket after a reconnect: what both protocols share.

A client that reconnects with the id of the last event it got (SSE `Last-Event-ID`, the
WebSocket's `?last_event_id=`) is first sent the newer events of its groups from the replay
buffer (punt.realtime.backend), then the live ones. The connection joins its groups before
reading the buffer, so nothing falls in between; an event can then arrive both ways, and
`SeenIds` drops the second copy.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from punt import redis_outage
from punt.realtime.backend import replay_buffer

logger = logging.getLogger("punt.realtime")

SEEN_IDS_KEPT = 1000


class SeenIds:
    """Event ids already sent on one connection (the last SEEN_IDS_KEPT of them).

    Ids from several processes can arrive out of order, so this is a set rather than a
    high-water mark.
    """

    def __init__(self, kept: int = SEEN_IDS_KEPT) -> None:
        self.kept = kept
        self._ids: set[int] = set()
        self._order: deque[int] = deque()

    def first_time(self, event_id: Any) -> bool:
        """True the first time `event_id` is offered (and for a message without an id)."""
        if event_id is None:
            return True
        key = int(event_id)
        if key in self._ids:
            return False
        self._ids.add(key)
        self._order.append(key)
        if len(self._order) > self.kept:
            self._ids.discard(self._order.popleft())
        return True


def parse_last_id(raw: str | None) -> int | None:
    """A client's last event id, or None when absent or not a number (then nothing is replayed)."""
    try:
        return int((raw or "").strip())
    except ValueError:
        return None


def backlog(groups: list[str], last_id: int) -> list[dict[str, Any]]:
    """The replay buffer's events after `last_id`, oldest first; none while Redis is away (the
    connection goes on live). Blocking: async callers run it in a worker thread."""
    try:
        return replay_buffer.since(groups, last_id)
    except redis_outage.ERRORS as error:
        redis_outage.outage.failed(error, "replay")
    except Exception:
        logger.exception("Could not read the replay buffer for %s", groups)
    return []
