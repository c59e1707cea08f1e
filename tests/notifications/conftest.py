from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

# The chat tests' in-memory channel layer fixture: notifications travel on the same bus.
from tests.chat.conftest import fresh_layer  # noqa: F401

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def mail_tasks(settings, django_capture_on_commit_callbacks) -> Callable[..., Any]:
    """Run `action()` and then what it left for after its commit, with tasks run on the spot.

    The test's transaction never commits, so on-commit work (enqueueing the e-mail task) is
    captured and run when the action returns, as it would be after a real commit.
    """
    settings.TASKS = IMMEDIATE
    settings.SITE_URL = "https://punt.example.com"

    def run(action: Callable[[], Any]) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    return run
