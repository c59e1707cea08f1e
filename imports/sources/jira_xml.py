"""Jira's XML export ("Export > XML", the issue navigator's RSS feed).

Documented at https://support.atlassian.com/jira-software-cloud/docs/export-issues/ ; the
element names are those of Jira's `searchrequest-xml` view: <rss><channel><item> per issue with
<key id>, <summary>, <description> (HTML), <type>, <priority>, <status>, <statusCategory key>,
<assignee username>, <reporter username>, <labels><label>, <component>, <created>, <updated>,
<resolved>, <due> (RFC 2822 dates), <parent>, <comments><comment author created>,
<issuelinks><issuelinktype><name><outwardlinks|inwardlinks><issuelink><issuekey>, and
<customfields><customfield key><customfieldname><customfieldvalues><customfieldvalue>. A custom
field's type comes from its `key` (Jira's field type, "...customfieldtypes:select"): select
lists and radio buttons are selects, multi selects and checkboxes multi selects, number and
date pickers numbers and dates; any other is guessed from its value.

Read element by element (iterparse) and each <item> dropped once turned into a record, so a
big export takes flat memory. Jira's exports declare no entities, so a file that does is
refused before the parser sees it (no entity-expansion bombs, no external entities; the
project has no defusedxml).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO
from xml.etree.ElementTree import Element, ParseError, iterparse

from imports.records import CommentRecord, Options, Person, Record, TicketRecord
from imports.sources.common import (
    SourceError,
    category_for,
    field_type,
    html_to_text,
    parse_date,
    parse_datetime,
    parse_points,
    priority_for,
    type_for,
)
from imports.sources.jira_csv import BUILT_IN, POINTS, link_kind

_CATEGORY_KEYS = {"new": "To Do", "indeterminate": "In Progress", "done": "Done"}


def _text(item: Element, tag: str) -> str:
    return (item.findtext(tag) or "").strip()


def _person(element: Element | None) -> Person:
    if element is None:
        return Person()
    name = (element.text or "").strip()
    if name.lower() == "unassigned":
        return Person()
    return Person(username=element.get("username", "") or element.get("accountid", ""), name=name)


class _NoEntities:
    """The stream, read in chunks, refusing any entity declaration (even one split between reads)."""

    MARK = b"<!ENTITY"

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.tail = b""

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        if self.MARK in (self.tail + chunk).upper():
            raise SourceError("the file", "entity declarations are not allowed in an import.")
        self.tail = chunk[-len(self.MARK) :]
        return chunk


def parse(stream: IO[bytes], options: Options) -> Iterator[Record]:
    count = 0
    seen_rss = False
    try:
        for event, element in iterparse(_NoEntities(stream), events=("start", "end")):  # noqa: S314 (see _NoEntities)
            if event == "start":
                seen_rss = seen_rss or element.tag == "rss"
                continue
            if element.tag == "item":
                count += 1
                yield _ticket(element, f"item {count}")
                element.clear()
    except ParseError as exc:
        line, column = exc.position
        raise SourceError(f"line {line}, column {column}", "the XML is not well-formed.") from None
    if not seen_rss:
        raise SourceError("line 1", "a Jira XML export is an <rss> document.")


def _ticket(item: Element, where: str) -> TicketRecord:
    key = _text(item, "key")
    if not key:
        raise SourceError(where, "the issue has no <key>.")
    where = f"{where} ({key})"
    title = _text(item, "summary")
    if not title:
        raise SourceError(where, "the issue has no <summary>.")
    status = _text(item, "status")
    category_element = item.find("statusCategory")
    hint = "" if category_element is None else _CATEGORY_KEYS.get(category_element.get("key", ""), "")
    key_element = item.find("key")
    parent = item.find("parent")
    record = TicketRecord(
        source_id=key,
        alt_id="" if key_element is None else key_element.get("id", ""),
        title=title[:500],
        position=where,
        reference=key,
        body=html_to_text(item.findtext("description")),
        type=type_for(_text(item, "type")),
        priority=priority_for(_text(item, "priority")),
        column=status,
        category=category_for(status, hint),
        assignee=_person(item.find("assignee")),
        reporter=_person(item.find("reporter")),
        labels=[
            *(label.text.strip() for label in item.iterfind("labels/label") if label.text and label.text.strip()),
            *(c.text.strip() for c in item.iterfind("component") if c.text and c.text.strip()),
        ],
        parent="" if parent is None else (parent.text or "").strip(),
        due_date=parse_date(_text(item, "due"), where),
        created_at=parse_datetime(_text(item, "created"), where),
        updated_at=parse_datetime(_text(item, "updated"), where),
        closed_at=parse_datetime(_text(item, "resolved"), where),
    )
    for index, comment in enumerate(item.iterfind("comments/comment"), start=1):
        author = comment.get("author", "")
        record.comments.append(
            CommentRecord(
                source_id=comment.get("id") or f"{key}#comment-{index}",
                author=Person(username=author, name=author),
                text=html_to_text(comment.text),
                created_at=parse_datetime(comment.get("created"), where),
            )
        )
    for link_type in item.iterfind("issuelinks/issuelinktype"):
        name = _text(link_type, "name")
        for direction, outward in (("outwardlinks", True), ("inwardlinks", False)):
            for other in link_type.iterfind(f"{direction}/issuelink/issuekey"):
                if other.text and other.text.strip():
                    record.links.append((link_kind(name, outward), other.text.strip()))
    for custom in item.iterfind("customfields/customfield"):
        name = _text(custom, "customfieldname")
        values = [v.text.strip() for v in custom.iterfind("customfieldvalues/customfieldvalue") if v.text]
        if not name or not values:
            continue
        if name.lower() in POINTS:
            record.estimate = parse_points(values[0], where)
        elif name.lower() == "sprint":
            record.sprint = values[-1]
        elif name.lower() not in BUILT_IN:
            record.custom_fields[name] = custom_value(custom.get("key") or "", values)
    return record


def custom_value(jira_type: str, values: list[str]) -> tuple[str, str | list[str]]:
    """(PUNT type, raw value) of a custom field from its Jira type key and values."""
    kind = jira_type.rpartition(":")[2].lower()
    if kind in ("multiselect", "multicheckboxes"):
        return "multi_select", values
    if kind in ("select", "radiobuttons"):
        return "select", values[0]
    if kind == "float":
        return "number", values[0]
    if kind in ("datepicker", "datetime"):
        return "date", values[0]
    raw = ", ".join(values)
    return (field_type(raw) if len(values) == 1 else "text"), raw
