"""An SSE stream asked for with Accept-Encoding: gzip (every browser sends it) is still a plain,
unbuffered stream: the page compression (punt/compression.py) leaves streams alone."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from tests.realtime.conftest import SSE, session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("http_handler")]


async def test_sse_is_not_gzipped_even_when_the_client_accepts_it(personas):
    cookie = await database_sync_to_async(session_cookie)(personas.member)
    stream = await SSE(
        f"/api/projects/{personas.project.pk}/events",
        [(b"cookie", cookie.encode()), (b"accept-encoding", b"gzip, deflate, br")],
    ).start()
    try:
        assert stream.status == 200
        assert stream.headers["content-type"] == "text/event-stream"
        assert "content-encoding" not in stream.headers
        # The first block arrives on its own, as text, before the stream ends.
        assert await stream.block() == "retry: 3000\n: connected"
    finally:
        await stream.close()
