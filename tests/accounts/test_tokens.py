"""JWT login, refresh rotation and logout (/api/v1/auth/*, seed 004)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken

from tests.accounts.helpers import bearer, error_shape, login
from tests.factories import PASSWORD, UserFactory


def test_login_returns_a_token_pair_and_the_user(alice):
    body = login()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in", "user"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["user"] == {
        "id": alice.pk,
        "username": "alice",
        "email": "alice@example.com",
        "display_name": "Alice Liddell",
        "name": "Alice Liddell",
        "avatar": None,
        "global_roles": [],
        "date_joined": body["user"]["date_joined"],
    }
    alice.refresh_from_db()
    assert alice.last_login is not None
    me = bearer(body["access_token"]).get("/api/v1/users/me")
    assert me.status_code == 200
    assert me.json()["username"] == "alice"


def test_login_username_is_case_insensitive(alice):
    assert login(username="ALICE")["user"]["id"] == alice.pk


def test_login_failure(alice, api_client):
    for credentials in (
        {"username": "alice", "password": "wrong"},
        {"username": "nobody", "password": PASSWORD},
    ):
        response = api_client.post("/api/v1/auth/login", credentials)
        assert response.status_code == 401
        assert response.json() == {"error": "Invalid username or password."}


def test_login_of_a_deactivated_user_fails(api_client, db):
    UserFactory(username="gone", is_active=False)
    response = api_client.post("/api/v1/auth/login", {"username": "gone", "password": PASSWORD})
    assert response.status_code == 401


def test_login_validation_error(api_client, db):
    response = api_client.post("/api/v1/auth/login", {"username": "alice"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "Validation failed",
        "details": [{"field": "password", "message": "This field is required."}],
    }


def test_login_ignores_a_stale_bearer_header(alice):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert client.post("/api/v1/auth/login", {"username": "alice", "password": PASSWORD}).status_code == 200


def test_no_credentials_is_401(api_client, db):
    response = api_client.get("/api/v1/users/me")
    assert response.status_code == 401
    error_shape(response.json())


def test_expired_access_token_is_401(alice):
    token = AccessToken.for_user(alice)
    token.set_exp(from_time=timezone.now() - timedelta(hours=1))
    response = bearer(str(token)).get("/api/v1/users/me")
    assert response.status_code == 401
    error_shape(response.json())
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_tampered_access_token_is_401(alice):
    access = login()["access_token"]
    response = bearer(access[:-3] + ("AAA" if not access.endswith("AAA") else "BBB")).get("/api/v1/users/me")
    assert response.status_code == 401


def test_refresh_rotates_and_the_old_refresh_token_is_refused(alice, api_client, settings):
    # Issue 17 changed what a reuse means: within the grace window it is a retry and gets the
    # same pair (tests/accounts/test_refresh_grace.py); past it, the whole family is revoked.
    settings.PUNT_REFRESH_REUSE_GRACE_SECONDS = 0
    first = login()
    response = api_client.post("/api/v1/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert response.status_code == 200
    second = response.json()
    assert set(second) == {"access_token", "refresh_token", "token_type", "expires_in", "user"}
    assert second["refresh_token"] != first["refresh_token"]
    assert second["user"]["id"] == alice.pk
    assert bearer(second["access_token"]).get("/api/v1/users/me").status_code == 200

    reused = api_client.post("/api/v1/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    error_shape(reused.json())
    # Two holders of one sign-in: the new one is revoked too (it used to go on working).
    assert api_client.post("/api/v1/auth/refresh", {"refresh_token": second["refresh_token"]}).status_code == 401


def test_refresh_refuses_garbage_and_access_tokens(alice, api_client):
    access = login()["access_token"]
    for token in ("garbage", access):
        response = api_client.post("/api/v1/auth/refresh", {"refresh_token": token})
        assert response.status_code == 401
    response = api_client.post("/api/v1/auth/refresh", {})
    assert response.status_code == 400
    assert response.json()["details"] == [{"field": "refresh_token", "message": "This field is required."}]


def test_refresh_refused_for_a_deactivated_user(alice, api_client):
    refresh = login()["refresh_token"]
    alice.is_active = False
    alice.save()
    assert api_client.post("/api/v1/auth/refresh", {"refresh_token": refresh}).status_code == 401


def test_logout_kills_the_refresh_token(alice, api_client):
    tokens = login()
    other = login()  # another device stays signed in
    response = api_client.post("/api/v1/auth/logout", {"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 204
    assert response.content == b""
    assert api_client.post("/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert api_client.post("/api/v1/auth/logout", {"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert api_client.post("/api/v1/auth/refresh", {"refresh_token": other["refresh_token"]}).status_code == 200


@pytest.mark.postgres
@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] not in {"django.db.backends.postgresql", "punt.postgresql"},
    reason="needs PostgreSQL: SQLite's shared in-memory test database does not take concurrent writers",
)
@pytest.mark.django_db(transaction=True)
def test_one_refresh_token_rotates_once_under_concurrency():
    UserFactory(username="alice")
    refresh = login()["refresh_token"]
    barrier = threading.Barrier(4)
    answers: list[tuple[int, str, str]] = []

    def worker() -> None:
        try:
            barrier.wait()
            response = APIClient().post("/api/v1/auth/refresh", {"refresh_token": refresh})
            body = response.json()
            answers.append((response.status_code, body.get("access_token", ""), body.get("refresh_token", "")))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # One rotation; the others waited on its row lock and, within the grace window, got its
    # pair (issue 17: they used to be refused).
    assert [status for status, _, _ in answers] == [200] * 4
    assert len({(access, new) for _, access, new in answers}) == 1
    assert OutstandingToken.objects.count() == 2
