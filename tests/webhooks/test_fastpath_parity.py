"""webhooks.fastpath against its ORM twin, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from webhooks import fastpath
from webhooks.models import Hook

pytestmark = pytest.mark.django_db


def orm_has_active_hook(project_id: int) -> bool:
    return Hook.objects.filter(project_id=project_id, active=True).exists()


def test_has_active_hook_matches_the_orm(personas):
    project = personas.project
    states = []
    for step in ("none", "inactive", "active"):
        if step == "inactive":
            Hook.objects.create(project=project, url="https://example.com/a", secret="s", active=False)
        if step == "active":
            Hook.objects.create(project=project, url="https://example.com/b", secret="s", active=True)
        states.append(fastpath.has_active_hook(project_id=project.pk))
        assert states[-1] == orm_has_active_hook(project.pk)
    assert states == [False, False, True]
