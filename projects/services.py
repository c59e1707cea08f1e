"""Writes for namespaces, projects, members, columns, labels and sprints.

Every function here is keyword-only, runs in one transaction and publishes its events
on commit (punt.events.publish).
"""

from __future__ import annotations

from django.db import transaction

from projects.models import Column, Project

DEFAULT_COLUMNS = (
    ("To Do", Column.Category.TODO),
    ("In Progress", Column.Category.IN_PROGRESS),
    ("Done", Column.Category.DONE),
)


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
    last = project.columns.order_by("-order").values_list("order", flat=True).first()
    name = Column.Category(category).label
    if project.columns.filter(name__iexact=name).exists():
        name = f"{name} ({category})"
    return Column.objects.create(project=project, name=name, category=category, order=0 if last is None else last + 1)
