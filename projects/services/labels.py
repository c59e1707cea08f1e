"""Writes for a project's labels."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from projects.models import Label, Project
from projects.services.common import color_pick, color_validate
from punt.errors import invalid as _invalid
from punt.events import publish


def _label_payload(label: Label) -> dict[str, Any]:
    return {
        "id": label.pk,
        "project_id": label.project_id,
        "name": label.name,
        "color": label.color,
        "description": label.description,
    }


def _check_label_name(*, project: Project, name: str, exclude_pk: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise _invalid("name", "This field may not be blank.")
    clash = project.labels.filter(name__iexact=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise _invalid("name", f"This project already has a label named '{name}'.")
    return name


@transaction.atomic
def label_create(
    *,
    project: Project,
    name: str,
    by: Any,
    color: str | None = None,
    description: str = "",
    tab_id: str | None = None,
) -> Label:
    name = _check_label_name(project=project, name=name)
    color = color_validate(color) if color else color_pick(name)
    try:
        with transaction.atomic():
            label = Label.objects.create(project=project, name=name, color=color, description=description)
    except IntegrityError:
        raise _invalid("name", f"This project already has a label named '{name}'.") from None
    publish("label.created", _label_payload(label), project_id=project.pk, tab_id=tab_id, actor_id=by.pk)
    return label


@transaction.atomic
def label_update(
    *,
    label: Label,
    by: Any,
    name: str | None = None,
    color: str | None = None,
    description: str | None = None,
    tab_id: str | None = None,
) -> Label:
    fields: list[str] = []
    if name is not None:
        label.name = _check_label_name(project=label.project, name=name, exclude_pk=label.pk)
        fields.append("name")
    if color is not None:
        label.color = color_validate(color)
        fields.append("color")
    if description is not None:
        label.description = description
        fields.append("description")
    if fields:
        try:
            with transaction.atomic():
                label.save(update_fields=fields)
        except IntegrityError:
            raise _invalid("name", f"This project already has a label named '{label.name}'.") from None
        publish("label.updated", _label_payload(label), project_id=label.project_id, tab_id=tab_id, actor_id=by.pk)
    return label


@transaction.atomic
def label_delete(*, label: Label, by: Any, tab_id: str | None = None) -> None:
    """Delete a label; tickets simply lose it."""
    payload = _label_payload(label)
    label.delete()
    publish("label.deleted", payload, project_id=payload["project_id"], tab_id=tab_id, actor_id=by.pk)
