"""JSON from clients, refused past MAX_DEPTH levels of nesting.

Python's parser recurses once per level: a body of 1,000 `[` raised RecursionError (a 500,
or a crashed socket), and a few hundred levels that did parse still recursed through the
serializers and the error renderer. No PUNT document nests more than a handful of levels.
Every surface that parses a client's JSON (the API's parser, the WebSocket consumer, git
host webhooks, JSON attachments, list cursors) goes through `loads` or `check_depth`.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64


class TooDeep(ValueError):
    """A ValueError, so every `except ValueError` that answers "not valid JSON" answers this too."""

    def __init__(self) -> None:
        super().__init__(f"JSON nested deeper than {MAX_DEPTH} levels.")


def check_depth(value: Any) -> None:
    """Raise TooDeep if `value` (parsed JSON) has lists or objects nested deeper than MAX_DEPTH."""
    if not isinstance(value, (dict, list)):
        return
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, (dict, list)):
                if depth >= MAX_DEPTH:
                    raise TooDeep()
                stack.append((child, depth + 1))


def loads(text: str, **kwargs: Any) -> Any:
    """`json.loads` that raises TooDeep (a ValueError) for documents nested past MAX_DEPTH."""
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        raise TooDeep() from None
    # Fewer brackets than the limit cannot nest past it: most bodies skip the walk.
    if text.count("[") + text.count("{") > MAX_DEPTH:
        check_depth(value)
    return value
