"""WebSocket consumers: /api/v1/ws/<projectSlug> and /api/v1/ws/user (seed 004).

They stay thin: who may connect is decided by punt.realtime.auth and
projects.selectors.project_for, what a message looks like by punt.realtime.renderers.

Close codes: 4401 bad, expired or missing credentials; 4403 not allowed to see the
project (unknown, not a member, or removed / deleted while connected; an archived project
stays readable by its members, as everywhere). The socket is accepted before it is closed
with these codes: a refusal during the handshake reaches the browser as a bare HTTP 403
with no code at all.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.http import Http404

from accounts.models import ApiKey, User
from accounts.permissions import key_may_receive
from accounts.serializers import user_brief
from projects.models import Project
from projects.selectors import project_for
from punt import errors, json_input
from punt.events import MESSAGE_TYPE, WS_TEXT, gauge, project_group, send_to_groups, sessions_group, user_group
from punt.ops import metrics
from punt.realtime import conf
from punt.realtime.auth import (
    AuthFailed,
    credentials_from,
    key_may_read,
    scope_headers,
    scope_query,
    user_for_credentials,
)
from punt.realtime.fanout import fanout
from punt.realtime.presence import presence
from punt.realtime.renderers import ws_message, ws_text_with_id
from punt.realtime.resume import SeenIds, backlog, parse_last_id
from punt.realtime.subscriptions import SocketViews

logger = logging.getLogger("punt.realtime")
_background: set[asyncio.Task[None]] = set()

CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
TAB_ID_MAX = 64
# After this the project refuses new connections, so open ones are closed too (4403). An
# archived project stays readable by its members (projects.selectors.project_for): no close.
PROJECT_GONE = ("project.deleted",)
PRESENCE_CHANGES = ("presence.join", "presence.leave")
VIEW_REQUESTS = ("subscribe", "unsubscribe")
CARD_EVENT = "board.card_updated"  # what a live view shows: an API key must be allowed these


@database_sync_to_async
def _authenticate(scope: dict[str, Any]) -> tuple[Any, ApiKey | None]:
    """(user, API key or None) for the connection; raises AuthFailed for bad credentials."""
    credentials = credentials_from(scope_query(scope), scope_headers(scope))
    if credentials.given:
        return user_for_credentials(credentials)
    return scope.get("user"), None


@database_sync_to_async
def _visible_project(user: Any, slug: str) -> Project | None:
    """The project with this slug if `user` may read it (projects.selectors.project_for: viewers,
    site admins, and archived projects too, which stay readable by their members)."""
    try:
        return project_for(user, slug=slug)
    except Http404:
        return None


@database_sync_to_async
def _briefs(user_ids: set[int]) -> list[dict[str, Any] | None]:
    return [user_brief(user) for user in User.objects.filter(pk__in=user_ids).order_by("username")]


class BusConsumer(AsyncJsonWebsocketConsumer):
    """What both sockets share: authentication, ping/pong, no-echo and bus delivery."""

    user: Any = None
    # The key the socket was opened with: each event is sent only if its scopes allow it.
    api_key: ApiKey | None = None
    groups_joined: list[str]
    counted = False
    # Set by connect() from `?last_event_id=` / `?ids=1` (resume).
    last_id: int | None = None
    with_ids = False
    seen: SeenIds | None = None
    # Not a configured layer, so Channels gives the socket no layer channel of its own: its bus
    # messages come from the process's fan-out, and a per-socket receive only let a Redis
    # outage fail it and close every socket with 1011. connect() sets the real layer.
    channel_layer_alias = "punt.no_socket_channel"

    async def connect(self) -> None:
        self.channel_layer = get_channel_layer()
        self.channel_name = f"ws.{uuid.uuid4().hex}"  # names the connection in presence and echo checks
        self.groups_joined = []
        # What the socket's groups send before the client has its greeting waits here: a client
        # reads its greeting (a project socket's presence.state) first, then the events after it.
        self.held: list[dict[str, Any]] | None = []
        query = scope_query(self.scope)
        self.tab_id = (query.get("tab_id") or query.get("tabId") or "")[:TAB_ID_MAX] or None
        # Resume: `last_event_id` replays the newer events of the socket's groups (punt.realtime.resume);
        # such a socket, and one opened with `ids=1`, gets each event's `id` to resume from later.
        raw_last_id = query.get("last_event_id", query.get("lastEventId"))
        self.last_id = parse_last_id(raw_last_id)
        self.with_ids = raw_last_id is not None or (query.get("ids") or "").lower() in ("1", "true")
        self.seen = SeenIds() if self.last_id is not None else None
        await self.accept()
        try:
            user, self.api_key = await _authenticate(self.scope)
        except AuthFailed:
            await self.close(CLOSE_UNAUTHORIZED)
            return
        if user is None or not user.is_authenticated:
            await self.close(CLOSE_UNAUTHORIZED)
            return
        if not key_may_read(self.api_key):
            await self.close(CLOSE_FORBIDDEN)
            return
        self.user = user
        await self.join_group(sessions_group(user.pk))
        # Counted before joined() greets the client, so a client that got its greeting is counted.
        self.counted = True
        gauge("ws_connections", 1)
        metrics.ws_connected()
        try:
            await self.joined()
        except errors.PuntError as exc:
            # A refusal from a lookup or a service: the socket closes with its code (4403, ...).
            self.user = None
            await self.close(errors.close_code(exc))
        if self.user is None:
            self.held = None
            self.uncount()  # refused by joined(): a closed socket is not an open connection
            return
        if raw_last_id is not None:
            await self.replay(raw_last_id)
        await self.release_held()

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels runs close_old_connections() (a hop to the one shared sync thread)
        # before every handler. Bus events never touch the database, and with a thousand
        # sockets that hop would serialise the fan-out behind whatever sync code runs.
        if message.get("type") == MESSAGE_TYPE:
            await self.punt_event(message)
            return
        await super().dispatch(message)

    async def joined(self) -> None:
        """Subscribe to groups once the user is known; close the socket to refuse."""
        raise NotImplementedError

    async def join_group(self, group: str) -> None:
        # Through the process's fan-out (punt.realtime.fanout), not a layer membership per socket.
        await fanout(self.channel_layer).join(group, self)
        self.groups_joined.append(group)

    async def leave_groups(self) -> None:
        groups, self.groups_joined = self.groups_joined, []
        hub = fanout(self.channel_layer)
        for group in groups:
            await hub.leave(group, self)

    async def deliver(self, message: dict[str, Any]) -> None:
        """A message of one of this socket's groups, from the process's fan-out."""
        if self.held is not None:
            self.held.append(message)
            return
        await self.deliver_now(message)

    async def replay(self, raw_last_id: str) -> None:
        """Send the events after the client's last one from the replay buffer, after the greeting
        and before what arrived since joining (the held messages), each through the same checks as
        a live one (scopes, echo, removal). An event both replayed and held is sent once."""
        if self.last_id is None:
            problem = f"last_event_id must be an event id (a whole number), not {raw_last_id[:32]!r}."
            await self.send_json({"type": "error", "payload": {"message": problem}})
            return
        groups = [group for group in self.groups_joined if not group.startswith("sessions.")]
        for message in await sync_to_async(backlog, thread_sensitive=False)(groups, self.last_id):
            if self.user is None:
                return  # cut off by one of them (a removal)
            await self.deliver_now(message)

    async def release_held(self) -> None:
        """The client has its greeting: send what arrived meanwhile, in order, then deliver directly."""
        while self.held:
            await self.deliver_now(self.held.pop(0))
        self.held = None

    async def deliver_now(self, message: dict[str, Any]) -> None:
        if self.seen is not None and not self.seen.first_time(message.get("id")):
            return  # a resumed socket: already replayed (or the other way round)
        if message.get("type") == MESSAGE_TYPE:
            await self.punt_event(message)
            return
        # Anything else goes through Channels' dispatch, which may wait for the sync thread:
        # in a task of its own, so the other sockets do not wait with it.
        task = asyncio.create_task(self.dispatch(message))
        _background.add(task)
        task.add_done_callback(_background.discard)

    async def disconnect(self, code: int) -> None:
        await self.leave_groups()
        self.uncount()

    async def punt_sessions_revoked(self, message: dict[str, Any]) -> None:
        """The account was deactivated: stop at once, as a refused token would have."""
        if self.user is not None:
            await self.cut_off(CLOSE_UNAUTHORIZED)

    async def cut_off(self, code: int) -> None:
        """Stop all delivery at once: leave every group before anything else can arrive."""
        await self.leave_groups()
        self.user = None
        self.uncount()
        await self.close(code)

    def uncount(self) -> None:
        if self.counted:
            self.counted = False
            gauge("ws_connections", -1)
            metrics.ws_disconnected()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        # A malformed frame gets an error message instead of crashing the consumer.
        try:
            content = json_input.loads(text_data or (bytes_data or b"").decode())
        except json_input.TooDeep as exc:
            await self.send_json({"type": "error", "payload": {"message": str(exc)}})
            return
        except (ValueError, UnicodeDecodeError):
            await self.send_json({"type": "error", "payload": {"message": "Messages must be JSON objects."}})
            return
        if not isinstance(content, dict):
            await self.send_json({"type": "error", "payload": {"message": "Messages must be JSON objects."}})
            return
        await self.receive_json(content)

    async def receive_json(self, content: dict[str, Any], **kwargs: Any) -> None:
        if self.user is None:
            return
        if content.get("type") == "ping":
            await self.pinged()
            await self.send_json({"type": "pong"})
            return
        problem = f"Unknown message type {content.get('type')!r}."
        await self.send_json({"type": "error", "payload": {"message": problem}})

    async def pinged(self) -> None:
        """Hook for keep-alive bookkeeping."""

    def is_echo(self, message: dict[str, Any]) -> bool:
        if message.get("origin") == self.channel_name:
            return True
        return self.tab_id is not None and message.get("tab_id") == self.tab_id

    async def punt_event(self, message: dict[str, Any]) -> None:
        if self.user is None or self.is_echo(message):
            return
        if not key_may_receive(self.api_key, str(message.get("event", ""))):
            return
        text = message.get(WS_TEXT)
        if text is not None:
            if self.with_ids and message.get("id") is not None:
                text = ws_text_with_id(text, message["id"])
            await self.send(text_data=text)
        else:  # replayed events, presence and other messages sent straight to the group
            await self.send_json(ws_message(message, with_id=self.with_ids))


class ProjectConsumer(BusConsumer):
    """`/api/v1/ws/<projectSlug>`: the project's bus events, presence and live PQL views."""

    project_id: int = 0  # set by joined(); presence and announcements only run after it
    views: SocketViews | None = None  # set by joined(): the socket's `subscribe`d queries
    heartbeat: asyncio.Task[None] | None = None
    present = False
    # Who the client knows to be present: its presence.state, then the joins and leaves sent since.
    known_present: set[int]

    async def joined(self) -> None:
        project = await _visible_project(self.user, self.scope["url_route"]["kwargs"]["project_slug"])
        if project is None:
            self.user = None
            await self.close(CLOSE_FORBIDDEN)
            return
        self.project_id = project.pk
        self.views = SocketViews(project=project, user=self.user, send=self.send_json)
        await self.join_group(project_group(project.pk))
        first = await presence.join(project.pk, self.user.pk, self.channel_name)
        self.present = True
        self.heartbeat = asyncio.create_task(self._heartbeat())
        users = await _briefs(await presence.user_ids(project.pk))
        self.known_present = {user["id"] for user in users if user}
        await self.send_json({"type": "presence.state", "payload": {"users": users}})
        if first:
            await self._announce("presence.join")

    def _presence_news(self, event: str, user_id: Any) -> bool:
        """Whether a join or leave changes what the client knows. An announcement sent before this
        socket read the state can arrive after it (held during the greeting, or slower through
        Redis); the state already counts it, and sending it again would be a second join."""
        if (user_id in self.known_present) == (event == "presence.join"):
            return False
        if event == "presence.join":
            self.known_present.add(user_id)
        else:
            self.known_present.discard(user_id)
        return True

    async def _announce(self, event: str) -> None:
        # Straight to the group, not through publish(): presence is not a database change
        # and has nothing to replay. `origin` keeps it from echoing to this socket.
        message = {
            "type": MESSAGE_TYPE,
            "event": event,
            "payload": {"user_id": self.user.pk, "user": user_brief(self.user)},
            "project_id": self.project_id,
            "tab_id": None,
            "actor_id": self.user.pk,
            "origin": self.channel_name,
        }
        await send_to_groups([project_group(self.project_id)], message, self.channel_layer)

    async def _heartbeat(self) -> None:
        # Keeps a quiet but open socket present; a dead process stops refreshing and its
        # entries expire.
        interval = max(conf.presence_ttl() / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            await self._refresh_presence()

    async def _refresh_presence(self) -> None:
        try:
            await presence.refresh(self.project_id, self.user.pk, self.channel_name)
        except Exception:
            logger.exception("Could not refresh presence in project %s", self.project_id)

    async def pinged(self) -> None:
        if self.present:
            await self._refresh_presence()

    async def receive_json(self, content: dict[str, Any], **kwargs: Any) -> None:
        if self.user is not None and self.views is not None and content.get("type") in VIEW_REQUESTS:
            if not key_may_receive(self.api_key, CARD_EVENT):
                problem = "This API key may not read tickets (it needs the tickets:read scope)."
                await self.send_json({"type": "error", "payload": {"message": problem, "id": content.get("id")}})
                return
            self.views.request(content)
            return
        await super().receive_json(content, **kwargs)

    async def punt_event(self, message: dict[str, Any]) -> None:
        if self.user is None:
            return
        event = message.get("event")
        payload = message.get("payload") or {}
        if event == "member.removed" and payload.get("user_id") == self.user.pk:
            await self.cut_off(CLOSE_FORBIDDEN)
            return
        if event in PRESENCE_CHANGES and not self._presence_news(event, payload.get("user_id")):
            return
        await super().punt_event(message)
        if self.views is not None and self.user is not None:
            self.views.event(message, echo=self.is_echo(message))
        if event in PROJECT_GONE:
            await self.cut_off(CLOSE_FORBIDDEN)

    async def cut_off(self, code: int = CLOSE_FORBIDDEN) -> None:
        await self.leave_groups()
        await self._close_views()
        await self._leave_presence()
        self.user = None
        self.uncount()
        await self.close(code)

    async def _leave_presence(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.cancel()
            try:
                await self.heartbeat
            except asyncio.CancelledError:
                # The heartbeat's own cancellation ends here; this task's (the consumer being
                # stopped) goes on: swallowed, it left the consumer's loop waiting forever.
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise
            self.heartbeat = None
        if not self.present:
            return
        self.present = False
        try:
            last = await presence.leave(self.project_id, self.user.pk, self.channel_name)
        except Exception:
            logger.exception("Could not record leaving project %s", self.project_id)
            return
        if last:
            await self._announce("presence.leave")

    async def _close_views(self) -> None:
        views, self.views = self.views, None
        if views is not None:
            await views.close()

    async def disconnect(self, code: int) -> None:
        await self.leave_groups()
        await self._close_views()
        self.uncount()
        if self.user is not None:
            await self._leave_presence()


class UserConsumer(BusConsumer):
    """`/api/v1/ws/user`: everything addressed to the user (DMs, mentions, notifications, profile)."""

    async def joined(self) -> None:
        await self.join_group(user_group(self.user.pk))
