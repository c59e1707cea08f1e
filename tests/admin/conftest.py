from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.services import api_key_create
from tests.factories import UserFactory


def as_user(user: Any) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def with_key(user: Any, scopes: list[str]) -> APIClient:
    _key, raw = api_key_create(user=user, name=f"key {scopes}", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    return client


def error_shape(body: dict[str, Any], *, details: bool = False) -> None:
    assert isinstance(body.get("error"), str) and body["error"]
    if details:
        assert set(body) == {"error", "details"}
        assert body["details"] and all(set(d) == {"field", "message"} for d in body["details"])
    else:
        assert set(body) == {"error"}


class Site:
    """Site-level personas: a site admin, a user with the metrics role, a plain user."""

    def __init__(self) -> None:
        self.admin = UserFactory(username="sam", is_staff=True)
        self.metrics = UserFactory(username="max", global_roles=["metrics"])
        self.user = UserFactory(username="nora")

    def matrix(self, method: str, url: str | Any, data: Any = None, *, fresh: Any = None) -> dict[str, int]:
        """One request per kind of caller, compared as a whole row (taiga-style).

        `url` and `data` may be callables(caller) when each request needs its own.
        """
        callers = {
            "anonymous": lambda: as_user(None),
            "user": lambda: as_user(self.user),
            "metrics": lambda: as_user(self.metrics),
            "key_without_admin_scope": lambda: with_key(self.admin, ["projects:write", "tickets:write"]),
            "admin_key": lambda: with_key(self.admin, ["admin"]),
            "admin": lambda: as_user(self.admin),
        }
        statuses = {}
        for name, make_client in callers.items():
            if fresh is not None:
                fresh()
            target = url(name) if callable(url) else url
            body = data(name) if callable(data) else data
            response = getattr(make_client(), method.lower())(target, body, format="json")
            statuses[name] = response.status_code
        return statuses


@pytest.fixture
def site(db) -> Site:
    return Site()
