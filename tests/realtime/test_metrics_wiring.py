"""The real-time layer feeds /api/v1/metrics: open sockets and streams, and committed events.

Read through the metrics endpoint as Prometheus would (parsed with prometheus-client), with a
real WebSocket, a real SSE stream and a change made through the HTTP API.
"""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.realtime.conftest import SSE, TIMEOUT, close_code, jwt_for, session_cookie, ws_connect, ws_project

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("http_handler")]

SAMPLES = {
    "ws": ("punt_websocket_connections", ()),
    "sse": ("punt_sse_connections", ()),
    "label.created": ("punt_events_published_total", (("event", "label.created"),)),
    "label.deleted": ("punt_events_published_total", (("event", "label.deleted"),)),
}


@database_sync_to_async
def scrape(user) -> dict[str, float]:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get("/api/v1/metrics")
    assert response.status_code == 200, response.content
    found = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }
    return {name: found.get(key, 0.0) for name, key in SAMPLES.items()}


@database_sync_to_async
def as_admin(personas, method: str, url: str, body: dict | None = None) -> dict:
    client = APIClient()
    client.force_authenticate(personas.admin)
    response = getattr(client, method)(url, body, format="json")
    assert response.status_code in (201, 204), response.content
    return response.json() if response.content else {}


async def settled(user, expected: dict[str, float]) -> dict[str, float]:
    """Scrape until the gauges match (a closed connection is counted out by its own task)."""
    for _ in range(40):
        values = await scrape(user)
        if all(values[name] == value for name, value in expected.items()):
            return values
        await asyncio.sleep(0.05)
    return values


async def test_sockets_streams_and_published_events_show_in_the_metrics(personas):
    scraper = await database_sync_to_async(UserFactory)(username="max", global_roles=["metrics"])
    before = await scrape(scraper)

    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")
    cookie = await database_sync_to_async(session_cookie)(personas.member)
    stream = await SSE("/api/projects/BLOG/events", [(b"cookie", cookie.encode())]).start()
    assert stream.status == 200
    assert await stream.block() == "retry: 3000\n: connected"
    opened = await scrape(scraper)
    assert (opened["ws"], opened["sse"]) == (before["ws"] + 1, before["sse"] + 1)

    label = await as_admin(personas, "post", "/api/v1/projects/blog/labels", {"name": "metrics"})
    assert (await socket.receive_json_from(timeout=TIMEOUT))["type"] == "label.created"
    _, body = await stream.event()
    assert body["type"] == "label.created"
    await as_admin(personas, "delete", f"/api/v1/projects/blog/labels/{label['id']}")
    assert (await socket.receive_json_from(timeout=TIMEOUT))["type"] == "label.deleted"

    changed = await scrape(scraper)
    assert changed["label.created"] == before["label.created"] + 1
    assert changed["label.deleted"] == before["label.deleted"] + 1

    await socket.disconnect()
    await stream.close()
    closed = await settled(scraper, {"ws": before["ws"], "sse": before["sse"]})
    assert (closed["ws"], closed["sse"]) == (before["ws"], before["sse"])


async def test_refused_connections_are_not_counted(personas):
    scraper = await database_sync_to_async(UserFactory)(username="max", global_roles=["metrics"])
    before = await scrape(scraper)
    socket = await ws_connect(f"/api/v1/ws/blog?token={jwt_for(personas.outsider)}")
    assert await close_code(socket) == 4403
    anonymous = await SSE("/api/projects/BLOG/events").start()
    assert anonymous.status == 401
    await anonymous.body()
    after = await scrape(scraper)
    assert (after["ws"], after["sse"]) == (before["ws"], before["sse"])
    await socket.disconnect()
