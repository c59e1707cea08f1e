"""Jira's CSV export ("Export > CSV (all fields)").

Documented at https://support.atlassian.com/jira-software-cloud/docs/export-issues/ (and the
import side, which reads the same columns, at
https://support.atlassian.com/jira-cloud-administration/docs/import-data-from-a-csv-file/).
Columns that hold several values repeat their header (Labels, Component/s, Sprint, Comment,
"Outward issue link (Blocks)"), so the header is read as a list, not a dict. A comment cell is
"date;author;text". Custom fields are headed "Custom field (Name)".
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import IO

from imports.records import CommentRecord, Options, Person, Record, TicketRecord
from imports.sources.common import (
    SourceError,
    category_for,
    field_type,
    parse_date,
    parse_datetime,
    parse_points,
    priority_for,
    type_for,
)

# Custom fields PUNT has a field of its own for (the rest become custom fields).
POINTS = {"story points", "story point estimate"}
BUILT_IN = POINTS | {"sprint", "epic link", "rank", "epic name", "parent", "start date"}
_CUSTOM = re.compile(r"^Custom field \((.+)\)$")
_LINK = re.compile(r"^(Inward|Outward) issue link \((.+)\)$")

# Cells may hold long descriptions.
csv.field_size_limit(10 * 1024 * 1024)


def link_kind(link_type: str, outward: bool) -> str:
    """PUNT's relation kind for a Jira link type seen from this issue."""
    lowered = link_type.lower()
    if "block" in lowered:
        return "blocks" if outward else "blocked_by"
    if "duplicat" in lowered:
        return "duplicates" if outward else "duplicated_by"
    return "relates_to"


def _comment(cell: str, key: str, index: int, where: str) -> CommentRecord:
    parts = cell.split(";", 2)
    if len(parts) < 3:
        # A bare text (some exports write only the body): no date, no author.
        return CommentRecord(source_id=f"{key}#comment-{index}", author=Person(), text=cell.strip())
    when, author, text = parts
    return CommentRecord(
        source_id=f"{key}#comment-{index}",
        author=Person(username=author.strip(), name=author.strip()),
        text=text.strip(),
        created_at=parse_datetime(when, where),
    )


def parse(stream: IO[bytes], options: Options) -> Iterator[Record]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        raise SourceError("line 1", "the file is empty.") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise SourceError("line 1", str(exc)) from None
    names = [h.strip() for h in header]
    if "Summary" not in names or "Issue key" not in names:
        raise SourceError("line 1", "a Jira CSV export has the columns 'Summary' and 'Issue key'.")
    while True:
        where = f"line {reader.line_num + 1}"
        try:
            row = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            raise SourceError(where, str(exc)) from None
        where = f"line {reader.line_num}"
        if not any(cell.strip() for cell in row):
            continue
        yield _ticket(names, row, where)


def _ticket(names: list[str], row: list[str], where: str) -> TicketRecord:
    one: dict[str, str] = {}
    many: dict[str, list[str]] = {}
    for name, cell in zip(names, row, strict=False):
        cell = cell.strip()
        if not cell:
            continue
        one.setdefault(name, cell)
        many.setdefault(name, []).append(cell)
    key = one.get("Issue key", "")
    if not key:
        raise SourceError(where, "the issue key is empty.")
    title = one.get("Summary", "")
    if not title:
        raise SourceError(where, f"{key} has no summary.")
    where = f"{where} ({key})"
    status = one.get("Status", "")
    record = TicketRecord(
        source_id=key,
        alt_id=one.get("Issue id", ""),
        title=title[:500],
        position=where,
        reference=key,
        body=one.get("Description", ""),
        type=type_for(one.get("Issue Type", "")),
        priority=priority_for(one.get("Priority", "")),
        column=status,
        category=category_for(status, one.get("Status Category", "")),
        assignee=Person(name=one.get("Assignee", ""), username=one.get("Assignee", "")),
        reporter=Person(name=one.get("Reporter", ""), username=one.get("Reporter", "")),
        labels=[*many.get("Labels", []), *many.get("Component/s", [])],
        sprint=(many.get("Sprint") or [""])[-1],
        parent=one.get("Parent id") or one.get("Parent") or one.get("Parent key") or "",
        due_date=parse_date(one.get("Due Date") or one.get("Due date"), where),
        created_at=parse_datetime(one.get("Created"), where),
        updated_at=parse_datetime(one.get("Updated"), where),
        closed_at=parse_datetime(one.get("Resolved"), where),
    )
    record.comments = [_comment(cell, key, i, where) for i, cell in enumerate(many.get("Comment", []), start=1)]
    for name, values in many.items():
        custom = _CUSTOM.match(name)
        if custom:
            field = custom.group(1)
            if field.lower() in POINTS:
                record.estimate = parse_points(values[0], where)
            elif field.lower() == "sprint":
                record.sprint = values[-1]
            elif field.lower() not in BUILT_IN:
                raw = ", ".join(values)
                record.custom_fields[field] = (field_type(raw) if len(values) == 1 else "text", raw)
            continue
        link = _LINK.match(name)
        if link:
            kind = link_kind(link.group(2), outward=link.group(1) == "Outward")
            record.links += [(kind, other) for other in values]
    return record
