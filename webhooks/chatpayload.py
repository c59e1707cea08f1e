"""What an incoming chat webhook's JSON says, as the text of one chat message.

seed 004: "Post any JSON payload to push a message". `{"text": ..., "username": ...}` is the
documented form; any other JSON (an object without `text`, an array, a number) becomes a
readable summary: a bold title from the `event`, `action`, `status` and `title` fields, then
the other fields as `- key: value` lines, nested values as compact JSON, all of it bounded.
Pure functions, no database: the text goes on to chat, which renders and sanitizes it like
any message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

TITLE_KEYS = ("event", "action", "status", "title")
KEY_MAX = 60
VALUE_MAX = 300
TITLE_MAX = 200
EMPTY = "(empty JSON payload)"


@dataclass
class ChatPost:
    text: str
    # The sender the payload names, as given (not yet cleaned); "" when it names none.
    username: str = ""
    # True when `text` was written by the sender, False when it summarises their JSON.
    written: bool = True


def read(payload: Any, *, limit: int) -> ChatPost:
    """The message a payload asks for; a summary of it is cut to `limit` characters.

    A written `text` is returned whole: refusing one that is too long is the caller's rule.
    """
    if not isinstance(payload, dict):
        return ChatPost(text=summary(payload, limit=limit), written=False)
    username = payload.get("username")
    username = username if isinstance(username, str) else ""
    text = payload.get("text")
    if isinstance(text, str) and text.strip():
        return ChatPost(text=text.strip(), username=username)
    # `username` (and a blank `text`) are addressed to us, not fields to show.
    rest = {
        key: value for key, value in payload.items() if not (key in ("username", "text") and isinstance(value, str))
    }
    return ChatPost(text=summary(rest, limit=limit), username=username, written=False)


def summary(value: Any, *, limit: int) -> str:
    """`value` (parsed JSON) as Markdown a person can read, at most `limit` characters."""
    if isinstance(value, dict):
        titles = {
            key: _value(value[key], TITLE_MAX) for key in TITLE_KEYS if isinstance(value.get(key), (str, int, float))
        }
        titles = {key: title for key, title in titles.items() if title}
        # A blank line after the title: Markdown starts a list only after one.
        head = [f"**{_cut(' · '.join(titles.values()), TITLE_MAX)}**", ""] if titles else []
        items = [f"- {_one_line(key, KEY_MAX)}: {_value(item)}" for key, item in value.items() if key not in titles]
        text = _bounded(head, items, limit, noun="field")
    elif isinstance(value, list):
        text = _bounded([], [f"- {_value(item)}" for item in value], limit, noun="item")
    elif isinstance(value, str):
        text = value.strip()
    else:
        text = _json(value)
    return _cut(text, limit) or EMPTY


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _value(value: Any, length: int = VALUE_MAX) -> str:
    # Strings as they are (on one line); numbers, booleans, null, lists and objects as compact JSON.
    return _one_line(value if isinstance(value, str) else _json(value), length)


def _one_line(value: Any, length: int) -> str:
    return _cut(" ".join(str(value).split()), length)


def _cut(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


# Kept free below the last line shown, for the line that says how many did not fit.
MORE_ROOM = 40


def _bounded(head: list[str], items: list[str], limit: int, *, noun: str) -> str:
    """`head` and as many `items` as fit in `limit`, then how many were left out."""
    lines = list(head)
    used = sum(len(line) + 1 for line in lines)
    for index, item in enumerate(items):
        last = index == len(items) - 1
        if used + len(item) + 1 > limit - (0 if last else MORE_ROOM):
            left = len(items) - index
            lines.append(f"- … and {left} more {noun}{'' if left == 1 else 's'}")
            break
        lines.append(item)
        used += len(item) + 1
    return "\n".join(lines).strip()
