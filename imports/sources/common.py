"""What the source modules share: the error that names where a file is broken, dates, and
guessing PUNT's words (column category, type, priority, custom-field type) from a source's."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

from punt.errors import Invalid


class SourceError(Invalid):
    """The file cannot be read at `where` ("line 14", "card 3", "item PROJ-7")."""

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        self.reason = message
        super().__init__(f"{where}: {message}", details=[{"field": "file", "message": f"{where}: {message}"}])


# Formats tried in order for dates without a zone (taken as UTC). Jira's CSV writes its
# "dd/MMM/yy h:mm a" by default; the others are ISO forms and what spreadsheets write.
_DATE_FORMATS = (
    "%d/%b/%y %I:%M %p",
    "%d/%b/%Y %I:%M %p",
    "%d/%b/%y %H:%M",
    "%d/%b/%y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
)


def parse_datetime(value: str | None, where: str = "") -> datetime | None:
    """An aware datetime from ISO 8601, RFC 2822 (Jira's XML) or Jira's CSV form; None if empty."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None and "," in text[:5]:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            parsed = None
    if parsed is None:
        for fmt in _DATE_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        raise SourceError(where or "a date", f"cannot read the date {text!r}.")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_date(value: str | None, where: str = "") -> date | None:
    moment = parse_datetime(value, where)
    return None if moment is None else moment.date()


def parse_points(value: str | None, where: str = "") -> int | None:
    """Story points as PUNT keeps them (whole numbers): "5.0" is 5, "2.5" rounds to 3."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise SourceError(where or "story points", f"{text!r} is not a number.") from None
    if number < 0:
        raise SourceError(where or "story points", f"{text!r} is negative.")
    return int(number + 0.5)


# Words in a status or list name that say which category it is, checked in this order.
_CATEGORY_WORDS = (
    ("done", ("done", "closed", "resolved", "complete", "finished", "released", "shipped", "won't", "cancel")),
    ("in_review", ("review", "testing", "qa", "verify", "verification")),
    ("in_progress", ("progress", "doing", "started", "active", "develop", "working", "wip")),
    ("backlog", ("backlog", "icebox", "someday", "ideas")),
)


def category_for(name: str, hint: str = "") -> str:
    """A Column.Category for a status or list name; `hint` is the source's own category if any
    (Jira's status category: "To Do", "In Progress", "Done"; keys new/indeterminate/done)."""
    hinted = hint.strip().lower()
    if hinted in ("done", "complete"):
        return "done"
    if hinted in ("in progress", "indeterminate"):
        lowered = name.lower()
        return "in_review" if any(w in lowered for w in _CATEGORY_WORDS[1][1]) else "in_progress"
    lowered = name.lower()
    for category, words in _CATEGORY_WORDS:
        if any(word in lowered for word in words):
            return category
    return "todo"


_TYPES = {
    "bug": "bug",
    "defect": "bug",
    "story": "story",
    "user story": "story",
    "epic": "epic",
    "feature": "feature",
    "new feature": "feature",
    "improvement": "feature",
    "enhancement": "feature",
    "sub-task": "subtask",
    "subtask": "subtask",
    "sub task": "subtask",
}


def type_for(name: str) -> str:
    return _TYPES.get(name.strip().lower(), "task")


_PRIORITIES = {
    "highest": "urgent",
    "blocker": "urgent",
    "critical": "urgent",
    "urgent": "urgent",
    "high": "high",
    "major": "high",
    "medium": "medium",
    "normal": "medium",
    "low": "low",
    "lowest": "low",
    "minor": "low",
    "trivial": "low",
}


def priority_for(name: str) -> str:
    return _PRIORITIES.get(name.strip().lower(), "medium")


_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def field_type(value: str) -> str:
    """A custom field's type guessed from one value: number, date or text."""
    text = value.strip()
    if _NUMBER.match(text):
        return "number"
    try:
        parse_datetime(text)
    except Invalid:
        return "text"
    return "date"


def split_list(value: str | None) -> list[str]:
    """A comma- or semicolon-separated list of names, trimmed, without empties."""
    return [part.strip() for part in re.split(r"[,;]", value or "") if part.strip()]


class _Text(HTMLParser):
    BREAKS = {"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "pre"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "li":
            self.parts.append("\n- ")
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(value: str | None) -> str:
    """Plain text (Markdown-safe enough) of the HTML Jira's XML export writes for descriptions."""
    if not value:
        return ""
    parser = _Text()
    parser.feed(value)
    parser.close()
    text = html.unescape("".join(parser.parts))
    return re.sub(r"\n{3,}", "\n\n", text).strip()
