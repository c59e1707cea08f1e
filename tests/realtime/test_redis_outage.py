"""Redis goes away and comes back: the API keeps answering, sockets recover their events.

Each test runs a Redis server of its own on a free port (so it runs in both CI runs, and
stopping it disturbs nobody), points the cache, the channel layer and the real-time state at
it, stops it, checks the service degrades instead of failing, starts it again on the same port
(empty, as after a crash) and checks events flow again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.test import override_settings
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from punt import redis_outage
from tests.factories import PASSWORD
from tests.realtime.conftest import SSE, TIMEOUT, jwt_for, publish_committed, ws_connect, ws_project

REDIS_SERVER = shutil.which("redis-server")

pytestmark = [
    pytest.mark.skipif(REDIS_SERVER is None, reason="needs the redis-server binary"),
    pytest.mark.django_db(transaction=True),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OwnRedis:
    """A throwaway redis-server on a loopback port, stopped and started at will."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert REDIS_SERVER is not None
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            [*command, "--daemonize", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.02)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=5)
            self.process = None


def _redis_settings(url: str) -> dict[str, Any]:
    """What punt/settings.py configures for REDIS_URL, pointed at `url`."""
    return {
        "REDIS_URL": url,
        "CHANNEL_LAYERS": {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {
                    "hosts": [
                        {
                            "address": url,
                            "socket_timeout": 15,
                            "socket_connect_timeout": 1,
                            "retry_on_error": [redis.exceptions.ConnectionError],
                        }
                    ],
                    "prefix": "outage",
                },
            }
        },
        "CACHES": {
            "default": {
                "BACKEND": "punt.cache.SharedRedisCache",
                "LOCATION": url,
                "KEY_PREFIX": "outage",
                "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
            }
        },
    }


@pytest.fixture
def redis_server(settings) -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    settings.PUNT_REDIS_RETRY_SECONDS = 0.2
    redis_outage.reset()
    try:
        with override_settings(**_redis_settings(server.url)):
            yield server
    finally:
        server.stop()
        redis_outage.reset()


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _login(username: str) -> Any:
    return APIClient().post("/api/v1/auth/login", {"username": username, "password": PASSWORD}, format="json")


def test_the_api_answers_while_redis_is_down(redis_server, personas, settings, caplog):
    owner = personas.client("owner")
    column = personas.project.columns.order_by("order").first()
    assert owner.get("/api/v1/projects/blog/cards").status_code == 200

    redis_server.stop()
    with caplog.at_level(logging.WARNING):
        started = time.monotonic()
        assert owner.get("/api/v1/projects/blog/cards").status_code == 200
        created = owner.post(f"/api/v1/projects/blog/columns/{column.pk}/cards", {"title": "Still here"}, format="json")
        assert created.status_code == 201, created.content
        assert _login("olivia").status_code == 200
        assert owner.get("/api/v1/projects/blog/cards").status_code == 200
        # A down Redis is not waited on for each request.
        assert time.monotonic() - started < 3

    # The outage is logged once, not once per request.
    outage_logs = [r for r in caplog.records if r.name == "punt.redis" and r.levelno == logging.WARNING]
    assert len(outage_logs) == 1, [r.getMessage() for r in outage_logs]


def test_rate_limits_fall_back_to_this_process_while_redis_is_down(redis_server, personas, settings):
    settings.PUNT_API_RATE_PER_MINUTE = 3
    owner = personas.client("owner")
    redis_server.stop()
    statuses = [owner.get("/api/v1/projects/blog/cards").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_healthz_says_degraded_while_redis_is_down(redis_server, client, db):
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "channel_layer": "ok", "redis": "ok"}

    redis_server.stop()
    response = client.get("/healthz")
    # 200: this process still serves the API, so a load balancer keeps sending it traffic.
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "channel_layer": "down", "redis": "down"}

    redis_server.start()
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "channel_layer": "ok", "redis": "ok"}


async def test_events_published_during_the_outage_are_dropped_and_counted(redis_server, personas, caplog):
    dropped = _sample("punt_events_dropped_total", reason="redis_down")
    redis_server.stop()
    with caplog.at_level(logging.WARNING):
        started = time.monotonic()
        await publish_committed("board.card_moved", {"id": 1}, project_id=personas.project.pk)
        await publish_committed("board.card_moved", {"id": 2}, project_id=personas.project.pk)
        assert time.monotonic() - started < 2
    assert _sample("punt_events_dropped_total", reason="redis_down") == dropped + 2
    dropped_logs = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Dropped")]
    assert dropped_logs == ["Dropped board.card_moved: Redis is unreachable"] * 2
    # One warning for the outage, no tracebacks.
    assert [r.levelname for r in caplog.records if r.name == "punt.redis"] == ["WARNING"]
    assert not [r for r in caplog.records if r.exc_info]


