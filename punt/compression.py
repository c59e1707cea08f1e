"""Gzip for pages: a 1,000-card board is ~130 KB of HTML and ~10 KB gzipped.

Django's GZipMiddleware, limited to whole (non-streaming) HTML responses:

- Streams pass untouched. PUNT's SSE feeds are streams, and a compressor between the view and
  the socket may hold events back (proxies and some clients wait for a full gzip block); file
  downloads are streams too, mostly images and archives that gzip cannot shrink, and served
  with a Content-Length and ranges that compression would drop.
- Only HTML: static files are compressed ahead of time by WhiteNoise (it answers before this
  middleware runs), and the API's JSON is left as it was (its clients and the bench's
  figures stay as they are; a later change can widen the type list once measured).

Django's compressor pads each body with random bytes, which blunts BREACH-style guessing of
the CSRF token a page carries (Django masks it per response as well).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware

COMPRESSED_TYPES = ("text/html",)


class PageGZipMiddleware(GZipMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if response.streaming or not response.get("Content-Type", "").startswith(COMPRESSED_TYPES):
            return response
        return super().process_response(request, response)
