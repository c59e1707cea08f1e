"""Minimal asyncio WebSocket and HTTP clients for tests against real daphne processes.

The `websockets` package is not a dependency; RFC 6455 framing for short text messages
is a few lines.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import struct
from typing import Any


class WebSocket:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port: int, path: str, *, timeout: float = 5) -> WebSocket:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:{port}\r\n\r\n"
            ).encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        status = head.split(b"\r\n", 1)[0]
        assert b" 101 " in status, head
        return cls(reader, writer)

    async def send_json(self, content: Any) -> None:
        payload = json.dumps(content).encode()
        mask = os.urandom(4)
        header = bytes([0x81])  # FIN + text
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        else:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        self.writer.write(header + mask + masked)
        await self.writer.drain()

    async def receive(self, timeout: float = 5) -> tuple[int, bytes]:
        """(opcode, payload) of the next frame."""
        first, second = await asyncio.wait_for(self.reader.readexactly(2), timeout)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
        return first & 0x0F, await asyncio.wait_for(self.reader.readexactly(length), timeout)

    async def receive_json(self, timeout: float = 5) -> Any:
        opcode, payload = await self.receive(timeout)
        assert opcode == 0x1, (opcode, payload)
        return json.loads(payload)

    async def receive_until(self, event_type: str, timeout: float = 5) -> dict[str, Any]:
        """Skip other messages (presence, unrelated events) until one of `event_type`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self.receive_json(max(deadline - loop.time(), 0.01))
            if message["type"] == event_type:
                return message

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


class EventStream:
    """An SSE response read off a raw HTTP/1.0 connection (no chunked framing to undo)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int, path: str, headers: dict[str, str], *, timeout: float = 5) -> EventStream:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        writer.write(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n{lines}\r\n".encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        assert b" 200 " in head.split(b"\r\n", 1)[0], head
        assert b"text/event-stream" in head.lower(), head
        return cls(reader, writer)

    async def event(self, timeout: float = 5) -> dict[str, Any]:
        """The next `data:` message, parsed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            block = await asyncio.wait_for(self.reader.readuntil(b"\n\n"), max(deadline - loop.time(), 0.01))
            for line in block.decode().split("\n"):
                if line.startswith("data: "):
                    return json.loads(line[len("data: ") :])

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


async def http_request(
    port: int, method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None, timeout: float = 10
) -> tuple[int, Any]:
    """One HTTP/1.0 request; returns (status, parsed JSON body or raw bytes)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    data = json.dumps(body).encode() if body is not None else b""
    lines = {"Host": f"127.0.0.1:{port}", "Content-Length": str(len(data)), **(headers or {})}
    if body is not None:
        lines["Content-Type"] = "application/json"
    head = "".join(f"{name}: {value}\r\n" for name, value in lines.items())
    writer.write(f"{method} {path} HTTP/1.0\r\n{head}\r\n".encode() + data)
    raw = await asyncio.wait_for(reader.read(), timeout)
    writer.close()
    header, _, content = raw.partition(b"\r\n\r\n")
    status = int(header.split(b" ", 2)[1])
    try:
        return status, json.loads(content)
    except ValueError:
        return status, content
