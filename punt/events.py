"""The event bus: services publish domain events after their transaction commits.

Events go to channel-layer groups, one per project and one per user; consumers (WebSocket,
SSE) render them for their protocol. Publishing never fails or blocks the request that
caused it: errors are logged and dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger("punt.events")

MESSAGE_TYPE = "punt.event"  # the Channels handler name consumers implement: punt_event


def project_group(project_id: int) -> str:
    return f"project.{project_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def _send(groups: list[str], message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for group in groups:
        try:
            async_to_sync(layer.group_send)(group, message)
        except Exception:
            logger.exception("Could not publish %s to %s", message.get("event"), group)


def publish(
    event: str,
    payload: dict[str, Any],
    *,
    project_id: int | None = None,
    user_ids: Iterable[int] = (),
    tab_id: str | None = None,
    actor_id: int | None = None,
) -> None:
    """Queue `event` (e.g. "board.card_moved") for delivery once the current transaction commits."""
    groups = [project_group(project_id)] if project_id is not None else []
    groups += [user_group(uid) for uid in user_ids]
    message = {
        "type": MESSAGE_TYPE,
        "event": event,
        "payload": payload,
        "project_id": project_id,
        "tab_id": tab_id,
        "actor_id": actor_id,
    }
    transaction.on_commit(lambda: _send(groups, message))
