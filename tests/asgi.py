"""Raw ASGI requests for tests that talk to the application without a server."""

from __future__ import annotations


def http_get_scope(path: str, headers: list[tuple[bytes, bytes]] | None = None) -> dict:
    """The ASGI scope of `GET path` (with its query string) from a local client."""
    path, _, query = path.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"localhost"), *(headers or [])],
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 80),
    }
