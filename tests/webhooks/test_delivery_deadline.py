"""An outgoing delivery has one wall-clock deadline (issue 16, item 10).

Socket timeouts bound each read only: a receiver that trickles a byte every 0.2 s never
trips them. These receivers do that (and give up after a few seconds, so the suite cannot
hang on a regression); the delivery must be over within PUNT_WEBHOOKS_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.webhooks.test_outgoing import HOOKS, create_card, deliveries, subscribe

TRICKLE_EVERY = 0.2
TRICKLE_FOR = 6.0
DEADLINE = 1

SLOW_HEADERS = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"
SLOW_BODY = b"HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n" + b"b" * 4096


class TricklingReceiver:
    """Reads the request, then answers `answer` one byte per TRICKLE_EVERY seconds (the first
    `fast` bytes at once), for at most TRICKLE_FOR seconds."""

    def __init__(self, answer: bytes, fast: int = 0) -> None:
        self.answer = answer
        self.fast = fast
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"

    def serve(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            with client:
                self.answer_slowly(client)

    def answer_slowly(self, client: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            request += client.recv(65536)
        head, _, body = request.partition(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-"))
        while len(body) < length:
            body += client.recv(65536)
        client.sendall(self.answer[: self.fast])
        given_up_at = time.monotonic() + TRICKLE_FOR
        try:
            for byte in self.answer[self.fast :]:
                if time.monotonic() > given_up_at or self.stopping.is_set():
                    return
                client.sendall(bytes([byte]))
                time.sleep(TRICKLE_EVERY)
        except OSError:
            return  # the sender hung up: what it should do at its deadline


@pytest.fixture
def trickling(request) -> Iterator[TricklingReceiver]:
    server = TricklingReceiver(*request.param)
    server.thread.start()
    yield server
    server.stopping.set()
    server.thread.join(timeout=10)
    server.listener.close()


@pytest.fixture
def deadline_settings(settings):
    settings.PUNT_WEBHOOKS_ALLOW_PRIVATE = True
    settings.PUNT_WEBHOOKS_RETRY_BASE_SECONDS = 0
    settings.PUNT_WEBHOOKS_TIMEOUT_SECONDS = DEADLINE
    settings.PUNT_WEBHOOKS_MAX_ATTEMPTS = 2
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.mark.parametrize("trickling", [(SLOW_HEADERS,)], indirect=True)
def test_a_receiver_trickling_its_headers_is_cut_off_at_the_deadline_and_retried(
    personas, trickling, deadline_settings, django_capture_on_commit_callbacks
):
    hook = subscribe(personas, trickling.url)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        create_card(personas)
    took = time.monotonic() - started

    # Two attempts (the immediate backend retries at once), each cut off at 1 s.
    assert took < 2 * DEADLINE + 1.5, f"the deliveries took {took:.1f} s"
    [delivery] = deliveries(personas, hook)
    assert (delivery["status"], delivery["attempts"], delivery["response_code"]) == ("failed", 2, None)
    assert delivery["error"] == "The receiver did not answer within 1 s."
    assert DEADLINE * 1000 <= delivery["duration_ms"] < DEADLINE * 1000 + 500


@pytest.mark.parametrize("trickling", [(SLOW_BODY, len(SLOW_BODY) - 4096)], indirect=True)
def test_an_answer_trickling_its_body_is_delivered_with_what_came_by_the_deadline(
    personas, trickling, deadline_settings, django_capture_on_commit_callbacks
):
    hook = subscribe(personas, trickling.url)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        create_card(personas)
    took = time.monotonic() - started

    # The receiver said 200 in time; the body it kept trickling is cut off, not waited for.
    assert took < DEADLINE + 1, f"the delivery took {took:.1f} s"
    [delivery] = deliveries(personas, hook)
    assert (delivery["status"], delivery["attempts"], delivery["response_code"]) == ("succeeded", 1, 200)
    assert DEADLINE * 1000 <= delivery["duration_ms"] < DEADLINE * 1000 + 500
    detail = personas.client("admin").get(f"{HOOKS}/{hook['id']}/deliveries/{delivery['id']}").json()
    assert 0 < len(detail["response_body"]) <= DEADLINE / TRICKLE_EVERY + 1
    assert set(detail["response_body"]) == {"b"}
