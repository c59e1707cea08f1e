"""API keys: create, list, revoke; header, query string and Bearer; expiry and scopes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiKey, hash_api_key
from tests.accounts.helpers import bearer, error_shape, login


@pytest.fixture
def alice_client(alice) -> APIClient:
    return bearer(login()["access_token"])


def _create(client: APIClient, **data) -> dict:
    response = client.post("/api/v1/users/me/api-keys", {"name": "CI", **data})
    assert response.status_code == 201, response.content
    return response.json()


def test_create_shows_the_key_once_and_stores_only_its_hash(alice, alice_client):
    expires = (timezone.now() + timedelta(days=30)).replace(microsecond=0)
    body = _create(
        alice_client, scopes=["tickets:write", "tickets:read", "tickets:write"], expires_at=expires.isoformat()
    )
    key = body.pop("key")
    assert key.startswith("punt_") and len(key) > 40
    assert body == {
        "id": body["id"],
        "name": "CI",
        "prefix": key[:13],
        "scopes": ["tickets:write", "tickets:read"],
        "expires_at": body["expires_at"],
        "last_used_at": None,
        "created_at": body["created_at"],
        "is_active": True,
    }
    stored = ApiKey.objects.get(pk=body["id"])
    assert stored.user == alice
    assert stored.hashed_key == hash_api_key(key)
    assert key not in str(ApiKey.objects.filter(pk=stored.pk).values().get())

    listed = alice_client.get("/api/v1/users/me/api-keys")
    assert listed.status_code == 200
    assert listed.json() == [body]  # same fields, and no secret


def test_create_validation(alice_client):
    cases = [
        ({"scopes": ["tickets:admin"]}, "scopes.0"),
        ({"scopes": "tickets:read"}, "scopes"),
        ({"expires_at": (timezone.now() - timedelta(minutes=1)).isoformat()}, "expires_at"),
        ({"name": ""}, "name"),
    ]
    for data, field in cases:
        response = alice_client.post("/api/v1/users/me/api-keys", {"name": "CI", **data})
        assert response.status_code == 400, data
        error_shape(response.json(), details=True)
        assert response.json()["details"][0]["field"] == field, response.json()
    assert not ApiKey.objects.exists()


def test_key_works_in_header_query_string_and_bearer(alice, alice_client):
    key = _create(alice_client)["key"]
    header = APIClient()
    header.credentials(HTTP_X_API_KEY=key)
    as_bearer = APIClient()
    as_bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    for response in (
        header.get("/api/v1/users/me"),
        APIClient().get(f"/api/v1/users/me?api_key={key}"),
        as_bearer.get("/api/v1/users/me"),
    ):
        assert response.status_code == 200, response.content
        assert response.json()["username"] == "alice"
    assert ApiKey.objects.get().last_used_at is not None


def test_revoked_expired_and_unknown_keys_are_401(alice, alice_client):
    revoked = _create(alice_client, name="old")
    expired = _create(alice_client, name="expiring", expires_at=(timezone.now() + timedelta(hours=1)).isoformat())
    ApiKey.objects.filter(pk=expired["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = alice_client.delete(f"/api/v1/users/me/api-keys/{revoked['id']}")
    assert response.status_code == 204
    assert ApiKey.objects.get(pk=revoked["id"]).revoked_at is not None
    assert [k["name"] for k in alice_client.get("/api/v1/users/me/api-keys").json()] == ["expiring"]
    assert alice_client.get("/api/v1/users/me/api-keys").json()[0]["is_active"] is False

    for key in (revoked["key"], expired["key"], "punt_unknown", "not-even-punt"):
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=key)
        response = client.get("/api/v1/users/me")
        assert response.status_code == 401, key
        error_shape(response.json())
        assert APIClient().get(f"/api/v1/users/me?api_key={key}").status_code == 401


def test_key_of_a_deactivated_user_is_401(alice, alice_client):
    key = _create(alice_client)["key"]
    alice.is_active = False
    alice.save()
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)
    assert client.get("/api/v1/users/me").status_code == 401


def test_revoke_someone_elses_key_is_404(alice, alice_client):
    from tests.factories import UserFactory

    UserFactory(username="bob")
    bobs = _create(bearer(login(username="bob")["access_token"]))
    response = alice_client.delete(f"/api/v1/users/me/api-keys/{bobs['id']}")
    assert response.status_code == 404
    error_shape(response.json())
    assert ApiKey.objects.get(pk=bobs["id"]).revoked_at is None
    assert alice_client.delete("/api/v1/users/me/api-keys/999999").status_code == 404


def test_scopes(alice, alice_client, settings):
    settings.ROOT_URLCONF = "tests.api.testing_urls"
    keys = {
        "read": _create(alice_client, name="r", scopes=["projects:read"])["key"],
        "write": _create(alice_client, name="w", scopes=["projects:write"])["key"],
        "tickets": _create(alice_client, name="t", scopes=["tickets:write"])["key"],
        "admin": _create(alice_client, name="a", scopes=["admin"])["key"],
        "all": _create(alice_client, name="all")["key"],
    }

    def row(method: str, url: str) -> dict[str, int]:
        statuses = {}
        for name, key in keys.items():
            client = APIClient()
            client.credentials(HTTP_X_API_KEY=key)
            statuses[name] = getattr(client, method)(url).status_code
        return statuses

    assert row("get", "/api/v1/test/scoped") == {"read": 200, "write": 200, "tickets": 403, "admin": 200, "all": 200}
    assert row("post", "/api/v1/test/scoped") == {"read": 403, "write": 201, "tickets": 403, "admin": 201, "all": 201}
    # Account endpoints (no api_scope) need an unrestricted key.
    assert row("get", "/api/v1/users/me") == {"read": 403, "write": 403, "tickets": 403, "admin": 200, "all": 200}
    assert row("post", "/api/v1/users/me/api-keys") == {
        "read": 403,
        "write": 403,
        "tickets": 403,
        "admin": 400,
        "all": 400,
    }

    client = APIClient()
    client.credentials(HTTP_X_API_KEY=keys["read"])
    response = client.post("/api/v1/test/scoped")
    assert response.json() == {"error": "This API key lacks the 'projects:write' scope."}


def test_api_keys_need_authentication(api_client, db):
    assert api_client.get("/api/v1/users/me/api-keys").status_code == 401
    assert api_client.post("/api/v1/users/me/api-keys", {"name": "x"}).status_code == 401


def test_last_used_at_is_written_at_most_once_a_minute(alice, alice_client):
    key = _create(alice_client)["key"]
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)
    assert client.get("/api/v1/users/me").status_code == 200
    first = ApiKey.objects.get().last_used_at
    assert first is not None
    assert client.get("/api/v1/users/me").status_code == 200
    assert ApiKey.objects.get().last_used_at == first  # a read stays a read
    ApiKey.objects.update(last_used_at=first - timedelta(minutes=2))
    assert client.get("/api/v1/users/me").status_code == 200
    assert ApiKey.objects.get().last_used_at > first
