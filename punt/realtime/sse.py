"""PUNT's Server-Sent Events streams (seeds 000/001), as async Django views.

- GET /api/projects/<projectId>/events  ticket and label events of one project
- GET /api/projects/events              project list changes for the user
- GET /api/users/events                 the user's profile changes

Each stream follows its groups through the process's fan-out (punt.realtime.fanout), so
with Redis an event published by any process reaches it, and a stream stays open while
Redis is away and gets events again once it answers. Messages carry an `id:` taken from
the bus; a reconnect with `Last-Event-ID` first replays the newer events from the replay
buffer (subscribing before reading it, so nothing falls in between; ids already sent are
skipped). Idle streams get `: keep-alive` comments, and the server ends a stream after
PUNT_SSE_MAX_SECONDS so EventSource reconnects and the session and membership are checked
again.

These are plain Django views (not DRF), so they are not part of the OpenAPI schema.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from accounts.models import ApiKey
from accounts.permissions import key_may_receive
from projects.models import Project
from projects.permissions import visible_projects
from projects.selectors import project_for
from punt.api.errors import error_body
from punt.events import gauge, project_group, user_group
from punt.ops import metrics
from punt.ranges import as_id
from punt.realtime import conf
from punt.realtime.auth import AuthFailed, credentials_from, key_may_read, user_for_credentials
from punt.realtime.fanout import LocalFanout, fanout
from punt.realtime.renderers import (
    PROJECT_LIST_STREAM_EVENTS,
    PROJECT_STREAM_EVENTS,
    USER_STREAM_EVENTS,
    sse_body,
    sse_frame,
)
from punt.realtime.resume import SeenIds, backlog, parse_last_id

logger = logging.getLogger("punt.realtime")

TAB_ID_MAX = 64
# Messages kept for a stream whose client does not read: a layer channel's capacity.
INBOX_SIZE = 100


class Stream:
    """What one SSE connection follows: groups, event names, and how membership changes affect it.

    `on_message` returns False to end the stream (the user lost access).
    """

    # The key the stream was opened with: each event is sent only if its scopes allow it.
    api_key: ApiKey | None = None
    # Set by _frames: the process's fan-out, and where it puts this stream's messages.
    hub: LocalFanout
    inbox: Inbox

    def __init__(self, user: Any, groups: list[str], names: dict[str, str]) -> None:
        self.user = user
        self.groups = groups
        self.names = names

    async def on_message(self, message: dict[str, Any]) -> bool:
        return True

    async def follow(self, group: str) -> None:
        if group not in self.groups:
            self.groups.append(group)
        await self.hub.join(group, self.inbox)

    async def unfollow(self, group: str) -> None:
        if group in self.groups:
            self.groups.remove(group)
        await self.hub.leave(group, self.inbox)


class ProjectStream(Stream):
    def __init__(self, user: Any, project: Project) -> None:
        super().__init__(user, [project_group(project.pk)], PROJECT_STREAM_EVENTS)
        self.project_id = project.pk

    async def on_message(self, message: dict[str, Any]) -> bool:
        event = message.get("event")
        if event == "member.removed" and (message.get("payload") or {}).get("user_id") == self.user.pk:
            return False
        # An archived project stays readable by its members (projects.selectors.project_for).
        return event != "project.deleted"


class ProjectListStream(Stream):
    """Follows the user's own group and every project they can see; joins and leaves
    project groups as the user is added to or removed from projects."""

    def __init__(self, user: Any, project_ids: list[int]) -> None:
        groups = [user_group(user.pk), *(project_group(pid) for pid in project_ids)]
        super().__init__(user, groups, PROJECT_LIST_STREAM_EVENTS)

    async def on_message(self, message: dict[str, Any]) -> bool:
        payload = message.get("payload") or {}
        if message.get("event") == "project.created" and isinstance(payload.get("id"), int):
            # Sent to the creator's own group (they own the project now): follow its later
            # changes, which go to the project's group only.
            await self.follow(project_group(payload["id"]))
            return True
        if payload.get("user_id") != self.user.pk or message.get("project_id") is None:
            return True
        group = project_group(message["project_id"])
        if message.get("event") == "member.added":
            await self.follow(group)
        elif message.get("event") == "member.removed":
            await self.unfollow(group)
        return True


def _unauthorized(message: str = "Authentication required") -> JsonResponse:
    return JsonResponse(error_body(message), status=401)


def _not_found() -> JsonResponse:
    return JsonResponse(error_body("Project not found"), status=404)


async def _user(request: HttpRequest) -> tuple[Any, ApiKey | None]:
    """The caller (session, Bearer JWT, or API key; None if anonymous) and the API key used,
    if any; raises AuthFailed."""
    headers = {name.lower(): value for name, value in request.headers.items()}
    credentials = credentials_from({"api_key": request.GET.get("api_key", "")}, headers)
    if credentials.given:
        user, key = await database_sync_to_async(user_for_credentials)(credentials)
        if not key_may_read(key):
            raise AuthFailed("This API key lacks a read scope.")
        return user, key
    user = await request.auser()
    return (user if user.is_authenticated else None), None


def _tab_id(request: HttpRequest) -> str | None:
    value = request.GET.get("tabId") or request.GET.get("tab_id") or request.headers.get("X-Tab-Id", "")
    return value.strip()[:TAB_ID_MAX] or None


def _last_event_id(request: HttpRequest) -> int | None:
    return parse_last_id(request.headers.get("Last-Event-ID") or request.GET.get("lastEventId"))


class Inbox:
    """A stream's messages from the process's fan-out, until the response generator takes them.

    Bounded like a layer channel: a client that stops reading loses the newest messages,
    and holds up nobody else.
    """

    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=INBOX_SIZE)

    async def deliver(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(message)


async def _frames(stream: Stream, tab_id: str | None, last_id: int | None) -> AsyncIterator[str]:
    # Through the process's fan-out, as the WebSockets: it joins each group once for the
    # process and, when the layer fails (Redis away or restarted), keeps joining the
    # groups again until it answers, so the stream stays open and gets events again then.
    stream.hub, stream.inbox = fanout(get_channel_layer()), Inbox()
    for group in list(stream.groups):
        await stream.follow(group)
    gauge("sse_streams", 1)
    metrics.sse_opened()
    loop = asyncio.get_running_loop()
    max_seconds = conf.sse_max_duration()
    deadline = loop.time() + max_seconds if max_seconds > 0 else None
    keepalive = conf.sse_keepalive()
    # Ids already sent: a replayed event may also arrive live, and a stream following
    # several groups gets an event once per group.
    seen = SeenIds()

    def render(message: dict[str, Any]) -> str | None:
        event_id = message.get("id")
        if not seen.first_time(event_id):
            return None
        if tab_id is not None and message.get("tab_id") == tab_id:
            return None
        if not key_may_receive(stream.api_key, str(message.get("event", ""))):
            return None
        body = sse_body(message, stream.names)
        return None if body is None else sse_frame(body, event_id)

    try:
        # The first bytes go out at once: the browser's `open` fires and proxies see a live response.
        yield f"retry: {conf.sse_retry_ms()}\n: connected\n\n"
        if last_id is not None:
            missed = await sync_to_async(backlog, thread_sensitive=False)(stream.groups, last_id)
            for message in missed:
                frame = render(message)
                if frame is not None:
                    yield frame
        while True:
            timeout = keepalive
            if deadline is not None:
                timeout = min(timeout, deadline - loop.time())
                if timeout <= 0:
                    return
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
                # cancellation that arrives as the message does, and the stream then runs on.
                async with asyncio.timeout(timeout):
                    message = await stream.inbox.queue.get()
            except TimeoutError:
                if deadline is None or loop.time() < deadline:
                    yield ": keep-alive\n\n"
                continue
            if message.get("group") not in stream.groups:
                continue  # from a group the stream left while the message was on its way
            keep_going = await stream.on_message(message)
            frame = render(message)
            if frame is not None:
                yield frame
            if not keep_going:
                return
    finally:
        gauge("sse_streams", -1)
        metrics.sse_closed()
        for group in list(stream.groups):
            await stream.unfollow(group)


def _response(stream: Stream, request: HttpRequest) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        _frames(stream, _tab_id(request), _last_event_id(request)), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache, no-transform"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each message through at once
    return response


def _sse_view(
    build: Callable[[HttpRequest, Any, dict[str, Any]], Any],
) -> Callable[..., Any]:
    """Wrap a stream factory with authentication; the factory returns a Stream or an error response."""

    @require_GET
    async def view(request: HttpRequest, **kwargs: Any) -> HttpResponseBase:
        try:
            user, key = await _user(request)
        except AuthFailed as exc:
            return _unauthorized(str(exc))
        if user is None:
            return _unauthorized()
        result = await database_sync_to_async(build)(request, user, kwargs)
        if isinstance(result, HttpResponse):
            return result
        result.api_key = key
        return _response(result, request)

    view.__name__ = build.__name__
    return view


def _project_stream(request: HttpRequest, user: Any, kwargs: dict[str, Any]) -> Stream | HttpResponse:
    ref = str(kwargs["project_id"]).strip()
    try:
        pk = as_id(ref)
        project = project_for(user, project_id=pk) if pk is not None else project_for(user, key=ref)
    except Http404:
        return _not_found()
    return ProjectStream(user, project)


def _project_list_stream(request: HttpRequest, user: Any, kwargs: dict[str, Any]) -> Stream:
    return ProjectListStream(user, list(visible_projects(user).values_list("pk", flat=True)))


def _user_stream(request: HttpRequest, user: Any, kwargs: dict[str, Any]) -> Stream:
    return Stream(user, [user_group(user.pk)], USER_STREAM_EVENTS)


project_events = _sse_view(_project_stream)
project_list_events = _sse_view(_project_list_stream)
user_events = _sse_view(_user_stream)
