"""Custom fields (issue 21): managing a project's fields, and checking and writing tickets' values.

Field management (create, update, delete, restore, reorder, purge) is for project admins;
callers have checked the role. Values are written by ticket_create / ticket_update through
tickets.services.custom_values, so a value change is a ticket change like any other: one
`update` event, the card event, webhooks, watchers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from projects.models import Project
from punt import events
from punt.errors import Conflict, Invalid, invalid
from tickets.custom_field_selectors import (
    custom_field_payload,
    custom_fields_for_project,
    tickets_with_value,
)
from tickets.models import CustomField, CustomFieldOption, CustomFieldValue
from tickets.services.common import UNSET, _actor_id
from tickets.services.custom_values import clean_value

Type = CustomField.Type
NAME_MAX = 100
KEY_MAX = 50
OPTIONS_MAX = 200
FIELDS_MAX = 100  # per project
PURGE_AFTER = timedelta(days=30)
COLOR_DEFAULT = "#6b7280"


# --------------------------------------------------------------------------- fields


def _clean_name(name: Any) -> str:
    cleaned = " ".join(str(name or "").split())
    if not cleaned:
        raise invalid("name", "A name is required.")
    if len(cleaned) > NAME_MAX:
        raise invalid("name", f"A name has at most {NAME_MAX} characters.")
    return cleaned


def _live_keys(project: Project, exclude: int | None = None) -> set[str]:
    queryset = CustomField.objects.filter(project=project, deleted_at__isnull=True)
    if exclude is not None:
        queryset = queryset.exclude(pk=exclude)
    return set(queryset.values_list("key", flat=True))


def _derive_key(name: str, taken: set[str]) -> str:
    """A machine key from the name ("Customer tier" -> customer_tier), made unique with _2, _3."""
    base = (slugify(name).replace("-", "_") or "field")[: KEY_MAX - 4]
    if base[0].isdigit():
        base = f"f_{base}"[: KEY_MAX - 4]
    key, number = base, 2
    while key in taken:
        key, number = f"{base}_{number}", number + 1
    return key


def _clean_key(key: Any, taken: set[str]) -> str:
    text = str(key).strip()
    if not text or len(text) > KEY_MAX or slugify(text).replace("-", "_") != text or text[0].isdigit():
        raise invalid("key", "Lower-case letters, digits and underscores, starting with a letter.")
    if text in taken:
        raise invalid("key", f"Another field of this project has the key '{text}'.")
    return text


def _clean_color(color: Any) -> str:
    text = str(color or COLOR_DEFAULT).strip()
    if len(text) != 7 or text[0] != "#" or any(char not in "0123456789abcdefABCDEF" for char in text[1:]):
        raise invalid("options", f"'{text}' is not a colour like #aabbcc.")
    return text.lower()


def _save_options(field: CustomField, options: Sequence[Any]) -> dict[str, str]:
    """Make the field's options the list given, in that order: an item with an `id` renames or
    recolours that option (values keep pointing at it), one without adds an option, and an
    option left out is deleted with its values. Returns {old name: new name} of renames."""
    if field.type not in (Type.SELECT, Type.MULTI_SELECT):
        if options:
            raise invalid("options", "Only select fields have options.")
        return {}
    if not isinstance(options, list | tuple) or len(options) > OPTIONS_MAX:
        raise invalid("options", f"Give a list of at most {OPTIONS_MAX} options.")
    existing = {option.pk: option for option in field.options.all()}
    seen_names: set[str] = set()
    kept: list[CustomFieldOption] = []
    renamed: dict[str, str] = {}
    parked: list[int] = []
    for position, item in enumerate(options):
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, Mapping):
            raise invalid("options", "Each option is {name, color} (with its id to keep an existing one).")
        name = " ".join(str(item.get("name") or "").split())
        if not name or len(name) > NAME_MAX:
            raise invalid("options", f"An option needs a name of at most {NAME_MAX} characters.")
        if name.lower() in seen_names:
            raise invalid("options", f"Two options are named '{name}'.")
        seen_names.add(name.lower())
        option_id = item.get("id")
        if option_id is not None:
            option = existing.get(option_id) if isinstance(option_id, int) else None
            if option is None or option in kept:
                raise invalid("options", f"Option {option_id} is not an option of this field.")
            if option.name != name:
                renamed[option.name] = name
                parked.append(option.pk)
        else:
            option = CustomFieldOption(field=field)
        option.name, option.position = name, position
        option.color = _clean_color(item.get("color", option.color if option.pk else COLOR_DEFAULT))
        kept.append(option)
    CustomFieldOption.objects.filter(field=field).exclude(pk__in=[option.pk for option in kept if option.pk]).delete()
    # Renames may swap two names: park the renamed ones first so the unique constraint holds.
    for option_id in parked:
        CustomFieldOption.objects.filter(pk=option_id).update(name=f"(renaming {option_id})")
    for option in kept:
        option.save()
    field._prefetched_objects_cache = {}  # type: ignore[attr-defined]  # re-read options on next use
    return renamed


def _renamed_default(default: Any, renamed: dict[str, str]) -> Any:
    if isinstance(default, str):
        return renamed.get(default, default)
    if isinstance(default, list):
        return [renamed.get(item, item) if isinstance(item, str) else item for item in default]
    return default


def _clean_default(field: CustomField, default: Any) -> Any:
    if default is None:
        return None
    _rows, value_json = clean_value(project=field.project, field=field, value=default)
    return value_json


def _publish(event: str, field: CustomField, by: Any) -> None:
    events.publish(event, custom_field_payload(field), project_id=field.project_id, actor_id=_actor_id(by))


@transaction.atomic
def custom_field_create(
    *,
    project: Project,
    by: Any,
    name: Any,
    type: Any,
    key: Any = None,
    description: str = "",
    unit: str = "",
    required: bool = False,
    default: Any = None,
    show_on_card: bool = False,
    options: Sequence[Any] = (),
) -> CustomField:
    """Add a field at the end of the project's fields. The caller has checked MANAGE."""
    name = _clean_name(name)
    if type not in Type.values:
        raise invalid("type", f"'{type}' is not one of {', '.join(Type.values)}.")
    taken = _live_keys(project)
    if len(taken) >= FIELDS_MAX:
        raise invalid("non_field_errors", f"A project has at most {FIELDS_MAX} custom fields.")
    last = CustomField.objects.filter(project=project).order_by("-position").values_list("position", flat=True).first()
    field = CustomField.objects.create(
        project=project,
        key=_derive_key(name, taken) if key in (None, "") else _clean_key(key, taken),
        name=name,
        description=str(description or "")[:2000],
        type=type,
        unit=str(unit or "").strip()[:20] if type == Type.NUMBER else "",
        required=bool(required),
        show_on_card=bool(show_on_card),
        position=0 if last is None else last + 1,
    )
    _save_options(field, options or [])
    if default is not None:
        field.default = _clean_default(field, default)
        field.save(update_fields=["default"])
    _publish("custom_field.created", field, by)
    return field


