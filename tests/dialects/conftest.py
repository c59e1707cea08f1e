from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts import services as account_services
from projects.models import Membership, OrganizationMembership

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ISO_S = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def same_shape(actual: Any, example: Any, path: str = "$") -> None:
    """`actual` has exactly the keys of the document's `example`, with values of the same JSON types.

    A null in the example accepts null or anything; a timestamp string in the example must be
    matched by a timestamp of the same format.
    """
    if example is None:
        return
    if isinstance(example, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        assert set(actual) == set(example), f"{path}: keys {sorted(actual)} != document's {sorted(example)}"
        for key, value in example.items():
            same_shape(actual[key], value, f"{path}.{key}")
        return
    if isinstance(example, list):
        assert isinstance(actual, list), f"{path}: expected an array, got {actual!r}"
        if example:
            for index, item in enumerate(actual):
                same_shape(item, example[0], f"{path}[{index}]")
        return
    if actual is None:
        return
    if isinstance(example, bool):
        assert isinstance(actual, bool), f"{path}: expected a boolean, got {actual!r}"
    elif isinstance(example, int):
        assert isinstance(actual, int) and not isinstance(actual, bool), f"{path}: expected an integer, got {actual!r}"
    elif isinstance(example, str):
        assert isinstance(actual, str), f"{path}: expected a string, got {actual!r}"
        for pattern in (ISO_MS, ISO_S):
            if pattern.match(example):
                assert pattern.match(actual), f"{path}: {actual!r} is not formatted like {example!r}"


@dataclass
class Published:
    """Every event a service published, recorded synchronously inside publish() (any app)."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, event: str, payload: dict[str, Any], project_id: int | None) -> None:
        self.calls.append({"event": event, "payload": payload, "project_id": project_id})

    @property
    def names(self) -> list[str]:
        return [call["event"] for call in self.calls]

    def clear(self) -> None:
        self.calls.clear()


@pytest.fixture
def published(monkeypatch) -> Published:
    import punt.events

    recorder = Published()
    monkeypatch.setattr(punt.events, "_transaction_hooks", [*punt.events._transaction_hooks, recorder])
    return recorder


@pytest.fixture
def key_client():
    """An APIClient sending a fresh API key of `user` (with `scopes`; [] = all) as `how`."""

    def make(user: Any, scopes: list[str] | None = None, how: str = "header") -> APIClient:
        _key, raw = account_services.api_key_create(user=user, name="test", scopes=scopes or [])
        client = APIClient()
        if how == "header":
            client.credentials(HTTP_X_API_KEY=raw)
        else:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return make


@dataclass
class Mesh:
    """The organization `acme` with the project AM ("Agents Mesh"): the personas hold the same roles there."""

    org: Any
    project: Any


@pytest.fixture
def mesh(personas) -> Mesh:
    from tests.factories import MembershipFactory, OrganizationFactory, ProjectFactory

    org = OrganizationFactory(slug="acme", name="Acme")
    OrganizationMembership.objects.create(organization=org, user=personas.owner, role=OrganizationMembership.Role.OWNER)
    project = ProjectFactory(
        owner_user=None, organization=org, name="Agents Mesh", path="agents-mesh", key="AM", created_by=personas.owner
    )
    for role in ("admin", "member", "viewer"):
        MembershipFactory(project=project, user=personas.user(role), role=getattr(Membership.Role, role.upper()))
    return Mesh(org=org, project=project)


def query_count(client: APIClient, url: str) -> int:
    """Queries one GET of `url` costs (after a warm-up request, so one-off writes don't count)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert client.get(url).status_code == 200, url
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)
