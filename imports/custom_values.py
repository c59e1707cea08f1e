"""An import's custom fields: matched by name to the project's live fields, missing ones made
through the custom-field service, values checked with its rule (clean_value) and written in bulk
per batch."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.db.models import prefetch_related_objects

from accounts.models import User
from imports.records import (
    BATCH,
    CustomFieldRecord,
)
from imports.report import Report
from imports.sources.common import SourceError, parse_datetime, split_list
from projects.models import Project
from punt import errors
from punt.errors import PuntError
from tickets.models import (
    CustomField,
    CustomFieldOption,
    CustomFieldValue,
)
from tickets.services.custom_fields import OPTIONS_MAX, custom_field_create
from tickets.services.custom_values import clean_value

FieldType = CustomField.Type

_TRUE = {"true", "yes", "y", "1", "x", "on", "checked"}
_FALSE = {"false", "no", "n", "0", "off", "unchecked"}


def _field_value(field: CustomField, raw: Any) -> Any:
    """A source's raw value as the API JSON clean_value() reads for `field`'s type. Sources give
    text (the archive gives JSON already); text that cannot be read as the type is passed on as
    it is, so that clean_value's message says what is wrong with it."""
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    if not text:
        return None
    kind = field.type
    if kind == FieldType.NUMBER:
        try:
            return float(text)
        except ValueError:
            return text
    if kind == FieldType.DATE:
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
        try:
            when = parse_datetime(text)
        except PuntError:
            return text
        return when.date() if when else None
    if kind == FieldType.MULTI_SELECT:
        return split_list(text)
    if kind == FieldType.CHECKBOX:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
    return raw


def _lookup(name: str) -> str:
    """A field name as fields are matched: any case, spaces as the service keeps them."""
    return " ".join(name.split())[:100].lower()


def _field_type(kinds: set[str]) -> str:
    """The type of a field made for a batch's values: the guessed type they share, else text
    (the only one that holds them all)."""
    if len(kinds) == 1 and (kind := next(iter(kinds))) in FieldType.values:
        return kind
    return FieldType.TEXT


def _add_options(field: CustomField, names: Iterable[str], report: Report) -> None:
    """Options of a select field named by the import's values that it lacks yet, at the end."""
    if field.type not in (FieldType.SELECT, FieldType.MULTI_SELECT):
        return
    options = list(field.options.all())
    have = {option.name.lower() for option in options}
    missing: dict[str, str] = {}
    for name in names:
        name = " ".join(name.split())[:100]
        if name and name.lower() not in have:
            missing.setdefault(name.lower(), name)
    if not missing:
        return
    if len(options) + len(missing) > OPTIONS_MAX:
        message = f"its values name {len(options) + len(missing)} options; a field has at most {OPTIONS_MAX}."
        raise SourceError(f"custom field {field.name!r}", message)
    last = max((option.position for option in options), default=-1)
    CustomFieldOption.objects.bulk_create(
        CustomFieldOption(field=field, name=name, position=last + n) for n, name in enumerate(missing.values(), 1)
    )
    report.custom_fields[field.name].setdefault("options_created", []).extend(missing.values())
    field._prefetched_objects_cache = {}  # type: ignore[attr-defined]  # read the options again
    prefetch_related_objects([field], "options")


def custom_field_definition(*, project: Project, by: User, record: CustomFieldRecord, report: Report) -> None:
    """A field the archive defines (with its options, colours, default and flags): made through
    the custom-field service unless the project has a live field of that name already, which
    is kept as it is (its values are still set from the tickets)."""
    live = CustomField.objects.filter(project=project, deleted_at__isnull=True)
    if live.filter(name__iexact=record.name.strip()).exists():
        return
    key = record.key if record.key and not live.filter(key=record.key).exists() else None
    try:
        field = custom_field_create(
            project=project,
            by=by,
            name=record.name,
            type=record.type,
            key=key,
            description=record.description,
            unit=record.unit,
            required=record.required,
            default=record.default,
            show_on_card=record.show_on_card,
            options=[{"name": name, "color": color or None} for name, color in record.options],
        )
    except PuntError as exc:
        raise SourceError(f"custom field {record.name!r}", errors.message(exc)) from None
    report.custom_fields[field.name] = {"type": field.type, "created": True, "tickets": 0}


