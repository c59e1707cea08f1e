"""Pages come back gzipped to browsers that ask; streams (SSE, file downloads) never are."""

from __future__ import annotations

import gzip
import io

import pytest
from django.http import FileResponse, HttpResponse, JsonResponse, StreamingHttpResponse
from django.test import RequestFactory

from punt.compression import PageGZipMiddleware
from tests.conftest import Personas
from tests.factories import TicketFactory
from tests.web.conftest import page_client

BOARD = "/projects/olivia/blog/"


@pytest.mark.django_db
def test_pages_are_gzipped_when_the_browser_accepts_it(personas: Personas):
    TicketFactory(project=personas.project, title="Compressed card")
    client = page_client(personas, "viewer")
    plain = client.get(BOARD)
    assert not plain.has_header("Content-Encoding")
    packed = client.get(BOARD, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    html = gzip.decompress(packed.content).decode()
    assert "Compressed card" in html and html.lstrip().lower().startswith("<!doctype html>")
    assert int(packed["Content-Length"]) == len(packed.content) < len(plain.content) / 2
    # The board's htmx fragments (search, next page of a column) too.
    fragment = client.get(BOARD, HTTP_ACCEPT_ENCODING="gzip", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="board")
    assert fragment["Content-Encoding"] == "gzip"
    # And pages other than the board.
    assert client.get(BOARD + "backlog", HTTP_ACCEPT_ENCODING="gzip")["Content-Encoding"] == "gzip"


def _through_middleware(response: HttpResponse | StreamingHttpResponse) -> HttpResponse | StreamingHttpResponse:
    request = RequestFactory().get("/", HTTP_ACCEPT_ENCODING="gzip")
    return PageGZipMiddleware(lambda _: response)(request)


def test_streams_and_non_html_pass_untouched():
    page = _through_middleware(HttpResponse("<p>" + "card " * 200 + "</p>"))
    assert page["Content-Encoding"] == "gzip"

    def events():
        yield b"retry: 3000\n\n"

    sse = _through_middleware(StreamingHttpResponse(events(), content_type="text/event-stream"))
    assert not sse.has_header("Content-Encoding")
    assert b"".join(sse.streaming_content) == b"retry: 3000\n\n"
    download = _through_middleware(FileResponse(io.BytesIO(b"x" * 5000), content_type="text/html"))
    assert not download.has_header("Content-Encoding")
    assert download["Content-Length"] == "5000"
    api = _through_middleware(JsonResponse({"cards": ["card"] * 500}))
    assert not api.has_header("Content-Encoding")
