"""The event bus: services publish domain events after their transaction commits.

Events go to channel-layer groups, one per project ("project.<id>") and one per user
("user.<id>"); consumers (WebSocket, SSE) render them for their protocol. Each event gets
an id and a timestamp and is kept briefly in a replay buffer so SSE clients can resume
with `Last-Event-ID`.

Publishing never fails or blocks the request that caused it: the hand-off to the channel
layer is bounded by PUNT_EVENTS_SEND_TIMEOUT, and every error is logged, counted and
dropped. The channel layer itself drops a message for a channel that is full, so one slow
client never holds up the others.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import BaseChannelLayer, get_channel_layer
from django.db import DatabaseError, transaction
from django.utils import timezone

from punt import redis_outage
from punt.ops import metrics
from punt.realtime import conf
from punt.realtime.backend import replay_buffer

logger = logging.getLogger("punt.events")

WS_TEXT = "ws_text"  # the message's WebSocket frame, encoded once per event (see _record)
MESSAGE_TYPE = "punt.event"  # the Channels handler name consumers implement: punt_event

# Prometheus-free counters (the metrics endpoint may read them): published, sent,
# send_failed, send_timeout, replay_failed.
counters: Counter[str] = Counter()
# Open connections in this process: ws_connections, sse_streams.
gauges: Counter[str] = Counter()
_counters_lock = threading.Lock()
# Tasks scheduled from inside an event loop; kept so they are not garbage-collected mid-send.
_pending: set[asyncio.Task[None]] = set()


# Called synchronously by publish(), inside the publishing transaction, with
# (event, payload, project_id): lets another app write rows that must commit or roll back
# with the change (the webhooks app records its outgoing deliveries this way).
TransactionHook = Callable[[str, dict[str, Any], int | None], None]
_transaction_hooks: list[TransactionHook] = []


def register_transaction_hook(hook: TransactionHook) -> None:
    """Have `hook` called by every publish() before the event is queued (idempotent)."""
    if hook not in _transaction_hooks:
        _transaction_hooks.append(hook)


def _count(name: str, amount: int = 1) -> None:
    with _counters_lock:
        counters[name] += amount


def gauge(name: str, delta: int) -> None:
    with _counters_lock:
        gauges[name] += delta


def project_group(project_id: int) -> str:
    return f"project.{project_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


# Every open socket of a user listens here, whatever else it follows, so an account that is
# deactivated can be cut off everywhere at once (the consumers' punt_sessions_revoked).
SESSIONS_REVOKED = "punt.sessions_revoked"


def sessions_group(user_id: int) -> str:
    return f"sessions.{user_id}"


def sessions_revoke(user_id: int) -> None:
    """Once the current transaction commits, close every open socket of the user (4401)."""
    message = {"type": SESSIONS_REVOKED, "user_id": user_id}

    def send() -> None:
        try:
            async_to_sync(send_to_groups)([sessions_group(user_id)], message)
        except Exception:
            logger.exception("Could not cut off the sockets of user %s", user_id)

    transaction.on_commit(send)


async def send_to_groups(groups: list[str], message: dict[str, Any], layer: BaseChannelLayer | None = None) -> None:
    """Hand `message` to each group's channels, bounded by the send timeout; never raises."""
    layer = layer or get_channel_layer()
    if layer is None or not groups:
        return
    try:
        async with asyncio.timeout(conf.send_timeout()):  # not wait_for: see punt.realtime.sse
            # `group` tells each process's fan-out (punt.realtime.fanout) whose sockets it is for.
            results = await asyncio.gather(
                *(layer.group_send(group, {**message, "group": group}) for group in groups), return_exceptions=True
            )
    except TimeoutError:
        _count("send_timeout")
        metrics.record_event_dropped("send_timeout")
        logger.error("Publishing %s to %s timed out", message.get("event"), groups)
        return
    failures = [
        (group, result) for group, result in zip(groups, results, strict=True) if isinstance(result, BaseException)
    ]
    _count("sent", len(groups) - len(failures))
    _count("send_failed", len(failures))
    if not failures:
        redis_outage.outage.succeeded()
        return
    unreachable = [error for _, error in failures if isinstance(error, redis_outage.ERRORS)]
    if len(unreachable) == len(failures):
        # Nothing to deliver it with: one line per event, the outage itself is logged once.
        redis_outage.outage.failed(unreachable[0], "channel_layer")
        metrics.record_event_dropped("redis_down")
        logger.warning("Dropped %s: Redis is unreachable", message.get("event"))
        return
    metrics.record_event_dropped("send_failed")
    for group, error in failures:
        logger.error("Could not publish %s to %s", message.get("event"), group, exc_info=error)


