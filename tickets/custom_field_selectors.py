"""Reads of custom fields (issue 21): a project's field definitions and tickets' values.

Value JSON, one shape per type, the same on read and in timeline events, webhooks and
real-time events (tickets.services.custom_fields accepts it back on write):

- text, long_text, url: a string;
- number: a JSON number (an integer when it has no fraction);
- date: "YYYY-MM-DD";
- select: the option's name; multi_select: a list of option names, in the options' order;
- user: the member's username;
- checkbox: true or false.

A ticket without a value for a field has no key for it in `custom_fields`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from projects.models import Project
from punt.errors import NotFound
from punt.ranges import as_id
from tickets import fastpath
from tickets.models import CustomField, CustomFieldValue, Ticket

Type = CustomField.Type
TEXT_TYPES = (Type.TEXT, Type.LONG_TEXT, Type.URL)


def custom_fields_for_project(*, project: Project, deleted: bool = False) -> list[CustomField]:
    """The project's live fields (or, with `deleted`, its soft-deleted ones), in order, with
    their options: two queries (one when there are none)."""
    queryset = CustomField.objects.filter(project=project, deleted_at__isnull=not deleted)
    return list(queryset.order_by("position", "id").prefetch_related("options"))


def custom_fields_on_cards(*, project: Project) -> QuerySet[CustomField]:
    """The live fields a board card shows (show_on_card), in order: the compact card carries every
    value, and the board shows these (web.cards reads them with their options in one query)."""
    return CustomField.objects.filter(project=project, deleted_at__isnull=True, show_on_card=True).order_by(
        "position", "id"
    )


def custom_field_get(*, project: Project, field_id: Any, deleted: bool | None = False) -> CustomField:
    """One field of the project by id (`deleted`: False live only, True deleted only, None
    either), with its options; NotFound otherwise."""
    pk = as_id(str(field_id))
    queryset = CustomField.objects.filter(project=project).prefetch_related("options")
    if deleted is not None:
        queryset = queryset.filter(deleted_at__isnull=not deleted)
    found = queryset.filter(pk=pk).first() if pk is not None else None
    if found is None:
        raise NotFound("No such custom field.")
    return found


def tickets_with_value(field: CustomField) -> int:
    """How many tickets (live or in the bin) hold a value of `field`: what deleting it hides."""
    return CustomFieldValue.objects.filter(field=field).values("ticket_id").distinct().count()


def custom_field_payload(field: CustomField, *, with_count: bool = False) -> dict[str, Any]:
    """A field definition's JSON (CustomFieldSerializer); `with_count` adds tickets_with_value
    (one query)."""
    payload: dict[str, Any] = {
        "id": field.pk,
        "key": field.key,
        "name": field.name,
        "description": field.description,
        "type": field.type,
        "unit": field.unit,
        "required": field.required,
        "default": field.default,
        "show_on_card": field.show_on_card,
        "position": field.position,
        "options": [
            {"id": option.pk, "name": option.name, "color": option.color, "position": option.position}
            for option in field.options.all()
        ],
        "deleted_at": field.deleted_at.isoformat().replace("+00:00", "Z") if field.deleted_at else None,
    }
    if with_count:
        payload["tickets_with_value"] = tickets_with_value(field)
    return payload


def _number(value: float) -> int | float:
    return int(value) if value == int(value) else value


def json_value(field_type: str, row: tuple[Any, ...]) -> Any:
    """The JSON of one stored value: `row` is (text, number, date, option name, username, flag)."""
    text, number, day, option, username, flag = row
    if field_type in TEXT_TYPES:
        return text
    if field_type == Type.NUMBER:
        return None if number is None else _number(number)
    if field_type == Type.DATE:
        return day if isinstance(day, str) or day is None else day.isoformat()
    if field_type in (Type.SELECT, Type.MULTI_SELECT):
        return option
    if field_type == Type.USER:
        return username
    return None if flag is None else bool(flag)  # SQLite's driver reads a boolean as 0 or 1


def custom_values(tickets: Iterable[int] | QuerySet[Ticket]) -> dict[int, dict[str, Any]]:
    """{ticket id: {field key: value JSON}} of the tickets' values of live fields, in one query
    whatever the number of tickets (cards.cards() reads a page's or a board's values with it).

    `tickets`: ids, or a queryset of tickets (read as a subquery).
    """
    return values_from_rows(
        fastpath.card_custom_value_rows(tickets if isinstance(tickets, QuerySet) else list(tickets))
    )


def values_from_rows(rows: Iterable[tuple[Any, ...]]) -> dict[int, dict[str, Any]]:
    """{ticket id: {field key: value JSON}} of rows (ticket id, field key, field type, text, number,
    date, option name, username, flag) in field and option order (fastpath.card_custom_value_rows)."""
    found: dict[int, dict[str, Any]] = {}
    for ticket_id, key, field_type, *value in rows:
        values = found.setdefault(ticket_id, {})
        if field_type == Type.MULTI_SELECT:
            values.setdefault(key, []).append(value[3])
        else:
            values[key] = json_value(field_type, tuple(value))
    return found


def custom_values_of(ticket_id: int) -> dict[str, Any]:
    """One ticket's values (custom_values() of one id)."""
    return custom_values([ticket_id]).get(ticket_id, {})