async def _next_event(ws: Any, timeout: float = TIMEOUT) -> dict[str, Any]:
    """The next bus event on a project socket, skipping presence messages."""
    while True:
        # Straight from the queue: receive_json_from() cancels the application on a timeout.
        output = await asyncio.wait_for(ws.output_queue.get(), timeout)
        assert output["type"] == "websocket.send", output
        message = json.loads(output["text"])
        if not message["type"].startswith("presence."):
            return message


async def test_sockets_get_events_again_once_redis_returns(redis_server, personas):
    token = jwt_for(personas.member)
    project_id = personas.project.pk
    before = await ws_project(f"/api/v1/ws/blog?token={token}")
    await publish_committed("board.card_moved", {"id": 0}, project_id=project_id)
    assert await _next_event(before) == {"type": "board.card_moved", "payload": {"id": 0}}

    redis_server.stop()
    # A socket opened during the outage is accepted and greeted, not closed with 1011.
    during = await ws_connect(f"/api/v1/ws/blog?token={jwt_for(personas.owner)}")
    greeting = await during.receive_json_from(timeout=TIMEOUT)
    assert greeting["type"] == "presence.state"
    await publish_committed("board.card_moved", {"id": -1}, project_id=project_id)

    # Back, empty (as after a crash): the process's memberships are gone from Redis.
    redis_server.start()
    started = time.monotonic()
    after = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.admin)}")
    number = 0
    while True:
        number += 1
        await publish_committed("board.card_moved", {"id": number}, project_id=project_id)
        try:
            received = await _next_event(after, timeout=0.3)
            break
        except TimeoutError:
            assert time.monotonic() - started < 5, "no events five seconds after Redis came back"
    assert received == {"type": "board.card_moved", "payload": {"id": number}}

    await publish_committed("board.card_moved", {"id": "last"}, project_id=project_id)
    for ws in (before, during, after):
        while (event := await _next_event(ws)) != {"type": "board.card_moved", "payload": {"id": "last"}}:
            assert event["payload"]["id"] != -1, "an event of the outage was delivered"
    # A socket that reconnects gets events too.
    await before.disconnect()
    again = await ws_project(f"/api/v1/ws/blog?token={token}")
    await publish_committed("board.card_moved", {"id": "again"}, project_id=project_id)
    assert await _next_event(again) == {"type": "board.card_moved", "payload": {"id": "again"}}
    for ws in (during, after, again):
        await ws.disconnect()


async def _blocks_for(stream: SSE, seconds: float) -> list[str]:
    """Every SSE block the stream sends in the next `seconds` (it must stay open meanwhile)."""
    blocks = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            blocks.append(await stream.block(timeout=left))
        except TimeoutError:
            break
    return blocks


async def _deleted_arrives(stream: SSE, project_id: int, started: float) -> int:
    """Publish ticket deletions until one reaches the stream; its ticket id."""
    number = 100
    while True:
        number += 1
        await publish_committed("board.card_deleted", {"id": number}, project_id=project_id)
        try:
            _, body = await stream.event(timeout=0.3)
        except TimeoutError:
            assert time.monotonic() - started < 5, "no events five seconds after Redis came back"
            continue
        assert body["type"] == "ticket.deleted"
        return int(body["data"]["id"])


async def test_sse_streams_stay_open_while_redis_is_away_and_get_events_again(redis_server, personas, settings, caplog):
    settings.PUNT_SSE_KEEPALIVE_SECONDS = 0.3
    project_id = personas.project.pk
    auth = (b"authorization", f"Bearer {jwt_for(personas.member)}".encode())
    before = await SSE("/api/projects/BLOG/events", [auth]).start()
    assert before.status == 200
    await publish_committed("board.card_deleted", {"id": 1}, project_id=project_id)
    last_id, body = await before.event()
    assert (body["type"], body["data"]) == ("ticket.deleted", {"id": "1"})

    with caplog.at_level(logging.INFO):
        redis_server.stop()
        await publish_committed("board.card_deleted", {"id": -1}, project_id=project_id)
        # Open, and kept alive, while Redis is down.
        assert ": keep-alive" in await _blocks_for(before, 1.5)
        assert not before.ended
        # A stream opened meanwhile, resuming from an id (the replay buffer is in Redis), opens too.
        during = await SSE("/api/projects/BLOG/events", [auth, (b"last-event-id", str(last_id).encode())]).start()
        assert during.status == 200
        assert (await _blocks_for(during, 0.8))[:2] == ["retry: 3000\n: connected", ": keep-alive"]

        redis_server.start()
        started = time.monotonic()
        for stream in (before, during):
            number = await _deleted_arrives(stream, project_id, started)
            assert number > 100  # not the one published during the outage
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records if r.exc_info]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
    for stream in (before, during):
        assert not stream.ended
        await stream.close()
