"""One module per source format; each has `parse(stream, options) -> Iterator[Record]`.

`stream` is the uploaded file opened in binary; a parser reads it as it goes (CSV row by row,
XML element by element) so memory stays flat. JSON sources (Trello, GitHub, PUNT archives)
are read whole: those exports are one JSON document, and the standard library has no
streaming JSON reader (their size is bounded by the upload limit).

`family` names the source-id space of the source map: Jira's CSV and XML exports share one,
so importing the XML after the CSV updates the same tickets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from imports.records import Options, Record
from imports.sources import csv_generic, github, jira_csv, jira_xml, punt_archive, trello


@dataclass(frozen=True)
class Source:
    name: str
    family: str
    label: str
    parse: Callable[[IO[bytes], Options], Iterator[Record]]
    # The text put in an imported ticket's body to say where it came from ("Imported from Jira
    # PROJ-7"); empty for PUNT's own archive, which round-trips tickets unchanged.
    origin: str


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source("jira-csv", "jira", "Jira (CSV export)", jira_csv.parse, "Jira"),
        Source("jira-xml", "jira", "Jira (XML/RSS export)", jira_xml.parse, "Jira"),
        Source("trello", "trello", "Trello (board JSON export)", trello.parse, "Trello"),
        Source("github", "github", "GitHub issues (gh issue list --json)", github.parse, "GitHub"),
        Source("csv", "csv", "CSV with a column mapping", csv_generic.parse, "CSV"),
        Source("punt", "punt", "PUNT archive (export.json)", punt_archive.parse, ""),
    )
}