def _record(groups: list[str], message: dict[str, Any]) -> None:
    """Count the committed event, number it and remember it for replay; live delivery goes
    on without any of these."""
    try:
        metrics.record_event_published(message["event"])
    except Exception:
        logger.exception("Could not count %s", message.get("event"))
    message["ts"] = timezone.now().isoformat()
    try:
        message["id"] = replay_buffer.next_id()
        replay_buffer.append(groups, message)
    except redis_outage.Skipped:
        _count("replay_failed")  # the outage is logged once, the send logs each dropped event
    except redis_outage.ERRORS as error:
        _count("replay_failed")
        redis_outage.outage.failed(error, "replay")
        logger.warning("Could not record %s for replay: Redis is unreachable", message.get("event"))
    except Exception:
        # SSE omits the `id:` line for an event without one.
        _count("replay_failed")
        logger.exception("Could not record %s for replay", message.get("event"))
    # Every WebSocket of the group sends the same text: encode it once here rather than once
    # per socket (a thousand sockets on one project made that the biggest per-event cost).
    message[WS_TEXT] = json.dumps({"type": message["event"], "payload": message["payload"]})


def _dispatch(groups: list[str], message: dict[str, Any]) -> None:
    """Runs on commit, in the sync thread that committed."""
    _record(groups, message)
    try:
        async_to_sync(send_to_groups)(groups, message)
    except Exception:
        _count("send_failed")
        logger.exception("Could not publish %s", message.get("event"))


async def _adispatch(groups: list[str], message: dict[str, Any]) -> None:
    await asyncio.to_thread(_record, groups, message)
    await send_to_groups(groups, message)


def publish(
    event: str,
    payload: dict[str, Any],
    *,
    project_id: int | None = None,
    user_ids: Iterable[int] = (),
    tab_id: str | None = None,
    actor_id: int | None = None,
) -> None:
    """Queue `event` (e.g. "board.card_moved") for delivery once the current transaction commits.

    Goes to the project's group when `project_id` is given and to each of `user_ids`'
    groups. `tab_id` is the X-Tab-Id of the change's origin: that tab is not sent its echo.
    Outside a transaction (or from async code) the event is sent at once. Never raises.
    """
    groups = [project_group(project_id)] if project_id is not None else []
    groups += [user_group(uid) for uid in dict.fromkeys(user_ids)]
    if not groups:
        return
    message: dict[str, Any] = {
        "type": MESSAGE_TYPE,
        "event": event,
        "payload": payload,
        "project_id": project_id,
        "tab_id": tab_id,
        "actor_id": actor_id,
    }
    for hook in _transaction_hooks:
        # A database error propagates: the transaction is unusable then, and the change must
        # not commit without the rows the hook owes it. Anything else is logged and dropped.
        try:
            hook(event, payload, project_id)
        except DatabaseError:
            raise
        except Exception:
            logger.exception("Transaction hook %r failed for %s", hook, event)
    _count("published")
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is not None:
        # Called from async code: no ORM transaction can be open here, and blocking would
        # stall the loop, so the event goes out from a task on it.
        task = loop.create_task(_adispatch(groups, message))
        _pending.add(task)
        task.add_done_callback(_pending.discard)
        return
    # robust=True: a failure inside the hook is logged by Django instead of breaking the
    # other on-commit callbacks of the same transaction.
    transaction.on_commit(lambda: _dispatch(groups, message), robust=True)
