"""An answer for a request line or header too long for daphne's HTTP parser, which drops it silently.

daphne parses HTTP with Twisted, which reads the request line and each header as a line of at most
16 KB (`LineReceiver.MAX_LENGTH`) and closes the connection without a word past it: a client
sending a 60 KB query string saw only a dropped connection. `install()` makes such a request
answer 414 URI Too Long (431 for a header line), in the API's error shape under /api/ and as
plain text elsewhere. daphne's command line offers no way to hand it a protocol of our own, so
the answer is set on Twisted's HTTP protocol class when the web process loads (punt/asgi.py).
"""

from __future__ import annotations

import json
import re
from typing import Any

from punt.api.errors import error_body, is_api_path

REQUEST_LINE = re.compile(rb"[A-Z]+ (/\S*)")
# Read (and drop) what is left of the refused request for at most this long before closing:
# closing with unread bytes makes the TCP stack reset the connection, and the client may then
# lose the answer.
DRAIN_SECONDS = 2.0
END_OF_HEADERS = b"\r\n\r\n"


def refusal(line: bytes) -> bytes:
    """The whole HTTP response to a request whose line starting with `line` is too long."""
    request_line = REQUEST_LINE.match(line)
    if request_line:
        status, reason, message = 414, "URI Too Long", "The request URI is too long."
        target = request_line.group(1).decode("latin-1")
    else:
        status, reason, message = 431, "Request Header Fields Too Large", "A request header is too long."
        target = ""
    if is_api_path(target):
        body, content_type = json.dumps(error_body(message)).encode(), "application/json"
    else:
        body, content_type = message.encode(), "text/plain; charset=utf-8"
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def _line_too_long(channel: Any, line: bytes) -> None:
    """HTTPChannel.lineLengthExceeded: answer, read the rest of the request, close."""
    from twisted.internet import reactor

    channel.transport.write(refusal(line))
    tail = [line[-3:]]

    def close() -> None:
        if not channel.transport.disconnecting:
            channel.loseConnection()

    def discard(data: bytes) -> None:
        seen = tail[0] + data
        if END_OF_HEADERS in seen:
            close()
        tail[0] = seen[-3:]

    channel.dataReceived = discard
    timer: Any = reactor  # the installed reactor (daphne's asyncio one) provides IReactorTime
    timer.callLater(DRAIN_SECONDS, close)


def install() -> None:
    from twisted.web.http import HTTPChannel

    HTTPChannel.lineLengthExceeded = _line_too_long  # type: ignore[method-assign]
