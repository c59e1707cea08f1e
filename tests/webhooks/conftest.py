from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def hmac_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def immediate_tasks(settings):
    """Run queued tasks synchronously (django-tasks' immediate backend)."""
    settings.TASKS = IMMEDIATE


class Receiver:
    """A local HTTP server on 127.0.0.1 that records what it is sent and answers `statuses` in turn."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = [200]
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    code = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                answer = b'{"thanks": true}'
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def published(monkeypatch) -> list[tuple[str, dict[str, Any], int | None]]:
    """Every event published on the bus during the test, as (event, payload, project_id)."""
    from punt import events

    seen: list[tuple[str, dict[str, Any], int | None]] = []
    monkeypatch.setattr(events, "_transaction_hooks", [*events._transaction_hooks, lambda *args: seen.append(args)])
    return seen


@pytest.fixture
def counted(monkeypatch) -> list[tuple[str, str]]:
    """Every punt.ops.metrics.record_webhook_delivery(provider, outcome) call during the test."""
    from punt.ops import metrics

    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(metrics, "record_webhook_delivery", lambda provider, outcome: seen.append((provider, outcome)))
    return seen
