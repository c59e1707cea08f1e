"""How one bus event looks on each protocol.

WebSocket (seed 004): `{"type": "board.card_moved", "payload": {...}}`, every event as is (plus
the event's `"id"` for a socket opened with `?ids=1` or `?last_event_id=`).
PUNT SSE (seeds 000/001): `{"type": "ticket.moved", "data": {...}, "tabId": ..., "timestamp": ...}`
with PUNT's event names and camelCase data, and only the events each stream is about. Its ids
are strings, as in PUNT's REST responses (`"id": "7"`, `"columnId": "2"`), wherever they sit
in the data; the WebSocket keeps the /api/v1 REST's integers.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

# Bus event -> PUNT SSE name, per stream.
PROJECT_STREAM_EVENTS = {
    "board.card_created": "ticket.created",
    "board.card_updated": "ticket.updated",
    "board.card_moved": "ticket.moved",
    "board.card_deleted": "ticket.deleted",
    "label.created": "label.created",
    "label.updated": "label.updated",
    "label.deleted": "label.deleted",
}
PROJECT_LIST_STREAM_EVENTS = {
    "project.created": "project.created",
    "project.updated": "project.updated",
    "project.archived": "project.updated",
    "project.restored": "project.updated",
    "project.deleted": "project.deleted",
    "member.added": "member.added",
    "member.updated": "member.updated",
    "member.removed": "member.removed",
}
USER_STREAM_EVENTS = {
    "user.updated": "user.updated",
    "profile.updated": "user.updated",
}

# PUNT's deleted events carry only the id (its client drops the object by id).
ID_ONLY = {"ticket.deleted", "label.deleted", "project.deleted"}
# Ticket fields PUNT spells as display words ("Task", "Medium").
TITLE_CASED = ("type", "priority")

_CAMEL = re.compile(r"_([a-z0-9])")


def camel(name: str) -> str:
    return _CAMEL.sub(lambda match: match.group(1).upper(), name)


def _id_text(value: Any) -> Any:
    # bool is an int in Python, and no id is a bool.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def punt_shape(value: Any) -> Any:
    """`value` in PUNT's spelling, in one walk: camelCase keys, and every id as PUNT's REST writes
    it, a string: `id`, `*Id` (`columnId`, `userId`) and the items of `*Ids` lists (`labelIds`), at
    any depth (`assignee.id`, `labels[].id`). Other numbers (`number`, `order`) stay numbers."""
    if isinstance(value, list):
        return [punt_shape(item) for item in value]
    if not isinstance(value, dict):
        return value
    shaped: dict[str, Any] = {}
    for raw_key, item in value.items():
        key = camel(str(raw_key))
        if (key == "id" or key.endswith("Id")) and not isinstance(item, (dict, list)):
            shaped[key] = _id_text(item)
        elif (key == "ids" or key.endswith("Ids")) and isinstance(item, list):
            shaped[key] = [_id_text(each) for each in item]
        else:
            shaped[key] = punt_shape(item)
    return shaped


def ws_message(message: dict[str, Any], *, with_id: bool = False) -> dict[str, Any]:
    """The socket's message; with `with_id` (a socket that asked for ids) also the bus event's
    `id`, when it has one (presence and greetings do not)."""
    body = {"type": message["event"], "payload": message.get("payload") or {}}
    if with_id and message.get("id") is not None:
        body["id"] = int(message["id"])
    return body


def ws_text_with_id(text: str, event_id: Any) -> str:
    """The event's pre-encoded socket text (`{"type": ..., "payload": ...}`, punt.events) with
    `"id"` added as its last field, without encoding the payload again for each socket."""
    return f'{text[:-1]}, "id": {int(event_id)}}}'


def punt_data(name: str, payload: dict[str, Any]) -> dict[str, Any]:
    if name in ID_ONLY:
        return {"id": _id_text(payload.get("id"))}
    data: dict[str, Any] = punt_shape(payload)
    if name.startswith("ticket."):
        for field in TITLE_CASED:
            if isinstance(data.get(field), str):
                data[field] = data[field].replace("_", " ").title()
        if "position" in data and "order" not in data:
            data["order"] = data["position"]
    return data


def sse_body(message: dict[str, Any], names: dict[str, str]) -> dict[str, Any] | None:
    """The PUNT SSE JSON for `message`, or None if this stream does not carry the event."""
    name = names.get(message.get("event", ""))
    if name is None:
        return None
    return {
        "type": name,
        "data": punt_data(name, message.get("payload") or {}),
        "tabId": message.get("tab_id"),
        "timestamp": message.get("ts"),
    }


def sse_frame(body: dict[str, Any], event_id: int | None) -> str:
    """One SSE message; `id:` lets the browser resume with Last-Event-ID."""
    data = json.dumps(body, cls=DjangoJSONEncoder, separators=(",", ":"))
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}data: {data}\n\n"
