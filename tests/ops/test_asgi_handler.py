"""PUNT's HTTP handler under ASGI: a fixed pool of threads runs the sync middleware and views."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from asgiref.testing import ApplicationCommunicator
from django.http import HttpResponse, StreamingHttpResponse
from django.test import override_settings
from django.urls import path

from punt.asgi import application
from punt.asgi_handler import PooledThreadASGIHandler, ThreadPool
from tests.asgi import http_get_scope

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


urlpatterns = [path("thread", thread_name), path("slow", slow), path("stream", stream)]


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
