"""PUNT's session login (seed 000) and CSRF on cookie-authenticated writes."""

from __future__ import annotations

from django.conf import settings
from rest_framework.test import APIClient

from tests.accounts.helpers import error_shape
from tests.factories import PASSWORD


def test_session_login_and_csrf_round_trip(alice):
    client = APIClient(enforce_csrf_checks=True)
    response = client.post("/api/auth/callback/credentials", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"user", "csrfToken"}
    assert body["user"]["username"] == "alice"
    assert settings.SESSION_COOKIE_NAME in response.cookies
    assert settings.CSRF_COOKIE_NAME in response.cookies

    # Reads need only the cookie.
    assert client.get("/api/v1/users/me").json()["username"] == "alice"
    # A write without the token is refused, in the error shape; with it, it goes through.
    refused = client.put("/api/v1/users/me", {"display_name": "Forged"})
    assert refused.status_code == 403
    error_shape(refused.json())
    assert "CSRF" in refused.json()["error"]
    alice.refresh_from_db()
    assert alice.display_name == "Alice Liddell"

    accepted = client.put("/api/v1/users/me", {"display_name": "Real"}, HTTP_X_CSRFTOKEN=body["csrfToken"])
    assert accepted.status_code == 200
    assert accepted.json()["display_name"] == "Real"


def test_session_login_with_a_form(alice):
    client = APIClient(enforce_csrf_checks=True)
    response = client.post(
        "/api/auth/callback/credentials",
        {"username": "alice", "password": PASSWORD, "callbackUrl": "/"},
        format="multipart",
    )
    assert response.status_code == 200
    response = client.generic(
        "POST",
        "/api/auth/callback/credentials",
        f"username=alice&password={PASSWORD.replace(' ', '+')}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200


def test_session_login_failure(alice):
    client = APIClient(enforce_csrf_checks=True)
    response = client.post("/api/auth/callback/credentials", {"username": "alice", "password": "nope"})
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid username or password."}
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert client.get("/api/v1/users/me").status_code == 401


def test_session_csrf_and_signout(alice):
    client = APIClient(enforce_csrf_checks=True)
    anonymous = client.get("/api/auth/session")
    assert anonymous.status_code == 200
    assert anonymous.json() == {"user": None, "expires": None}
    csrf = client.get("/api/auth/csrf")
    assert csrf.status_code == 200
    assert csrf.json()["csrfToken"]
    assert settings.CSRF_COOKIE_NAME in csrf.cookies

    token = client.post("/api/auth/callback/credentials", {"username": "alice", "password": PASSWORD}).json()[
        "csrfToken"
    ]
    session = client.get("/api/auth/session").json()
    assert session["user"]["username"] == "alice"
    assert session["expires"]

    # Signing out is a write: no forced logout from another site.
    assert client.post("/api/auth/signout").status_code == 403
    assert client.get("/api/auth/session").json()["user"]["username"] == "alice"
    assert client.post("/api/auth/signout", HTTP_X_CSRFTOKEN=token).status_code == 204
    assert client.get("/api/auth/session").json() == {"user": None, "expires": None}
    assert client.get("/api/v1/users/me").status_code == 401


def test_session_survives_its_own_password_change(alice):
    client = APIClient(enforce_csrf_checks=True)
    token = client.post("/api/auth/callback/credentials", {"username": "alice", "password": PASSWORD}).json()[
        "csrfToken"
    ]
    other = APIClient()
    other.post("/api/auth/callback/credentials", {"username": "alice", "password": PASSWORD})
    response = client.post(
        "/api/v1/users/me/password",
        {"current_password": PASSWORD, "new_password": "another long passphrase"},
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200
    assert client.get("/api/v1/users/me").status_code == 200
    # Django ends the other sessions when the password changes.
    assert other.get("/api/v1/users/me").status_code == 401
