from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.services import api_key_create
from tests.factories import UserFactory


def as_user(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def with_jwt(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def with_key(user: Any, scopes: list[str]) -> APIClient:
    _key, raw = api_key_create(user=user, name=f"key {scopes}", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    return client


def assert_error_shape(body: dict[str, Any]) -> None:
    assert set(body) == {"error"}
    assert isinstance(body["error"], str) and body["error"]


class Staff:
    """Site-level personas: a site admin and one user per other global role."""

    def __init__(self) -> None:
        self.site_admin = UserFactory(username="sam", is_staff=True)
        self.backup_role = UserFactory(username="bea", global_roles=["backup"])
        self.metrics_role = UserFactory(username="max", global_roles=["metrics"])


@pytest.fixture
def staff(personas) -> Staff:
    return Staff()
