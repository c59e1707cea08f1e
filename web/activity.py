"""A timeline event in plain words: "ticked 'Write Docker section'", "set the due date to Dec 31".

One function for every page that shows activity: the ticket's timeline says "it" for the
ticket, Home names it ("moved DEMO-3 from To Do to In Progress"). Every event the tickets
services write has its sentence here (tests/web/test_activity_words.py lists them all); an
unknown one still reads as words, never as `checklist_check`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from tickets.models import Ticket

# Where the ticket is named in a sentence: a character no escaped text holds.
T = "\ue000"
PRIORITIES = dict(Ticket.Priority.choices)
TYPES = dict(Ticket.Type.choices)


def _words(text: str) -> SafeString:
    """Our own words (and the ticket placeholder) as safe text."""
    return format_html("{}", text)


def _quoted(text: Any) -> SafeString:
    return format_html("“{}”", text)


def _user(brief: Any) -> str:
    if isinstance(brief, dict):
        return str(brief.get("username") or brief.get("name") or "someone")
    return "someone"


def _date(value: Any, *, year: int) -> str:
    try:
        day = datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    text = f"{day:%b} {day.day}"
    return text if day.year == year else f"{text}, {day.year}"


def _list(parts: list[SafeString]) -> SafeString:
    if len(parts) <= 1:
        return parts[0] if parts else _words("")
    head = format_html_join(", ", "{}", ((part,) for part in parts[:-1]))
    return format_html("{} and {}", head, parts[-1])


def _choice_word(field: str, value: Any) -> str:
    if value in (None, ""):
        return "none"
    names = PRIORITIES if field == "priority" else TYPES
    return str(names.get(value, value))


# The order an update's sentence names its fields in (the ticket page's order).
FIELD_ORDER = {
    field: index
    for index, field in enumerate(
        ("title", "body", "type", "priority", "assignee", "labels", "sprint", "estimate", "due_date", "parent")
    )
}


def _field_change(field: str, old: Any, new: Any, *, year: int) -> SafeString:
    """One field of an `update` event, e.g. "changed the priority from Medium to High"."""
    if field == "title":
        return (
            format_html("renamed it from {} to {}", _quoted(old), _quoted(new))
            if old
            else format_html("set the title to {}", _quoted(new))
        )
    if field == "body":
        return _words("edited the description" if old else "added a description")
    if field in ("priority", "type"):
        return format_html("changed the {} from {} to {}", field, _choice_word(field, old), _choice_word(field, new))
    if field == "due_date":
        if not new:
            return _words("removed the due date")
        return format_html("set the due date to {}", _date(new, year=year))
    if field == "estimate":
        if new in (None, ""):
            return _words("removed the estimate")
        return format_html("set the estimate to {} point{}", new, "" if str(new) == "1" else "s")
    if field == "labels":
        before, after = set(old or []), set(new or [])
        parts: list[SafeString] = []
        added, removed = sorted(after - before), sorted(before - after)
        if added:
            parts.append(format_html("added the label{} {}", "s" if len(added) > 1 else "", _names(added)))
        if removed:
            parts.append(format_html("removed the label{} {}", "s" if len(removed) > 1 else "", _names(removed)))
        return _list(parts) if parts else _words("changed the labels")
    if field == "sprint":
        # A sprint's carry-over stores ids only (tickets.services.board): no name to show.
        if isinstance(new, dict):
            return format_html("moved it to the sprint {}", _quoted(new.get("name", "")))
        if isinstance(old, dict) and new is None:
            return format_html("took it out of the sprint {}", _quoted(old.get("name", "")))
        if new is None:
            return _words("moved it to the backlog (the sprint closed)")
        return _words("carried it over to the next sprint")
    if field == "parent":
        if new:
            return format_html("made it a sub-task of {}", new)
        return format_html("detached it from {}", old) if old else _words("removed the parent")
    if field == "assignee":
        return format_html("assigned {}", _user(new)) if new else _words("unassigned it")
    return format_html("changed the {}", field.replace("_", " "))


def _names(names: list[str]) -> SafeString:
    return _list([_quoted(name) for name in names])


def _item(event: Any) -> SafeString:
    return _quoted((event.data or {}).get("item", {}).get("text", ""))


def _attachment(event: Any) -> str:
    return str((event.data or {}).get("attachment", {}).get("filename") or "a file")


def _move(event: Any) -> SafeString:
    data = event.data or {}
    source = data.get("from_column") or data.get("from") or {}
    target = data.get("to_column") or data.get("to") or {}
    sentence = format_html("moved {t} from {} to {}", source.get("name", "?"), target.get("name", "?"), t=T)
    if data.get("reason") == "column_deleted":
        sentence = format_html("{} (its column was deleted)", sentence)
    return sentence


def _link(event: Any) -> SafeString:
    link = (event.data or {}).get("link", {})
    url = str(link.get("url", ""))
    if not url.startswith(("http://", "https://")):
        return format_html("linked {}", link.get("title") or url)
    return format_html('linked <a href="{}" rel="noopener nofollow">{}</a>', url, (link.get("title") or url)[:50])


RELATION_WORDS = {
    "blocks": "blocks",
    "is_blocked_by": "is blocked by",
    "duplicates": "duplicates",
    "is_duplicated_by": "is duplicated by",
    "relates_to": "relates to",
}


def _relation(event: Any, removed: bool) -> SafeString:
    relation = (event.data or {}).get("relation", {})
    words = RELATION_WORDS.get(relation.get("kind", ""), "relates to")
    key = (relation.get("ticket") or {}).get("key", "?")
    if removed:
        return format_html("unlinked {t} from {} ({})", key, words, t=T)
    return format_html("linked {t} to {} ({})", key, words, t=T)


# Actions: T is where the ticket goes ("it" on its own page, its key elsewhere); a sentence
# without one gets " on <key>" away from the ticket's page.
ACTIONS: dict[str, Callable[[Any], SafeString]] = {
    "create": lambda e: _words("created " + T),
    "created": lambda e: _words("created " + T),
    "close": lambda e: _words("closed " + T),
    "reopen": lambda e: _words("reopened " + T),
    "delete": lambda e: _words("deleted " + T),
    "restore": lambda e: _words("restored " + T),
    "move": _move,
    "assign": lambda e: format_html("assigned {t} to {}", _user((e.data or {}).get("assignee")), t=T),
    "unassign": lambda e: format_html("unassigned {} from {t}", _user((e.data or {}).get("assignee")), t=T),
    "attach": lambda e: format_html("attached {}", _attachment(e)),
    "attachment_add": lambda e: format_html("attached {}", _attachment(e)),
    "detach": lambda e: format_html("removed the attachment {}", _attachment(e)),
    "link": _link,
    "relate": lambda e: _relation(e, removed=False),
    "unrelate": lambda e: _relation(e, removed=True),
    "checklist_add": lambda e: format_html("added {} to the checklist", _item(e)),
    "checklist_edit": lambda e: format_html("reworded a checklist item to {}", _item(e)),
    "checklist_check": lambda e: format_html("ticked {}", _item(e)),
    "checklist_uncheck": lambda e: format_html("unticked {}", _item(e)),
    "checklist_remove": lambda e: format_html("removed {} from the checklist", _item(e)),
    "checklist_reorder": lambda e: _words("reordered the checklist"),
}


def _sentence(event: Any, link_key: Callable[[str], SafeString] | None = None) -> SafeString:
    """The sentence with T where the ticket is named (if anywhere)."""
    data = event.data or {}
    if event.kind == "comment":
        return _words("commented on " + T)
    if event.kind == "mention":
        if data.get("user"):
            return format_html("mentioned @{} in {t}", data["user"].get("username", ""), t=T)
        key = (data.get("ticket") or {}).get("key", "")
        if link_key is not None:
            key = link_key(key)
        if data.get("cross_reference"):
            return format_html("mentioned {t} in {}", key, t=T)
        return format_html("referenced {} in {t}", key, t=T)
    if event.kind == "update":
        old, new = data.get("old") or {}, data.get("new") or {}
        year = event.created_at.year if getattr(event, "created_at", None) else datetime.date.today().year
        # PostgreSQL's jsonb keeps keys in its own order, not the service's: name them in ours.
        fields = sorted(new, key=lambda field: (FIELD_ORDER.get(field, len(FIELD_ORDER)), field))
        parts = [_field_change(field, old.get(field), new[field], year=year) for field in fields]
        return _list(parts) if parts else _words("updated " + T)
    action = ACTIONS.get(event.text)
    if action is not None:
        return action(event)
    return format_html("{} {t}", (event.text or "changed").replace("_", " "), t=T)


def event_words(
    event: Any, ticket: SafeString | str | None = None, link_key: Callable[[str], SafeString] | None = None
) -> SafeString:
    """What the event's author did, in words; `ticket` names the ticket (None: "it", on its own page).

    `link_key` turns another ticket's key into a link (the ticket page links its project's keys).
    """
    sentence = str(_sentence(event, link_key))
    if ticket is None:
        # On the ticket's own page: "commented", "created the ticket", "moved it from ...".
        on_page = {"commented on " + T: "commented", "created " + T: "created the ticket"}
        if sentence in on_page:
            return _words(on_page[sentence])
        for filler in (" in ", " on ", " from "):
            sentence = sentence.replace(filler + T, "")
        sentence = sentence.replace(T, "it")
        return mark_safe(sentence)  # noqa: S308 - every part was escaped by format_html
    if T not in sentence:
        sentence += " on " + T
    return mark_safe(sentence.replace(T, str(format_html("{}", ticket))))  # noqa: S308 - escaped parts
