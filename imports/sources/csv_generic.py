"""Any CSV with a header row, read through a column mapping: PUNT field -> the file's column
(`--map title=Summary --map assignee=Owner` on the command line, a form on the import page).

Fields: id (the row's stable id, for re-imports; without it the row number is the id, so
re-import the same file unchanged or map an id column), title (required), body, type,
priority, status (a column name, or a category word), assignee, reporter (e-mail or name),
labels (comma- or semicolon-separated), sprint, parent (the parent row's id), due_date,
estimate, created, updated, closed. Columns not mapped become custom fields.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import IO

from imports.records import Options, Person, Record, TicketRecord
from imports.sources.common import (
    SourceError,
    category_for,
    field_type,
    parse_date,
    parse_datetime,
    parse_points,
    priority_for,
    split_list,
    type_for,
)

FIELDS = (
    "id",
    "title",
    "body",
    "type",
    "priority",
    "status",
    "assignee",
    "reporter",
    "labels",
    "sprint",
    "parent",
    "due_date",
    "estimate",
    "created",
    "updated",
    "closed",
)


def _person(value: str) -> Person:
    value = value.strip()
    if "@" in value:
        return Person(email=value)
    return Person(username=value, name=value)


def check_mapping(mapping: dict[str, str]) -> None:
    unknown = sorted(set(mapping) - set(FIELDS))
    if unknown:
        raise SourceError("the mapping", f"unknown field(s) {', '.join(unknown)}; use {', '.join(FIELDS)}.")
    if "title" not in mapping:
        raise SourceError("the mapping", "map a column to title (e.g. title=Summary).")


def parse(stream: IO[bytes], options: Options) -> Iterator[Record]:
    mapping = options.mapping
    check_mapping(mapping)
    reader = csv.DictReader(io.TextIOWrapper(stream, encoding="utf-8-sig", newline=""))
    try:
        header = reader.fieldnames or []
    except (csv.Error, UnicodeDecodeError) as exc:
        raise SourceError("line 1", str(exc)) from None
    missing = [column for column in mapping.values() if column not in header]
    if missing:
        raise SourceError("line 1", f"no column named {', '.join(map(repr, missing))} in the header.")
    mapped = set(mapping.values())
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            raise SourceError(f"line {reader.line_num + 1}", str(exc)) from None
        yield _ticket(row, mapping, mapped, f"line {reader.line_num}")


def _ticket(row: dict[str, str], mapping: dict[str, str], mapped: set[str], where: str) -> TicketRecord:
    def get(name: str) -> str:
        column = mapping.get(name)
        return (row.get(column) or "").strip() if column else ""

    title = get("title")
    if not title:
        raise SourceError(where, "the title is empty.")
    source_id = get("id") or where.removeprefix("line ")
    status = get("status")
    record = TicketRecord(
        source_id=source_id,
        title=title[:500],
        position=where,
        reference=get("id"),
        body=get("body"),
        type=type_for(get("type")),
        priority=priority_for(get("priority")),
        column=status,
        category=category_for(status),
        assignee=_person(get("assignee")),
        reporter=_person(get("reporter")),
        labels=split_list(get("labels")),
        sprint=get("sprint"),
        parent=get("parent"),
        due_date=parse_date(get("due_date"), where),
        estimate=parse_points(get("estimate"), where),
        created_at=parse_datetime(get("created"), where),
        updated_at=parse_datetime(get("updated"), where),
        closed_at=parse_datetime(get("closed"), where),
    )
    for column, value in row.items():
        if column and column not in mapped and value and value.strip():
            record.custom_fields[column] = (field_type(value), value.strip())
    return record
