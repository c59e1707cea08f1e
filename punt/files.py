"""How PUNT serves a stored upload (attachments, thumbnails, avatars): one set of headers everywhere.

Anything a user uploaded downloads as an attachment, so a browser never renders it as a page of
ours: HTML, SVG, XML, PDF and every type PUNT does not know. Only raster images that browsers
cannot run (PNG, JPEG, GIF, WebP) may show inline; SVG is never among them, it can carry
scripts. Every response says `X-Content-Type-Options: nosniff` (the browser keeps to the
declared type) and has a sandboxing Content-Security-Policy, whatever the middleware does.

A stored file never changes under its name (a new upload gets a new name), so the name is its
ETag; a browser or a CDN that asks again with If-None-Match / If-Modified-Since gets a 304
without the file being opened.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import IO

from django.http import FileResponse, HttpRequest
from django.http.response import HttpResponseBase
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, quote_etag

# Raster images a browser only ever draws: safe to show inline.
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
SANDBOX_POLICY = "default-src 'none'; sandbox"
# Attachments are private to a project's members: browsers may keep them, shared caches may not.
ATTACHMENT_CACHE = "private, max-age=3600"


def shows_inline(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() in INLINE_IMAGE_TYPES


def file_response(handle: IO[bytes], *, filename: str, content_type: str, cache_control: str) -> FileResponse:
    """A stored upload, inline only when it is a safe image, else as an attachment."""
    inline = shows_inline(content_type)
    response = FileResponse(handle, as_attachment=not inline, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX_POLICY
    response["Cache-Control"] = cache_control
    return response


def stored_file_response(
    request: HttpRequest,
    open_file: Callable[[], IO[bytes]],
    *,
    name: str,
    modified: datetime | None,
    filename: str,
    content_type: str,
    cache_control: str,
) -> HttpResponseBase:
    """`file_response` with validators: ETag from the storage `name`, Last-Modified from `modified`.

    The caller has checked the reader may see the file. A matching conditional request gets
    a 304 and `open_file` is never called; otherwise its errors (file missing) propagate.
    """
    etag = quote_etag(hashlib.sha256(name.encode()).hexdigest()[:32])
    timestamp = int(modified.timestamp()) if modified is not None else None
    not_modified: HttpResponseBase | None = get_conditional_response(request, etag=etag, last_modified=timestamp)
    response: HttpResponseBase
    if not_modified is not None:
        response = not_modified
    else:
        response = file_response(open_file(), filename=filename, content_type=content_type, cache_control=cache_control)
    response["ETag"] = etag
    if timestamp is not None:
        response["Last-Modified"] = http_date(timestamp)
    response["Cache-Control"] = cache_control
    return response