@transaction.atomic
def custom_field_update(
    *,
    field: CustomField,
    by: Any,
    name: Any = UNSET,
    key: Any = UNSET,
    description: Any = UNSET,
    unit: Any = UNSET,
    required: Any = UNSET,
    default: Any = UNSET,
    show_on_card: Any = UNSET,
    options: Any = UNSET,
) -> CustomField:
    """Change the given attributes of a live field (its type never changes: values are stored
    by type). Options: see _save_options; a rename keeps every ticket's value."""
    if field.deleted_at is not None:
        raise Conflict("This custom field is deleted; restore it first.")
    if name is not UNSET:
        field.name = _clean_name(name)
    if key is not UNSET and key != field.key:
        field.key = _clean_key(key, _live_keys(field.project, exclude=field.pk))
    if description is not UNSET:
        field.description = str(description or "")[:2000]
    if unit is not UNSET:
        field.unit = str(unit or "").strip()[:20] if field.type == Type.NUMBER else ""
    if required is not UNSET:
        field.required = bool(required)
    if show_on_card is not UNSET:
        field.show_on_card = bool(show_on_card)
    if options is not UNSET:
        renamed = _save_options(field, options or [])
        field.default = _renamed_default(field.default, renamed)
    if default is not UNSET:
        field.default = _clean_default(field, default)
    elif options is not UNSET and field.default is not None:
        try:
            field.default = _clean_default(field, field.default)
        except Invalid:  # the default's option was removed: no default any more
            field.default = None
    field.save(
        update_fields=["name", "key", "description", "unit", "required", "show_on_card", "default", "updated_at"]
    )
    _publish("custom_field.updated", field, by)
    return field


