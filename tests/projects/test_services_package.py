"""projects.services is a package split by subject, and reaches tickets only through a hook.

The behaviour of each service is tested through the API next door (test_columns, test_sprints,
test_projects); these tests pin the shape: the public names callers import, the hook the tickets
app fills in, and what happens when nothing fills it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import projects.services
from projects import board_contents
from projects import services as project_services
from tickets.services.board import TicketBoardContents

PACKAGE = Path(projects.services.__file__).parent


def test_every_exported_name_is_there():
    missing = [name for name in project_services.__all__ if not hasattr(project_services, name)]
    assert missing == []


@pytest.mark.parametrize(
    "name",
    [
        # What views, pages, dialects, the admin, commands and the tickets app call.
        "project_create",
        "project_update",
        "project_archive",
        "project_restore",
        "project_delete",
        "project_transfer_ownership",
        "membership_add",
        "membership_update",
        "membership_remove",
        "membership_leave",
        "organization_create",
        "organization_slug_taken",
        "column_create",
        "column_update",
        "column_delete",
        "columns_reorder",
        "columns_create_defaults",
        "column_for_category",
        "label_create",
        "label_update",
        "label_delete",
        "sprint_create",
        "sprint_update",
        "sprint_delete",
        "sprint_start",
        "sprint_complete",
        "BURNDOWN_MAX_DAYS",
        "PALETTE",
    ],
)
def test_callers_names_are_re_exported(name):
    assert name in project_services.__all__


def test_each_subject_module_stays_small():
    sizes = {path.name: len(path.read_text(encoding="utf-8").splitlines()) for path in PACKAGE.glob("*.py")}
    assert {name: size for name, size in sizes.items() if size > 400} == {}


def test_the_tickets_app_fills_the_board_contents_hook():
    assert isinstance(board_contents.board_contents(), TicketBoardContents)


def test_without_board_contents_a_service_fails_loudly(personas, monkeypatch):
    monkeypatch.setattr(board_contents, "_registered", None)
    column = personas.project.columns.get(name="To Do")
    with pytest.raises(RuntimeError, match="No board contents registered"):
        project_services.column_delete(column=column, by=personas.owner)
    assert personas.project.columns.filter(pk=column.pk).exists()
