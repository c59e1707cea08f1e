from __future__ import annotations

import pytest

from accounts.services import two_factor
from tests.factories import UserFactory


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", email="alice@example.com", display_name="Alice Liddell")


@pytest.fixture
def policy(monkeypatch):
    """Set the site's require_two_factor (read through two_factor_policy until the field is merged)."""

    def set_policy(value: str) -> None:
        monkeypatch.setattr(two_factor, "two_factor_policy", lambda **kwargs: value)

    return set_policy
