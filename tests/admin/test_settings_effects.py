"""System settings change what the rest of PUNT does, not just what the settings page shows."""

from __future__ import annotations

from accounts.services import system_settings_update
from tests.factories import UserFactory


def test_new_members_get_the_default_role(personas):
    system_settings_update(by=personas.owner, default_member_role="viewer")
    UserFactory(username="nina")

    response = personas.client("owner").post("/api/v1/projects/blog/members", {"username": "nina"}, format="json")

    assert response.status_code == 201
    assert response.json()["role"] == "viewer"


def test_an_explicit_role_wins_over_the_default(personas):
    system_settings_update(by=personas.owner, default_member_role="viewer")
    UserFactory(username="nina")

    response = personas.client("owner").post(
        "/api/v1/projects/blog/members", {"username": "nina", "role": "member"}, format="json"
    )

    assert response.json()["role"] == "member"
