"""Registration (/api/v1/auth/register): the switch, the shared namespace, validation."""

from __future__ import annotations

from rest_framework.test import APIClient

from accounts.models import User
from tests.accounts.helpers import bearer, error_shape
from tests.factories import OrganizationFactory, UserFactory

GOOD = {
    "username": "newbie",
    "email": "newbie@example.com",
    "password": "a long enough passphrase",
    "display_name": "N",
}


def test_register_creates_the_user_and_signs_in(api_client, db):
    response = api_client.post("/api/v1/auth/register", GOOD)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["user"]["username"] == "newbie"
    assert body["user"]["email"] == "newbie@example.com"
    assert body["user"]["display_name"] == "N"
    user = User.objects.get(username="newbie")
    assert user.check_password(GOOD["password"])
    assert bearer(body["access_token"]).get("/api/v1/users/me").json()["id"] == user.pk


def test_register_can_be_switched_off(api_client, db, settings):
    settings.PUNT_REGISTRATION_OPEN = False
    response = api_client.post("/api/v1/auth/register", GOOD)
    assert response.status_code == 403
    error_shape(response.json())
    assert not User.objects.filter(username="newbie").exists()


def test_register_username_collides_with_users_and_organizations_case_insensitively(api_client, db):
    UserFactory(username="Taken")
    OrganizationFactory(slug="acme")
    for name in ("taken", "TAKEN", "Acme", "acme"):
        response = api_client.post("/api/v1/auth/register", {**GOOD, "username": name})
        assert response.status_code == 400, name
        assert response.json()["details"][0]["field"] == "username"
    assert User.objects.count() == 1


def test_register_validation(db):
    UserFactory(username="someone", email="dup@example.com")
    cases = [
        ({**GOOD, "username": "has space"}, "username"),
        ({**GOOD, "username": "-dash"}, "username"),
        ({**GOOD, "email": "not-an-email"}, "email"),
        ({**GOOD, "email": "DUP@example.com"}, "email"),
        ({**GOOD, "password": "123"}, "password"),
        ({**GOOD, "password": "newbie12345"}, "password"),  # too similar to the username
    ]
    for n, (data, field) in enumerate(cases):
        # One address per case: six tries from one address would hit the 5/hour limit.
        response = APIClient(REMOTE_ADDR=f"10.0.0.{n}").post("/api/v1/auth/register", data)
        assert response.status_code == 400, data
        body = response.json()
        error_shape(body, details=True)
        assert {d["field"] for d in body["details"]} == {field}, body
    assert User.objects.count() == 1


def test_register_is_limited_to_5_per_hour_per_ip(api_client, db):
    for n in range(5):
        response = api_client.post("/api/v1/auth/register", {**GOOD, "username": f"u{n}", "email": f"u{n}@x.org"})
        assert response.status_code == 201
        assert response["X-RateLimit-Limit"] == "5"
        assert response["X-RateLimit-Remaining"] == str(4 - n)
    response = api_client.post("/api/v1/auth/register", {**GOOD, "username": "u6", "email": "u6@x.org"})
    assert response.status_code == 429
    error_shape(response.json())
    assert int(response["Retry-After"]) > 0
    assert not User.objects.filter(username="u6").exists()
