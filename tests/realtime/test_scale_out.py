"""Scale-out through Redis: real daphne processes on loopback ports sharing PostgreSQL and Redis.

Runs in CI's Redis run (REDIS_URL set, a server database the subprocesses can open);
skipped otherwise. The test database is the one pytest-django created, and the tests are
transactional, so what they write is committed and visible to the daphne processes.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection

from tests.factories import TicketFactory
from tests.realtime.conftest import jwt_for
from tests.realtime.netclient import EventStream, WebSocket, http_request

ROOT = Path(__file__).resolve().parents[2]
DAPHNE = str(Path(sys.executable).with_name("daphne"))  # the one installed beside this interpreter

pytestmark = [
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (CI's Redis run)"),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
        reason="other processes cannot see SQLite's in-memory test database",
    ),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("http_handler"),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _env(http_handler: str = "punt") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PUNT_TEST_DB_NAME", "DEBUG"}}
    env.update(DATABASE_URL=_database_url(), PUNT_TESTING="1", PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING")
    if http_handler == "django":
        env["PUNT_SYNC_THREADS"] = "0"
    return env


def _wait_until_serving(process: subprocess.Popen, port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daphne exited: {process.stdout.read() if process.stdout else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"daphne did not listen on {port}")


@pytest.fixture
def daphne(django_db_setup, http_handler: str) -> Iterator[Callable[[], int]]:
    """Start daphne processes on free loopback ports; returns a function that starts one more."""
    processes: list[subprocess.Popen] = []

    def start() -> int:
        port = _free_port()
        process = subprocess.Popen(
            [DAPHNE, "-b", "127.0.0.1", "-p", str(port), "punt.asgi:application"],
            cwd=ROOT,
            env=_env(http_handler),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        processes.append(process)
        _wait_until_serving(process, port)
        return port

    yield start
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _publish_from_another_process(code: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "manage.py",
        "shell",
        "-c",
        code,
        cwd=ROOT,
        env=_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, output.decode()


async def test_an_event_published_by_another_process_reaches_websocket_and_sse_clients(personas, daphne):
    port = await asyncio.to_thread(daphne)
    token = jwt_for(personas.member)
    socket_ = await WebSocket.connect(port, f"/api/v1/ws/blog?token={token}")
    assert (await socket_.receive_json())["type"] == "presence.state"
    stream = await EventStream.open(port, "/api/projects/BLOG/events", {"Authorization": f"Bearer {token}"})

    payload = {"id": 1, "title": "Across", "type": "bug"}
    await _publish_from_another_process(
        "from django.db import transaction\n"
        "from punt.events import publish\n"
        "with transaction.atomic():\n"
        f"    publish('board.card_moved', {payload!r}, project_id={personas.project.pk})\n"
    )

    assert await socket_.receive_until("board.card_moved", timeout=10) == {
        "type": "board.card_moved",
        "payload": {"id": 1, "title": "Across", "type": "bug"},
    }
    body = await stream.event(timeout=10)
    assert (body["type"], body["data"]) == ("ticket.moved", {"id": "1", "title": "Across", "type": "Bug"})
    await socket_.close()
    await stream.close()


async def test_a_change_through_one_daphne_reaches_clients_of_another(personas, daphne):
    ticket = await database_sync_to_async(TicketFactory)(project=personas.project, title="Draft")
    port_a, port_b = await asyncio.gather(asyncio.to_thread(daphne), asyncio.to_thread(daphne))

    # Mary watches the board through process A, in two tabs; Adam through process B.
    mary_token, adam_token = jwt_for(personas.member), jwt_for(personas.admin)
    mary = await WebSocket.connect(port_a, f"/api/v1/ws/blog?token={mary_token}&tab_id=tab-mary")
    assert (await mary.receive_json())["type"] == "presence.state"
    mary_tab_2 = await WebSocket.connect(port_a, f"/api/v1/ws/blog?token={mary_token}&tab_id=tab-2")
    await mary_tab_2.receive_until("presence.state")
    sse = await EventStream.open(port_a, "/api/projects/BLOG/events", {"Authorization": f"Bearer {mary_token}"})
    adam = await WebSocket.connect(port_b, f"/api/v1/ws/blog?token={adam_token}")
    state = await adam.receive_json()
    # Presence is shared: B knows Mary is on the board through A.
    assert {user["username"] for user in state["payload"]["users"]} == {"adam", "mary"}
    joined = await mary.receive_until("presence.join", timeout=10)
    assert joined["payload"]["user"]["username"] == "adam"

    # Mary edits the card through B's HTTP API from her first tab.
    status, card = await http_request(
        port_b,
        "PUT",
        f"/api/v1/projects/blog/cards/{ticket.pk}",
        body={"title": "Published across processes"},
        headers={"Authorization": f"Bearer {mary_token}", "X-Tab-Id": "tab-mary"},
    )
    assert status == 200, card

    updated = await mary_tab_2.receive_until("board.card_updated", timeout=10)
    assert updated["payload"]["id"] == ticket.pk
    assert updated["payload"]["title"] == "Published across processes"
    assert (await adam.receive_until("board.card_updated", timeout=10))["payload"]["title"] == (
        "Published across processes"
    )
    body = await sse.event(timeout=10)
    assert (body["type"], body["data"]["title"], body["tabId"]) == (
        "ticket.updated",
        "Published across processes",
        "tab-mary",
    )
    # The tab that made the change gets no echo: the next thing it sees is a later event.
    await mary.send_json({"type": "ping"})
    assert await mary.receive_json(timeout=10) == {"type": "pong"}

    await adam.close()
    left = await mary_tab_2.receive_until("presence.leave", timeout=10)
    assert left["payload"]["user"]["username"] == "adam"
    for client in (mary, mary_tab_2, sse):
        await client.close()