@transaction.atomic
def custom_field_delete(*, field: CustomField, by: Any, confirm: bool = False) -> int:
    """Soft-delete a field: it and its values disappear from cards, PQL and forms, and stay
    restorable for 30 days. Without `confirm`, a field that tickets hold values of is a
    Conflict naming how many (the API's two-step delete). Returns that count."""
    if field.deleted_at is not None:
        return 0
    count = tickets_with_value(field)
    if count and not confirm:
        raise Conflict(
            f"{count} ticket{'s' if count != 1 else ''} have a value of {field.name}. "
            "Send the request again with ?confirm=true to delete the field (restorable for 30 days)."
        )
    field.deleted_at = timezone.now()
    field.deleted_by = by if getattr(by, "pk", None) else None
    field.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
    _publish("custom_field.deleted", field, by)
    return count


@transaction.atomic
def custom_field_restore(*, field: CustomField, by: Any) -> CustomField:
    """Bring back a soft-deleted field with its values (at the end of the list)."""
    if field.deleted_at is None:
        raise invalid("non_field_errors", f"{field.name} is not deleted.")
    if field.key in _live_keys(field.project):
        raise Conflict(f"Another field now has the key '{field.key}'; rename that one first.")
    last = CustomField.objects.filter(project=field.project).order_by("-position").values_list("position", flat=True)
    field.position = (last.first() or 0) + 1
    field.deleted_at = None
    field.deleted_by = None
    field.save(update_fields=["deleted_at", "deleted_by", "position", "updated_at"])
    _publish("custom_field.restored", field, by)
    return field


@transaction.atomic
def custom_fields_reorder(*, project: Project, by: Any, order: Sequence[int]) -> list[CustomField]:
    """Put the project's live fields in the order of `order` (every live field's id, once)."""
    fields = custom_fields_for_project(project=project)
    by_id = {field.pk: field for field in fields}
    if sorted(order) != sorted(by_id) or len(set(order)) != len(order):
        raise invalid("order", "Give every custom field's id of this project once.")
    for position, field_id in enumerate(order):
        by_id[field_id].position = position
    CustomField.objects.bulk_update(fields, ["position"])
    fields.sort(key=lambda field: field.position)
    events.publish("custom_field.reordered", {"order": list(order)}, project_id=project.pk, actor_id=_actor_id(by))
    return fields


@transaction.atomic
def custom_fields_purge(*, now: Any = None) -> int:
    """Delete for good the fields soft-deleted more than 30 days ago, with their options and
    values (`manage.py custom_fields_purge`, daily from cron). Returns how many fields went."""
    cutoff = (now or timezone.now()) - PURGE_AFTER
    doomed = CustomField.objects.filter(deleted_at__lt=cutoff)
    count = doomed.count()
    if count:
        CustomFieldValue.objects.filter(field__in=doomed).delete()
        doomed.delete()
    return count
