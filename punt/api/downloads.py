"""CSV from API views that speak JSON too: `?format=csv` or `Accept: text/csv` picks it.

A view subclasses `CsvView`, answers JSON as usual, and when `wants_csv()` builds its text with
`csv_text` and sends it with `csv_response` (a download with a filename). Errors stay JSON.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from punt import db
from punt.api.renderers import FastJSONRenderer

# Spreadsheets run cells that start like a formula; a leading apostrophe keeps them text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if isinstance(data, str):
            return data.encode(self.charset)
        # Only reached for bodies the view did not turn into CSV; finalize_response sends
        # errors as JSON instead.
        return FastJSONRenderer().render(data)


def csv_cell(value: Any) -> Any:
    """A value as a spreadsheet should read it: None empty, formula-like text kept as text."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return "" if value is None else value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A header line and the rows, CRLF line ends (RFC 4180)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return out.getvalue()


def _asks_for_csv(request: Any) -> bool:
    return request.GET.get("format") == "csv" or "text/csv" in request.headers.get("Accept", "")


class CsvView(APIView):
    renderer_classes = (FastJSONRenderer, CSVRenderer)

    def wants_csv(self) -> bool:
        return isinstance(getattr(self.request, "accepted_renderer", None), CSVRenderer)

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        # A CSV download is an export: its statements get the long timeout (before content
        # negotiation has run, the wish is read from the request as it will be).
        if not _asks_for_csv(request):
            return super().dispatch(request, *args, **kwargs)
        with db.long_statements():
            return super().dispatch(request, *args, **kwargs)

    def csv_response(self, text: str, filename: str) -> Response:
        return Response(text, headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        if response.status_code >= 400 and isinstance(getattr(request, "accepted_renderer", None), CSVRenderer):
            # Errors keep the API's JSON shape even when CSV was asked for.
            request.accepted_renderer = FastJSONRenderer()
            request.accepted_media_type = FastJSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
