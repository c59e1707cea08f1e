"""Custom field values (issue 21): checking a ticket's values against its project's fields and
writing them. ticket_create / ticket_update call custom_values_prepare() before they change
anything, then custom_values_insert() / custom_values_replace().

Value JSON per type: see tickets.custom_field_selectors. On write a select option may also be
named by its id (or its id as a string); null (or "", or []) clears.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from projects.models import Project
from punt.errors import invalid
from punt.ranges import as_id
from tickets.custom_field_selectors import custom_fields_for_project, custom_values_of, json_value
from tickets.models import CustomField, CustomFieldOption, CustomFieldValue, Ticket
from tickets.services.common import UNSET
from tickets.services.inputs import resolve_user

Type = CustomField.Type
TEXT_MAX = 1_000
LONG_TEXT_MAX = 100_000
URL_MAX = 2_000
NUMBER_MAX = 1e15  # beyond this a float no longer holds every integer exactly
_url = URLValidator(schemes=["http", "https"])


@dataclass
class Prepared:
    """Checked values of some fields: per field, its value rows (kwargs of CustomFieldValue
    without the ticket; none to clear) and its JSON."""

    rows: dict[int, list[dict[str, Any]]] = dataclass_field(default_factory=dict)
    json: dict[str, Any] = dataclass_field(default_factory=dict)
    fields: dict[int, CustomField] = dataclass_field(default_factory=dict)


def _option(field: CustomField, value: Any, name: str) -> CustomFieldOption:
    options = list(field.options.all())
    if isinstance(value, int) and not isinstance(value, bool):
        match = next((option for option in options if option.pk == value), None)
    elif isinstance(value, str):
        text = value.strip().lower()
        match = next((option for option in options if option.name.lower() == text), None)
        if match is None and (option_id := as_id(text)) is not None:
            match = next((option for option in options if option.pk == option_id), None)
    else:
        raise invalid(name, "Give an option's name or id.")
    if match is None:
        choices = ", ".join(option.name for option in options) or "none yet"
        raise invalid(name, f"'{value}' is not an option of {field.name} ({choices}).")
    return match


def clean_value(*, project: Project, field: CustomField, value: Any) -> tuple[list[dict[str, Any]], Any]:
    """Check `value` (API JSON) for `field`: (value rows, canonical JSON); ([], None) clears.

    Raises Invalid naming `custom_fields.<key>`.
    """
    name = f"custom_fields.{field.key}"
    if value is None or value == "" or value == []:
        return [], None
    kind = field.type
    if kind in (Type.TEXT, Type.LONG_TEXT, Type.URL):
        if not isinstance(value, str):
            raise invalid(name, "Must be a string.")
        text = value if kind == Type.LONG_TEXT else " ".join(value.split())
        limit = {Type.TEXT: TEXT_MAX, Type.LONG_TEXT: LONG_TEXT_MAX, Type.URL: URL_MAX}[Type(kind)]
        if len(text) > limit:
            raise invalid(name, f"At most {limit} characters.")
        if kind == Type.URL:
            try:
                _url(text)
            except ValidationError:
                raise invalid(name, "Must be an http or https URL.") from None
        if not text.strip():
            return [], None
        return [{"text": text}], text
    if kind == Type.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise invalid(name, "Must be a number.")
        number = float(value)
        if not math.isfinite(number) or abs(number) > NUMBER_MAX:
            raise invalid(name, f"Must be a number between -{NUMBER_MAX:.0e} and {NUMBER_MAX:.0e}.")
        return [{"number": number}], json_value(kind, (None, number, None, None, None, None))
    if kind == Type.DATE:
        if isinstance(value, date):
            day = value
        else:
            try:
                day = date.fromisoformat(str(value))
            except ValueError:
                raise invalid(name, "Must be a date, YYYY-MM-DD.") from None
        return [{"date": day}], day.isoformat()
    if kind == Type.SELECT:
        option = _option(field, value, name)
        return [{"option": option}], option.name
    if kind == Type.MULTI_SELECT:
        if not isinstance(value, list):
            raise invalid(name, "Must be a list of options.")
        chosen = {option.pk: option for option in (_option(field, item, name) for item in value)}
        ordered = sorted(chosen.values(), key=lambda option: (option.position, option.pk))
        return [{"option": option} for option in ordered], [option.name for option in ordered]
    if kind == Type.USER:
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise invalid(name, "Must be a member's username.")
        user = resolve_user(project=project, value=value, field=name)
        assert user is not None  # a value that clears returned above
        return [{"user": user}], user.username
    if not isinstance(value, bool):
        raise invalid(name, "Must be true or false.")
    return [{"flag": value}], value


def custom_values_prepare(
    *, project: Project, values: Any, creating: bool, fields: list[CustomField] | None = None
) -> Prepared:
    """Check `values` ({key: JSON}, or UNSET) against the project's live fields.

    Creating: fields not given get their default, and every required field must end with a
    value. Updating: only the given keys change; a required field cannot be cleared.
    `fields`: the project's live fields if the caller has them (custom_fields_for_project).
    """
    if values is UNSET or values is None:
        values = {}
    if not isinstance(values, Mapping):
        raise invalid("custom_fields", "Must be an object of field key to value.")
    prepared = Prepared()
    if not values and not creating:
        return prepared
    by_key = {field.key: field for field in (custom_fields_for_project(project=project) if fields is None else fields)}
    unknown = [key for key in values if key not in by_key]
    if unknown:
        raise invalid(f"custom_fields.{unknown[0]}", f"No custom field '{unknown[0]}' in this project.")
    for key, field in by_key.items():
        if key in values:
            value = values[key]
        elif creating and field.default is not None:
            value = field.default
        else:
            if creating and field.required:
                raise invalid(f"custom_fields.{key}", f"{field.name} is required.")
            continue
        rows, value_json = clean_value(project=project, field=field, value=value)
        if not rows and field.required:
            raise invalid(f"custom_fields.{key}", f"{field.name} is required.")
        prepared.rows[field.pk] = rows
        prepared.fields[field.pk] = field
        if value_json is not None:
            prepared.json[key] = value_json
    return prepared


def custom_values_insert(*, ticket: Ticket, prepared: Prepared) -> dict[str, Any]:
    """Write a new ticket's values; returns its custom_fields JSON (in field order)."""
    rows = [
        CustomFieldValue(ticket=ticket, field_id=field_id, **row)
        for field_id, field_rows in prepared.rows.items()
        for row in field_rows
    ]
    if rows:
        CustomFieldValue.objects.bulk_create(rows)
    return dict(prepared.json)


def custom_values_replace(*, ticket: Ticket, prepared: Prepared) -> tuple[dict[str, Any], dict[str, Any]]:
    """Replace the ticket's values of the prepared fields. Returns (old, new): the JSON of the
    keys whose value changed, before and after (null for no value), for the `update` event."""
    if not prepared.rows:
        return {}, {}
    before = custom_values_of(ticket.pk)
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    changed: list[int] = []
    for field_id, field in prepared.fields.items():
        if before.get(field.key) != prepared.json.get(field.key):
            old[field.key], new[field.key] = before.get(field.key), prepared.json.get(field.key)
            changed.append(field_id)
    if changed:
        CustomFieldValue.objects.filter(ticket=ticket, field_id__in=changed).delete()
        CustomFieldValue.objects.bulk_create(
            [
                CustomFieldValue(ticket=ticket, field_id=field_id, **row)
                for field_id in changed
                for row in prepared.rows[field_id]
            ]
        )
    return old, new
