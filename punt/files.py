"""How PUNT serves a stored upload (attachments, thumbnails, avatars): one set of headers everywhere.

Anything a user uploaded downloads as an attachment, so a browser never renders it as a page of
ours: HTML, SVG, XML, PDF and every type PUNT does not know. Only raster images that browsers
cannot run (PNG, JPEG, GIF, WebP) may show inline; SVG is never among them, it can carry
scripts. Every response says `X-Content-Type-Options: nosniff` (the browser keeps to the
declared type) and has a sandboxing Content-Security-Policy, whatever the middleware does.
"""

from __future__ import annotations

from typing import IO

from django.http import FileResponse

# Raster images a browser only ever draws: safe to show inline.
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
SANDBOX_POLICY = "default-src 'none'; sandbox"


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
