from __future__ import annotations

import pytest

from tests.factories import UserFactory


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", email="alice@example.com", display_name="Alice Liddell")


@pytest.fixture
def policy(db):
    """Set the site's require_two_factor the way an admin does."""
    from accounts.services import system_settings_update

    def set_policy(value: str) -> None:
        system_settings_update(by=None, require_two_factor=value)

    return set_policy
