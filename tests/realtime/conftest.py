from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import timedelta
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.db import transaction
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import ApiKey, hash_api_key
from punt.asgi import application
from punt.events import publish
from punt.realtime import conf
from punt.realtime.backend import redis_client, replay_buffer
from punt.realtime.presence import presence
from tests.asgi import http_get_scope

ORIGIN = (b"origin", b"http://localhost")
TIMEOUT = 3


HTTP_HANDLERS = ["punt", "django"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Tests that send HTTP through the ASGI application (`pytest.mark.usefixtures("http_handler")`)
    # run on PUNT's pooled handler and again on Django's stock one (PUNT_SYNC_THREADS=0).
    if "http_handler" in metafunc.fixturenames:
        metafunc.parametrize("http_handler", HTTP_HANDLERS, indirect=True)


_stock_handler: list[ASGIHandler] = []


@pytest.fixture
def http_handler(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which handler serves punt.asgi.application's HTTP: "punt" (as configured) or "django"."""
    if request.param == "django":
        if not _stock_handler:
            _stock_handler.append(ASGIHandler())  # loads the middleware: once per run
        monkeypatch.setitem(application.application_mapping, "http", _stock_handler[0])
    return request.param


@pytest.fixture(autouse=True)
def _fresh_realtime_state(settings):
    """A new channel layer per test (its queues belong to one event loop) and empty shared state."""
    settings.PUNT_PRESENCE_TTL_SECONDS = 60
    settings.PUNT_SSE_KEEPALIVE_SECONDS = 15
    settings.PUNT_SSE_MAX_SECONDS = 900
    channel_layers.backends.clear()
    client = redis_client()
    if client is not None:
        prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
    presence.clear()
    replay_buffer.clear()
    yield
    channel_layers.backends.clear()
    presence.clear()
    replay_buffer.clear()


def jwt_for(user: Any, *, expired: bool = False) -> str:
    token = AccessToken.for_user(user)
    if expired:
        token.set_exp(lifetime=-timedelta(minutes=1))
    return str(token)


def api_key_for(user: Any, *, scopes: list[str] | None = None, revoked: bool = False) -> str:
    raw = f"punt_test_{user.username}_{len(scopes or [])}_{int(revoked)}"
    from django.utils import timezone

    ApiKey.objects.create(
        user=user,
        name="test",
        prefix=raw[:12],
        hashed_key=hash_api_key(raw),
        scopes=scopes or [],
        revoked_at=timezone.now() if revoked else None,
    )
    return raw


def session_cookie(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


@database_sync_to_async
def publish_committed(event: str, payload: dict[str, Any], **kwargs: Any) -> None:
    """Publish the way a service does: inside a transaction, delivered on commit."""
    with transaction.atomic():
        publish(event, payload, **kwargs)


async def ws_connect(path: str, *, headers: list[tuple[bytes, bytes]] | None = None) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, path, headers=[ORIGIN, *(headers or [])])
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return communicator


async def ws_user(path: str, **kwargs: Any) -> WebsocketCommunicator:
    """Connect to the user socket and wait until it has joined its groups.

    The socket is accepted before it authenticates (so that refusals reach the client as close
    codes), and it has no greeting: an event published right after the accept can be sent before
    the socket joined its group and never reach it. Channels handles a socket's messages one at a
    time, so the answer to a ping means connect() has finished: authenticated and joined."""
    communicator = await ws_connect(path, **kwargs)
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}
    return communicator


async def ws_project(path: str, **kwargs: Any) -> WebsocketCommunicator:
    """Connect to a project socket and swallow the presence.state greeting."""
    communicator = await ws_connect(path, **kwargs)
    greeting = await communicator.receive_json_from(timeout=TIMEOUT)
    assert greeting["type"] == "presence.state", greeting
    return communicator


async def close_code(communicator: WebsocketCommunicator) -> int:
    """The code the server closed an accepted socket with."""
    message = await communicator.receive_output(timeout=TIMEOUT)
    assert message["type"] == "websocket.close", message
    return message["code"]


async def nothing_more(communicator: WebsocketCommunicator) -> None:
    assert await communicator.receive_nothing(timeout=0.3)


class SSE:
    """A raw ASGI client for one event stream: sends the request, reads body chunks as they come."""

    def __init__(self, path: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.app = ApplicationCommunicator(application, http_get_scope(path, headers))
        self.buffer = ""
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.ended = False

    async def start(self) -> SSE:
        await self.app.send_input({"type": "http.request", "body": b"", "more_body": False})
        start = await self.app.receive_output(timeout=TIMEOUT)
        assert start["type"] == "http.response.start"
        self.status = start["status"]
        self.headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
        return self

    async def body(self) -> bytes:
        """The whole body of a non-streaming (error) response."""
        chunks = b""
        while True:
            message = await self.app.receive_output(timeout=TIMEOUT)
            chunks += message.get("body", b"")
            if not message.get("more_body"):
                return chunks

    async def _more(self, timeout: float) -> None:
        # Straight from the queue: receive_output() would cancel the app on a timeout.
        if self.app.future.done():
            self.app.future.result()
        message = await asyncio.wait_for(self.app.output_queue.get(), timeout)
        assert message["type"] == "http.response.body"
        self.buffer += message.get("body", b"").decode()
        if not message.get("more_body"):
            self.ended = True

    async def block(self, timeout: float = TIMEOUT) -> str:
        """The next SSE block (lines up to a blank line)."""
        while "\n\n" not in self.buffer:
            if self.ended:
                raise AssertionError("stream ended")
            await self._more(timeout)
        block, _, self.buffer = self.buffer.partition("\n\n")
        return block

    async def event(self, timeout: float = TIMEOUT) -> tuple[int | None, dict[str, Any]]:
        """The next data message as (id, parsed JSON), skipping comments and retry lines."""
        while True:
            block = await self.block(timeout)
            fields = [line.partition(": ") for line in block.split("\n")]
            data = [value for name, _, value in fields if name == "data"]
            if not data:
                continue
            ids = [value for name, _, value in fields if name == "id"]
            return (int(ids[0]) if ids else None), json.loads("\n".join(data))

    async def no_event(self, timeout: float = 0.3) -> None:
        try:
            _, body = await self.event(timeout)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected event {body}")

    async def close(self) -> None:
        await self.app.send_input({"type": "http.disconnect"})
        with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
            await self.app.wait(timeout=TIMEOUT)


def keepalive_seconds() -> float:
    return conf.sse_keepalive()
