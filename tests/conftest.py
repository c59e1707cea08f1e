from __future__ import annotations

import asyncio
import asyncio.runners
import sys

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient


def _report_stuck_tasks() -> None:
    """Name the tasks that ignore their cancellation when a test's event loop closes.

    Closing the loop cancels every task and waits for all of them: one that swallows its
    cancellation (it happened, punt.realtime.consumers._leave_presence) hangs the suite in a
    fixture's teardown with nothing in the log. This prints such tasks' stacks after 10 s.
    """
    cancel_all = asyncio.runners._cancel_all_tasks  # type: ignore[attr-defined]

    def cancel_all_and_report(loop: asyncio.AbstractEventLoop) -> None:
        tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]

        def report() -> None:
            for task in tasks:
                if not task.done():
                    sys.stderr.write(f"\nA task ignores its cancellation: {task!r}\n")
                    task.print_stack(file=sys.stderr)
            sys.stderr.flush()

        if tasks:
            loop.call_later(10, report)
        cancel_all(loop)

    asyncio.runners._cancel_all_tasks = cancel_all_and_report  # type: ignore[attr-defined]


_report_stuck_tasks()


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    # Tests serve static files through the finders; there is no collected STATIC_ROOT to scan.
    settings.STATIC_ROOT = None
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate-limit counters live in the cache (Redis in CI's second run): start every test clean.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


ROLES = ["anonymous", "outsider", "viewer", "member", "admin", "owner"]


class Personas:
    """A project and one person per role (named personas, as in Healthchecks' tests)."""

    def __init__(self) -> None:
        from projects.models import Membership
        from tests.factories import MembershipFactory, ProjectFactory, UserFactory

        self.owner = UserFactory(username="olivia")
        self.project = ProjectFactory(owner_user=self.owner, name="Blog", key="BLOG")
        self.admin = MembershipFactory(
            project=self.project, user=UserFactory(username="adam"), role=Membership.Role.ADMIN
        ).user
        self.member = MembershipFactory(
            project=self.project, user=UserFactory(username="mary"), role=Membership.Role.MEMBER
        ).user
        self.viewer = MembershipFactory(
            project=self.project, user=UserFactory(username="victor"), role=Membership.Role.VIEWER
        ).user
        self.outsider = UserFactory(username="oscar")

    def user(self, role: str):
        return None if role == "anonymous" else getattr(self, role)

    def client(self, role: str) -> APIClient:
        client = APIClient()
        user = self.user(role)
        if user is not None:
            client.force_authenticate(user)
        return client

    def matrix(self, method: str, url: str | object, data: object = None, *, fresh=None) -> dict[str, int]:
        """One request per role; `url` may be a callable(role) when each needs its own target.

        `fresh` (a callable) runs before each request to rebuild state a write consumed.
        """
        statuses = {}
        for role in ROLES:
            if fresh is not None:
                fresh()
            target = url(role) if callable(url) else url
            body = data(role) if callable(data) else data
            response = getattr(self.client(role), method.lower())(target, body, format="json")
            statuses[role] = response.status_code
        return statuses


@pytest.fixture
def personas(db) -> Personas:
    return Personas()
