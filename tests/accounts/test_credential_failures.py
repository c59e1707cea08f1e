"""Bad refresh tokens, API keys and JWTs are counted per address: past 30 in the window the
401 becomes a 429, while valid credentials from the same address keep working."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts import services
from tests.accounts.helpers import error_shape, login
from tests.factories import UserFactory

LIMIT = 30


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


def from_address(n: int = 1, **credentials: str) -> APIClient:
    client = APIClient(REMOTE_ADDR=f"203.0.113.{n}")
    client.credentials(**credentials)
    return client


def assert_throttled(response) -> None:
    assert response.status_code == 429
    error_shape(response.json())
    assert response.json()["error"].startswith("Too many invalid credentials")
    assert 0 < int(response["Retry-After"]) <= 15 * 60


def test_unknown_api_keys(alice):
    _, good = services.api_key_create(user=alice, name="ci")
    for n in range(LIMIT):
        assert from_address(HTTP_X_API_KEY=f"punt_guess{n}").get("/api/v1/users/me").status_code == 401
    assert_throttled(from_address(HTTP_X_API_KEY="punt_guess-again").get("/api/v1/users/me"))
    assert_throttled(from_address(HTTP_AUTHORIZATION="Bearer punt_guess-again").get("/api/v1/users/me"))
    # A valid key from the same address is not refused because of them; other addresses are untouched.
    assert from_address(HTTP_X_API_KEY=good).get("/api/v1/users/me").status_code == 200
    assert from_address(2, HTTP_X_API_KEY="punt_nope").get("/api/v1/users/me").status_code == 401


def test_forged_access_tokens(alice):
    good = login(from_address())["access_token"]
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    for _ in range(LIMIT // 2):
        assert from_address(HTTP_AUTHORIZATION=f"Bearer {forged}").get("/api/v1/users/me").status_code == 401
        assert from_address(HTTP_AUTHORIZATION="Bearer not.a.jwt").get("/api/v1/users/me").status_code == 401
    assert_throttled(from_address(HTTP_AUTHORIZATION=f"Bearer {forged}").get("/api/v1/users/me"))
    assert from_address(HTTP_AUTHORIZATION=f"Bearer {good}").get("/api/v1/users/me").status_code == 200


def test_expired_access_tokens_are_not_counted(alice):
    token = AccessToken.for_user(alice)
    token.set_exp(lifetime=-timedelta(minutes=1))
    for _ in range(LIMIT + 5):
        response = from_address(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/users/me")
        assert response.status_code == 401  # the client refreshes on this, it must not be told to wait


def test_bad_refresh_tokens(alice):
    pair = login(from_address())
    for n in range(LIMIT):
        assert from_address().post("/api/v1/auth/refresh", {"refresh_token": f"garbage{n}"}).status_code == 401
    assert_throttled(from_address().post("/api/v1/auth/refresh", {"refresh_token": "garbage"}))
    assert_throttled(from_address().post("/api/v1/auth/logout", {"refresh_token": "garbage"}))
    assert from_address().post("/api/v1/auth/refresh", {"refresh_token": pair["refresh_token"]}).status_code == 200


def test_failures_of_all_three_kinds_share_one_budget(alice):
    for n in range(LIMIT // 3):
        from_address(HTTP_X_API_KEY=f"punt_guess{n}").get("/api/v1/users/me")
        from_address(HTTP_AUTHORIZATION="Bearer not.a.jwt").get("/api/v1/users/me")
        from_address().post("/api/v1/auth/refresh", {"refresh_token": "garbage"})
    assert_throttled(from_address(HTTP_X_API_KEY="punt_last").get("/api/v1/users/me"))
