from __future__ import annotations

import pytest

from tests.factories import UserFactory


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", email="alice@example.com", display_name="Alice Liddell")
