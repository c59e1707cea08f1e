"""PUNT's HTTP handler under ASGI: a fixed pool of threads runs the sync middleware and views."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
from asgiref.testing import ApplicationCommunicator
from django.db import connection, connections
from django.http import HttpResponse, StreamingHttpResponse
from django.test import override_settings
from django.urls import path

from punt import db
from punt.asgi import application
from punt.asgi_handler import PooledThreadASGIHandler, ThreadPool
from tests.asgi import http_get_scope
from tests.ops.test_statement_timeout import endless_sql

# Each request's close_old_connections() looks at the thread's connection.
pytestmark = pytest.mark.django_db

released = threading.Event()


def thread_name(request):
    return HttpResponse(threading.current_thread().name)


def slow(request):
    released.wait(timeout=10)
    return HttpResponse(threading.current_thread().name)


stream_closed: dict[str, asyncio.Event] = {}  # one per test: an Event belongs to one event loop


async def stream(request):
    """Like an SSE stream: an async view that returns at once and sends until told to stop."""

    async def frames():
        yield b"retry: 1000\n\n"
        await stream_closed["event"].wait()

    return StreamingHttpResponse(frames(), content_type="text/event-stream")


endless_started = threading.Event()
endless_outcome: dict[str, object] = {}
endless_ended = threading.Event()


def endless(request):
    """A statement that runs for minutes unless it is stopped; says how it ended."""
    endless_outcome["connection"] = connections["default"]  # this thread's, for the cleanup
    endless_started.set()
    try:
        with connection.cursor() as cursor:
            cursor.execute(endless_sql())
    except Exception as exc:
        endless_outcome["stopped"] = db.is_statement_timeout(exc)
        raise
    finally:
        endless_ended.set()
    return HttpResponse("finished")


def select_one(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        answer = f"{cursor.fetchone()[0]} {threading.current_thread().name}"
    connection.close()  # the pool's thread outlives the test: its connection must not hold the test database
    return HttpResponse(answer)


urlpatterns = [
    path("thread", thread_name),
    path("slow", slow),
    path("stream", stream),
    path("endless", endless),
    path("select", select_one),
]


# Handlers of their own: two threads spreading requests (PostgreSQL's way), and two threads
# queueing on the first until a view has run for 0.1 s (SQLite's way).
two_threads = PooledThreadASGIHandler(threads=2)
spilling = PooledThreadASGIHandler(threads=2, spill_after=0.1)


def http_get(path: str, app=two_threads) -> ApplicationCommunicator:
    return ApplicationCommunicator(app, http_get_scope(path))


async def response_of(communicator: ApplicationCommunicator, timeout: float = 5) -> tuple[int, str]:
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(timeout)
    body = b""
    while True:
        message = await communicator.receive_output(timeout)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    return start["status"], body.decode()


def test_a_spilling_pool_queues_on_the_first_thread_until_its_view_runs_too_long():
    clock = [100.0]
    pool = ThreadPool(3, spill_after=0.2, clock=lambda: clock[0])
    assert [pool.acquire(), pool.acquire(), pool.acquire()] == [0, 0, 0]  # queued, nothing slow
    pool.running(0, clock[0])
    clock[0] += 0.1
    assert pool.acquire() == 0  # the view on thread 0 is not slow yet
    clock[0] += 0.2
    assert pool.acquire() == 1  # now it is: the next request goes on
    pool.running(1, clock[0])
    clock[0] += 0.5
    assert pool.acquire() == 2
    pool.running(2, clock[0])
    clock[0] += 0.5
    # Every thread is busy with a slow view: the one with the fewest requests in flight.
    assert pool.acquire() == 1
    pool.running(0, None)
    assert pool.acquire() == 0


def test_the_pool_hands_a_request_to_the_thread_with_fewest_in_flight():
    pool = ThreadPool(3)
    assert [pool.acquire(), pool.acquire(), pool.acquire()] == [0, 1, 2]
    pool.release(1)
    assert pool.acquire() == 1
    pool.release(0)
    pool.release(0)  # nothing in flight anywhere but 1 and 2
    assert pool.acquire() == 0


def test_a_spreading_pool_passes_over_a_thread_whose_view_is_stuck():
    clock = [100.0]
    pool = ThreadPool(3, stuck_after=1.0, clock=lambda: clock[0])
    assert [pool.acquire() for _ in range(5)] == [0, 1, 2, 0, 1]  # in flight: 2, 2, 1
    pool.running(2, clock[0])
    clock[0] += 0.5
    assert pool.acquire() == 2  # thread 2 is slow, not stuck: it has the fewest in flight
    pool.release(2)
    clock[0] += 1.0
    # Now it is stuck: its one request in flight is no reason to queue behind it.
    assert [pool.acquire(), pool.acquire()] == [0, 1]
    pool.running(0, clock[0] - 5)
    pool.running(1, clock[0] - 5)
    # Every thread stuck: the fewest in flight, as before.
    assert pool.acquire() == 2
    pool.running(2, None)
    assert pool.acquire() == 2


@pytest.mark.django_db(transaction=True)
@override_settings(ROOT_URLCONF=__name__, PUNT_STATEMENT_TIMEOUT_MS=60_000)
async def test_a_client_that_disconnects_stops_its_views_statement():
    # PostgreSQL's own timeout (5 s, set at connect) or SQLite's (60 s here) would end it later.
    endless_started.clear()
    endless_ended.clear()
    endless_outcome.clear()
    request = http_get("/endless")
    await request.send_input({"type": "http.request", "body": b"", "more_body": False})
    assert await asyncio.to_thread(endless_started.wait, 5)
    await asyncio.sleep(0.3)  # the statement is running
    left = time.monotonic()
    await request.send_input({"type": "http.disconnect"})
    try:
        assert await asyncio.to_thread(endless_ended.wait, 3)
    finally:
        if not endless_ended.is_set():  # not stopped: stop it here, or the thread runs on for good
            db.stop_running_statement(endless_outcome["connection"])
    assert time.monotonic() - left < 3
    assert endless_outcome["stopped"] is True
    await request.wait(3)
    # The thread and its connection serve the next request.
    assert await response_of(http_get("/select")) == (200, "1 punt-sync-0_0")
    assert two_threads.pool.in_flight == [0, 0]


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.asyncio
async def test_views_run_on_the_same_long_lived_threads_request_after_request():
    names = {(await response_of(http_get("/thread")))[1] for _ in range(5)}
    # One request at a time always finds the first thread free: no thread per request.
    assert names == {"punt-sync-0_0"}


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.asyncio
async def test_a_slow_request_does_not_hold_up_a_request_on_another_thread():
    released.clear()
    slow_request = asyncio.ensure_future(response_of(http_get("/slow"), timeout=10))
    await asyncio.sleep(0.2)
    try:
        status, name = await response_of(http_get("/thread"), timeout=3)
        assert status == 200
        assert not slow_request.done()
    finally:
        released.set()
    assert await slow_request == (200, "punt-sync-0_0")
    assert name == "punt-sync-1_0"


@override_settings(ROOT_URLCONF=__name__)
async def test_requests_queue_on_one_thread_and_spill_over_a_slow_view():
    names = {(await response_of(http_get("/thread", app=spilling)))[1] for _ in range(3)}
    assert names == {"punt-sync-0_0"}
    released.clear()
    slow_request = asyncio.ensure_future(response_of(http_get("/slow", app=spilling), timeout=10))
    await asyncio.sleep(0.3)  # the slow view has run past the 0.1 s limit
    try:
        status, name = await response_of(http_get("/thread", app=spilling), timeout=3)
        assert (status, name) == (200, "punt-sync-1_0")
        assert not slow_request.done()
    finally:
        released.set()
    assert await slow_request == (200, "punt-sync-0_0")
    # With the slow view gone, requests are back on the first thread.
    assert (await response_of(http_get("/thread", app=spilling)))[1] == "punt-sync-0_0"


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize("app", [two_threads, spilling], ids=["spreading", "spilling"])
async def test_an_open_stream_gives_its_thread_back_when_its_view_returns(app):
    stream_closed["event"] = asyncio.Event()
    open_stream = http_get("/stream", app=app)
    await open_stream.send_input({"type": "http.request", "body": b"", "more_body": False})
    assert (await open_stream.receive_output(3))["status"] == 200
    assert (await open_stream.receive_output(3))["body"] == b"retry: 1000\n\n"
    try:
        assert app.pool.in_flight == [0, 0]
        # The next requests find the first thread free, as if no stream were open.
        names = {(await response_of(http_get("/thread", app=app)))[1] for _ in range(3)}
        assert names == {"punt-sync-0_0"}
    finally:
        stream_closed["event"].set()
    assert not (await open_stream.receive_output(3)).get("more_body")
    assert app.pool.in_flight == [0, 0]


@pytest.mark.asyncio
async def test_the_api_and_its_middleware_answer_through_the_pooled_handler():
    status, body = await response_of(http_get("/api/v1/ping", app=application))
    assert status == 401
    assert "error" in json.loads(body)
