"""Writes for a board's columns."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from projects.board_contents import board_contents
from projects.models import Column, Project
from projects.services.common import _UNSET, _check_choice
from punt.errors import Conflict
from punt.errors import invalid as _invalid
from punt.events import publish

DEFAULT_COLUMNS = (
    ("To Do", Column.Category.TODO),
    ("In Progress", Column.Category.IN_PROGRESS),
    ("Done", Column.Category.DONE),
)


def _column_payload(column: Column) -> dict[str, Any]:
    return {
        "id": column.pk,
        "project_id": column.project_id,
        "name": column.name,
        "order": column.order,
        "category": column.category,
        "wip_limit": column.wip_limit,
    }


def _check_column_name(*, project: Project, name: str, exclude_pk: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise _invalid("name", "This field may not be blank.")
    clash = project.columns.filter(name__iexact=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise _invalid("name", f"This board already has a column named '{name}'.")
    return name


@transaction.atomic
def columns_create_defaults(*, project: Project) -> list[Column]:
    """Give a project with no columns To Do / In Progress / Done (seed 001)."""
    if project.columns.exists():
        return list(project.columns.all())
    return Column.objects.bulk_create(
        Column(project=project, name=name, category=category, order=index)
        for index, (name, category) in enumerate(DEFAULT_COLUMNS)
    )


@transaction.atomic
def column_for_category(*, project: Project, category: str) -> Column:
    """The first column of `category`, created at the end of the board if none exists.

    Setting a ticket's status goes through this (DESIGN.md, "Columns").
    """
    column = project.columns.filter(category=category).order_by("order", "id").first()
    if column is not None:
        return column
    # Lock the project (as column_create does) and look again: parallel writers setting the
    # same new status must find the column the first of them created.
    Project.objects.select_for_update().filter(pk=project.pk).first()
    column = project.columns.filter(category=category).order_by("order", "id").first()
    if column is not None:
        return column
    last = project.columns.order_by("-order").values_list("order", flat=True).first()
    name = Column.Category(category).label
    if project.columns.filter(name__iexact=name).exists():
        name = f"{name} ({category})"
    return Column.objects.create(project=project, name=name, category=category, order=0 if last is None else last + 1)


@transaction.atomic
def column_create(
    *,
    project: Project,
    name: str,
    by: Any,
    category: str = Column.Category.TODO,
    wip_limit: int | None = None,
    tab_id: str | None = None,
) -> Column:
    """Add a column at the right end of the board."""
    _check_choice("category", category, Column.Category)
    # Lock the project so concurrent creates get distinct orders.
    Project.objects.select_for_update().filter(pk=project.pk).first()
    name = _check_column_name(project=project, name=name)
    last = project.columns.aggregate(last=Max("order"))["last"]
    try:
        with transaction.atomic():
            column = Column.objects.create(
                project=project,
                name=name,
                category=category,
                wip_limit=wip_limit,
                order=0 if last is None else last + 1,
            )
    except IntegrityError:
        raise _invalid("name", f"This board already has a column named '{name}'.") from None
    publish("board.column_created", _column_payload(column), project_id=project.pk, tab_id=tab_id, actor_id=by.pk)
    return column


@transaction.atomic
def column_update(
    *,
    column: Column,
    by: Any,
    name: str | None = None,
    category: str | None = None,
    wip_limit: int | None = _UNSET,
    tab_id: str | None = None,
) -> Column:
    """Rename, recategorise or set the WIP limit (`wip_limit=None` removes it)."""
    fields: list[str] = []
    if name is not None:
        column.name = _check_column_name(project=column.project, name=name, exclude_pk=column.pk)
        fields.append("name")
    if category is not None:
        _check_choice("category", category, Column.Category)
    if category is not None and category != column.category:
        # The cards' side first, while the column row still holds the old category.
        board_contents().column_recategorised(column=column, category=category, by=by)
        column.category = category
        fields.append("category")
    if wip_limit is not _UNSET:
        column.wip_limit = wip_limit
        fields.append("wip_limit")
    if fields:
        try:
            with transaction.atomic():
                column.save(update_fields=fields)
        except IntegrityError:
            raise _invalid("name", f"This board already has a column named '{column.name}'.") from None
        publish(
            "board.column_updated",
            _column_payload(column),
            project_id=column.project_id,
            tab_id=tab_id,
            actor_id=by.pk,
        )
    return column


@transaction.atomic
def column_delete(
    *, column: Column, by: Any, target: Column | None = None, tab_id: str | None = None
) -> dict[str, Any]:
    """Delete a column; its tickets go to the end of `target`, keeping their order.

    A column holding live tickets needs a target; the last column of a board stays.
    Returns {"moved": n, "target_column_id": id|None}.
    """
    project = column.project
    Project.objects.select_for_update().filter(pk=project.pk).first()
    if project.columns.count() <= 1:
        raise Conflict("A board keeps at least one column.")
    if target is not None:
        if target.pk == column.pk:
            raise _invalid("target_column_id", "The target must be another column.")
        if target.project_id != project.pk:
            raise _invalid("target_column_id", "The target column must be on the same board.")
    moved_ticket_ids = board_contents().column_empty(column=column, target=target, by=by)
    payload = {
        **_column_payload(column),
        "target_column_id": target.pk if target else None,
        "moved_ticket_ids": moved_ticket_ids,
    }
    column.delete()
    # Close the gap so orders stay 0..n-1.
    remaining = list(project.columns.order_by("order", "id"))
    for index, other in enumerate(remaining):
        other.order = index
    Column.objects.bulk_update(remaining, ["order"])
    publish("board.column_deleted", payload, project_id=project.pk, tab_id=tab_id, actor_id=by.pk)
    return {"moved": len(moved_ticket_ids), "target_column_id": payload["target_column_id"]}


@transaction.atomic
def columns_reorder(*, project: Project, order: Iterable[int], by: Any, tab_id: str | None = None) -> list[Column]:
    """Put the board's columns in `order`, which names every column exactly once."""
    order = list(order)
    columns = {c.pk: c for c in Column.objects.select_for_update().filter(project=project)}
    if len(order) != len(set(order)):
        raise _invalid("order", "Each column may appear only once.")
    if set(order) != set(columns):
        missing = sorted(set(columns) - set(order))
        unknown = sorted(set(order) - set(columns))
        parts = []
        if missing:
            parts.append(f"missing {missing}")
        if unknown:
            parts.append(f"not on this board {unknown}")
        raise _invalid("order", "List every column of the board exactly once (" + "; ".join(parts) + ").")
    for index, pk in enumerate(order):
        columns[pk].order = index
    result = [columns[pk] for pk in order]
    Column.objects.bulk_update(result, ["order"])
    publish(
        "board.columns_reordered",
        {"project_id": project.pk, "order": order},
        project_id=project.pk,
        tab_id=tab_id,
        actor_id=by.pk,
    )
    return result
