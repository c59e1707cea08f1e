"""Trello's board export ("Menu > More > Print, export and share > Export as JSON").

Documented at https://support.atlassian.com/trello/docs/exporting-data-from-trello/ ; the
objects are those of Trello's REST API (https://developer.atlassian.com/cloud/trello/rest/):
`lists`, `cards` (idList, idLabels, idMembers, idChecklists, due, attachments, closed),
`labels` (name, color), `checklists` (idCard, checkItems with state "complete"), `members`
(fullName, username) and `actions` (type "commentCard" with data.text and data.card.id;
"createCard"). Archived lists and cards (closed: true) are left out and counted.

Custom fields (the Custom Fields power-up): the board's `customFields` (name, type one of
text/number/date/checkbox/list, a list's `options` with value.text and color) become PUNT
fields (a list is a single select); a card's `customFieldItems` (idCustomField, `value`
{text|number|date|checked}, or idValue naming a list option) its values.

A card's creation date is its "createCard" action's, else the time in its id (Trello ids are
MongoDB object ids: their first 8 hex digits are the creation second).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

from imports.records import (
    ChecklistRecord,
    ColumnRecord,
    CommentRecord,
    CustomFieldRecord,
    LabelRecord,
    Options,
    Person,
    Record,
    TicketRecord,
)
from imports.sources.common import SourceError, category_for, parse_date, parse_datetime

# Trello's named label colours (its "_light"/"_dark" variants use the same hue here).
COLORS = {
    "green": "#61BD4F",
    "yellow": "#F2D600",
    "orange": "#FF9F1A",
    "red": "#EB5A46",
    "purple": "#C377E0",
    "blue": "#0079BF",
    "sky": "#00C2E0",
    "lime": "#51E898",
    "pink": "#FF78CB",
    "black": "#344563",
}


def _color(name: str | None) -> str:
    return COLORS.get((name or "").split("_")[0], "")


def _id_time(object_id: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(object_id[:8], 16), tz=UTC)
    except (ValueError, OverflowError):
        return None


def load_json(stream: IO[bytes]) -> Any:
    try:
        return json.load(stream)
    except UnicodeDecodeError as exc:
        raise SourceError("the file", f"not UTF-8 text ({exc.reason}).") from None
    except json.JSONDecodeError as exc:
        raise SourceError(f"line {exc.lineno}, column {exc.colno}", f"not valid JSON: {exc.msg}.") from None


def parse(stream: IO[bytes], options: Options) -> Iterator[Record]:
    board = load_json(stream)
    if not isinstance(board, dict) or not isinstance(board.get("cards"), list):
        raise SourceError("the file", "a Trello board export is a JSON object with 'lists' and 'cards'.")
    members: dict[str, Any] = {m["id"]: m for m in board.get("members", []) if isinstance(m, dict) and m.get("id")}
    lists = {}
    for trello_list in sorted(board.get("lists", []), key=lambda item: item.get("pos", 0)):
        if trello_list.get("closed"):
            continue
        lists[trello_list["id"]] = trello_list["name"]
        yield ColumnRecord(name=trello_list["name"][:100], category=category_for(trello_list["name"]))
    labels = {}
    for label in board.get("labels", []):
        # Trello allows labels with only a colour; PUNT's need a name, so the colour names it.
        name = (label.get("name") or label.get("color") or "").strip()
        if name:
            labels[label["id"]] = name[:50]
            yield LabelRecord(name=name[:50], color=_color(label.get("color")))
    checklists: dict[str, list[ChecklistRecord]] = defaultdict(list)
    for checklist in board.get("checklists", []):
        items = sorted(checklist.get("checkItems", []), key=lambda item: item.get("pos", 0))
        for item in items:
            text = f"{checklist.get('name')}: {item.get('name')}" if checklist.get("name") else item.get("name")
            checklists[checklist.get("idCard")].append(
                ChecklistRecord(text=str(text)[:500], done=item.get("state") == "complete")
            )
    comments: dict[str, list[CommentRecord]] = defaultdict(list)
    created: dict[str, datetime | None] = {}
    for action in board.get("actions", []):
        card_id = (action.get("data", {}).get("card") or {}).get("id")
        where = f"action {action.get('id')}"
        if action.get("type") == "commentCard" and card_id:
            creator = action.get("memberCreator") or members.get(action.get("idMemberCreator")) or {}
            comments[card_id].append(
                CommentRecord(
                    source_id=action["id"],
                    author=_person(creator),
                    text=action["data"].get("text", ""),
                    created_at=parse_datetime(action.get("date"), where),
                )
            )
        elif action.get("type") == "createCard" and card_id:
            created[card_id] = parse_datetime(action.get("date"), where)
    fields: dict[str, dict[str, Any]] = {}
    for custom in board.get("customFields", []):
        if not isinstance(custom, dict) or not custom.get("id") or not str(custom.get("name") or "").strip():
            continue
        kind = TRELLO_TYPES.get(custom.get("type", ""), "text")
        name = str(custom["name"]).strip()[:100]
        choices: dict[str, tuple[str, str]] = {}  # Trello option id -> (name, colour)
        for option in sorted(custom.get("options") or [], key=lambda option: option.get("pos", 0)):
            text = str((option.get("value") or {}).get("text") or "").strip()
            if text:
                choices[option.get("id")] = (text, _color(option.get("color")))
        fields[custom["id"]] = {"name": name, "type": kind, "options": {k: v[0] for k, v in choices.items()}}
        yield CustomFieldRecord(name=name, type=kind, options=list(choices.values()))
    cards = sorted(board["cards"], key=lambda card: card.get("pos", 0))
    for number, card in enumerate(cards, start=1):
        if card.get("closed") or card.get("idList") not in lists:
            continue
        record = _ticket(card, f"card {number}", lists, labels, members, checklists, comments, created)
        record.custom_fields = _custom_values(card, fields)
        yield record


# Trello's custom field types -> PUNT's.
TRELLO_TYPES = {"text": "text", "number": "number", "date": "date", "checkbox": "checkbox", "list": "select"}


def _custom_values(card: dict[str, Any], fields: dict[str, dict[str, Any]]) -> dict[str, tuple[str, Any]]:
    values: dict[str, tuple[str, Any]] = {}
    for item in card.get("customFieldItems") or []:
        field = fields.get(item.get("idCustomField"))
        if field is None:
            continue
        value = item.get("value") or {}
        if field["type"] == "select":
            raw: Any = field["options"].get(item.get("idValue"), "")
        elif field["type"] == "checkbox":
            raw = str(value.get("checked", "")).lower() == "true"
        else:
            raw = str(value.get(field["type"], ""))
        if raw != "":
            values[field["name"]] = (field["type"], raw)
    return values


def _person(member: dict[str, Any]) -> Person:
    return Person(username=member.get("username", ""), name=member.get("fullName", ""))


def _ticket(
    card: dict[str, Any],
    where: str,
    lists: dict[str, str],
    labels: dict[str, str],
    members: dict[str, Any],
    checklists: dict[str, list[ChecklistRecord]],
    comments: dict[str, list[CommentRecord]],
    created: dict[str, datetime | None],
) -> TicketRecord:
    card_id = card.get("id")
    title = (card.get("name") or "").strip()
    if not card_id or not title:
        raise SourceError(where, "a card needs an id and a name.")
    short = card.get("shortLink") or card_id
    column = lists[card["idList"]]
    assigned = [members[m] for m in card.get("idMembers", []) if m in members]
    # Comments come newest first in the export; the timeline reads oldest first.
    card_comments = sorted(comments.get(card_id, []), key=lambda c: c.created_at or datetime.min.replace(tzinfo=UTC))
    return TicketRecord(
        source_id=card_id,
        title=title[:500],
        position=f"{where} ({short})",
        reference=f"card {short}",
        url=card.get("url") or "",
        body=card.get("desc", ""),
        column=column[:100],
        category=category_for(column),
        assignee=_person(assigned[0]) if assigned else Person(),
        watchers=[_person(member) for member in assigned[1:]],
        labels=[labels[label] for label in card.get("idLabels", []) if label in labels],
        due_date=parse_date(card.get("due"), where),
        created_at=created.get(card_id) or _id_time(card_id),
        updated_at=parse_datetime(card.get("dateLastActivity"), where),
        comments=card_comments,
        checklist=checklists.get(card_id, []),
        attachments=[(a.get("name") or a["url"], a["url"]) for a in card.get("attachments", []) if a.get("url")],
    )
