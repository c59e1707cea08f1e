"""A real daphne answers a 60 KB query string with 414 (it used to drop the connection) and a 20 KB
header with 431: JSON in the API's error shape under /api/, plain text elsewhere (issue 16, item 14).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

DAPHNE = str(Path(sys.executable).with_name("daphne"))  # the one installed beside this interpreter
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def port(tmp_path_factory) -> Iterator[int]:
    """A daphne process serving PUNT on a free loopback port (its own SQLite file; no request here reads it)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"PUNT_TEST_DB_NAME", "DEBUG", "REDIS_URL"}}
    database = tmp_path_factory.mktemp("daphne") / "db.sqlite3"
    env.update(DATABASE_URL=f"sqlite:///{database}", PUNT_TESTING="1", LOG_LEVEL="WARNING")
    process = subprocess.Popen(
        [DAPHNE, "-b", "127.0.0.1", "-p", str(port), "punt.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"daphne exited: {process.stdout.read() if process.stdout else ''}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"daphne did not listen on {port}") from None
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def exchange(port: int, target: str, headers: str = "") -> tuple[int, dict[str, str], bytes]:
    """Send one GET and read the answer until the server closes: (status, headers, body)."""
    request = f"GET {target} HTTP/1.1\r\nHost: localhost\r\n{headers}Connection: close\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    fields = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split(" ")[1]), {k.lower(): v for k, v in fields.items()}, body


LONG_QUERY = "label=" + "x" * 60_000


def test_a_60kb_query_string_on_the_api_is_a_414_in_the_error_shape(port):
    status, headers, body = exchange(port, f"/api/v1/projects/blog/cards?{LONG_QUERY}")
    assert status == 414
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"error": "The request URI is too long."}


def test_a_60kb_query_string_on_a_page_is_a_plain_414(port):
    status, headers, body = exchange(port, f"/projects?{LONG_QUERY}")
    assert status == 414
    assert headers["content-type"].startswith("text/plain")
    assert body == b"The request URI is too long."


def test_a_20kb_header_is_a_431(port):
    status, _headers, body = exchange(port, "/api/v1/ping", headers=f"X-Big: {'y' * 20_000}\r\n")
    assert status == 431
    assert body == b"A request header is too long."


def test_an_ordinary_request_still_reaches_punt(port):
    status, _headers, body = exchange(port, "/api/v1/ping?label=" + "x" * 2000)
    assert status == 401
    assert "error" in json.loads(body)