def apply_custom_fields(
    *,
    project: Project,
    by: User,
    values: list[tuple[int, dict[str, tuple[str, Any]]]],
    report: Report,
    where: Mapping[int, str] | None = None,
) -> None:
    """Custom-field values of a batch of written tickets: [(ticket id, {name: (type, raw)})].

    Fields are matched to the project's live fields by name (any case); a missing one is made
    (custom-field service) with the guessed type, and a select field gets the options its
    values name. The values are checked with clean_value(), the rule ticket_update follows,
    and written in bulk: the batch's rows of the fields named replace the old ones, so a
    re-import updates them. A value that does not fit its field fails the import (SourceError
    naming the ticket's line/item from `where`). No event per ticket: the import's summary
    event covers them. Fields' defaults are not filled in and required fields may stay empty:
    an import keeps the source's values as they are (an archive's round trip stays exact), as
    tickets made before a field became required keep theirs.
    """
    kinds: dict[str, set[str]] = {}
    spelled: dict[str, str] = {}
    named: set[str] = set()
    for _, fields in values:
        for name, (kind, raw) in fields.items():
            named.add(_lookup(name))
            if raw is None or raw == "" or raw == []:
                continue
            kinds.setdefault(_lookup(name), set()).add(kind)
            spelled.setdefault(_lookup(name), " ".join(name.split())[:100])
    if not named:
        return
    live = {
        _lookup(field.name): field
        for field in CustomField.objects.filter(project=project, deleted_at__isnull=True).prefetch_related("options")
    }
    for lowered, name in spelled.items():
        if lowered not in live:
            try:
                live[lowered] = custom_field_create(project=project, by=by, name=name, type=_field_type(kinds[lowered]))
            except PuntError as exc:
                raise SourceError(f"custom field {name!r}", errors.message(exc)) from None
            report.custom_fields[live[lowered].name] = {"type": live[lowered].type, "created": True, "tickets": 0}
        field = live[lowered]
        report.custom_fields.setdefault(field.name, {"type": field.type, "created": False, "tickets": 0})
    # Options the values name that the select fields lack.
    option_names: dict[int, list[str]] = {}
    converted: list[tuple[int, CustomField, Any]] = []
    for ticket_id, fields in values:
        for name, (_kind, raw) in fields.items():
            if _lookup(name) not in live:
                continue
            field = live[_lookup(name)]
            value = _field_value(field, raw)
            converted.append((ticket_id, field, value))
            if field.type == FieldType.SELECT and isinstance(value, str):
                option_names.setdefault(field.pk, []).append(value)
            elif field.type == FieldType.MULTI_SELECT and isinstance(value, list):
                option_names.setdefault(field.pk, []).extend(item for item in value if isinstance(item, str))
    by_id = {field.pk: field for field in live.values()}
    for field_id, names in option_names.items():
        _add_options(by_id[field_id], names, report)
    # Check every value, then replace the batch's rows of these fields in two statements.
    checked: dict[tuple[int, str], list[dict[str, Any]]] = {}
    rows: list[CustomFieldValue] = []
    for ticket_id, field, value in converted:
        memo = (field.pk, repr(value))
        if memo not in checked:
            try:
                checked[memo] = clean_value(project=project, field=field, value=value)[0]
            except PuntError as exc:
                at = (where or {}).get(ticket_id, f"ticket {ticket_id}")
                raise SourceError(at, f"custom field {field.name!r}: {errors.message(exc)}") from None
        rows += [CustomFieldValue(ticket_id=ticket_id, field_id=field.pk, **row) for row in checked[memo]]
        if checked[memo]:
            report.custom_fields[field.name]["tickets"] += 1
    # Only the fields the batch names: values of fields the source does not know (set here
    # since the last import) stay.
    CustomFieldValue.objects.filter(
        ticket_id__in=[ticket_id for ticket_id, _ in values],
        field_id__in=[live[name].pk for name in named if name in live],
    ).delete()
    CustomFieldValue.objects.bulk_create(rows, batch_size=BATCH * 2)
    report.custom_values += len(rows)
