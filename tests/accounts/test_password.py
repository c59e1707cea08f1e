"""Password change, forgot-password and reset-password."""

from __future__ import annotations

import re
from datetime import timedelta

from django.core import mail
from django.utils import timezone

from accounts.models import PasswordResetToken
from tests.accounts.helpers import bearer, error_shape, login
from tests.factories import PASSWORD, UserFactory

NEW = "another long passphrase"


def _token_from_mail(message) -> str:
    match = re.search(r"token=([A-Za-z0-9_-]+)", message.body)
    assert match, message.body
    return match.group(1)


# --------------------------------------------------------------------------- change


def test_password_change(alice, api_client):
    tokens = login()
    client = bearer(tokens["access_token"])
    response = client.post("/api/v1/users/me/password", {"current_password": PASSWORD, "new_password": NEW})
    assert response.status_code == 200, response.content
    fresh = response.json()
    assert set(fresh) == {"access_token", "refresh_token", "token_type", "expires_in", "user"}
    alice.refresh_from_db()
    assert alice.check_password(NEW)
    # Refresh tokens from before the change are dead; the pair handed back works.
    assert api_client.post("/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert api_client.post("/api/v1/auth/refresh", {"refresh_token": fresh["refresh_token"]}).status_code == 200
    assert api_client.post("/api/v1/auth/login", {"username": "alice", "password": PASSWORD}).status_code == 401
    login(password=NEW)


def test_password_change_validation(alice):
    client = bearer(login()["access_token"])
    cases = [
        ({"current_password": "wrong", "new_password": NEW}, "current_password"),
        ({"current_password": PASSWORD, "new_password": "short"}, "new_password"),
        ({"current_password": PASSWORD, "new_password": "password"}, "new_password"),
        ({"current_password": PASSWORD}, "new_password"),
    ]
    for data, field in cases:
        response = client.post("/api/v1/users/me/password", data)
        assert response.status_code == 400, data
        error_shape(response.json(), details=True)
        assert response.json()["details"][0]["field"] == field
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_password_change_is_limited_to_5_per_15_minutes_per_user(alice):
    client = bearer(login()["access_token"])
    for n in range(5):
        response = client.post("/api/v1/users/me/password", {"current_password": "wrong", "new_password": NEW})
        assert response.status_code == 400
        assert response["X-RateLimit-Limit"] == "5"
        assert response["X-RateLimit-Remaining"] == str(4 - n)
    response = client.post("/api/v1/users/me/password", {"current_password": PASSWORD, "new_password": NEW})
    assert response.status_code == 429
    error_shape(response.json())
    assert "Retry-After" in response
    # Someone else from the same address is not affected: the limit is per user.
    UserFactory(username="bob")
    other = bearer(login(username="bob")["access_token"])
    assert (
        other.post("/api/v1/users/me/password", {"current_password": PASSWORD, "new_password": NEW}).status_code == 200
    )


def test_password_change_needs_authentication(api_client, db):
    response = api_client.post("/api/v1/users/me/password", {"current_password": PASSWORD, "new_password": NEW})
    assert response.status_code == 401


# --------------------------------------------------------------------------- forgot / reset


def test_forgot_password_answers_the_same_for_unknown_addresses(alice, api_client):
    known = api_client.post("/api/v1/auth/forgot-password", {"email": "ALICE@example.com"})
    unknown = api_client.post("/api/v1/auth/forgot-password", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert known.json() == unknown.json()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@example.com"]
    token = _token_from_mail(mail.outbox[0])
    stored = PasswordResetToken.objects.get(user=alice)
    assert token not in stored.hashed_token  # only a hash is kept
    assert stored.expires_at > timezone.now() + timedelta(minutes=59)


def test_forgot_password_validation(api_client, db):
    response = api_client.post("/api/v1/auth/forgot-password", {"email": "not an email"})
    assert response.status_code == 400
    error_shape(response.json(), details=True)


def test_reset_password_is_single_use_and_kills_refresh_tokens(alice, api_client):
    tokens = login()
    api_client.post("/api/v1/auth/forgot-password", {"email": "alice@example.com"})
    api_client.post("/api/v1/auth/forgot-password", {"email": "alice@example.com"})
    first, second = (_token_from_mail(m) for m in mail.outbox)

    response = api_client.post("/api/v1/auth/reset-password", {"token": first, "password": NEW})
    assert response.status_code == 200, response.content
    alice.refresh_from_db()
    assert alice.check_password(NEW)
    assert api_client.post("/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]}).status_code == 401

    for token in (first, second):  # used, and the other one spent with it
        again = api_client.post("/api/v1/auth/reset-password", {"token": token, "password": "yet another passphrase"})
        assert again.status_code == 400
        assert again.json()["details"] == [{"field": "token", "message": "This reset link is invalid or has expired."}]
    alice.refresh_from_db()
    assert alice.check_password(NEW)


def test_reset_password_token_expires(alice, api_client):
    api_client.post("/api/v1/auth/forgot-password", {"email": "alice@example.com"})
    token = _token_from_mail(mail.outbox[0])
    PasswordResetToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api_client.post("/api/v1/auth/reset-password", {"token": token, "password": NEW})
    assert response.status_code == 400
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_reset_password_validates_the_new_password_without_spending_the_token(alice, api_client):
    api_client.post("/api/v1/auth/forgot-password", {"email": "alice@example.com"})
    token = _token_from_mail(mail.outbox[0])
    weak = api_client.post("/api/v1/auth/reset-password", {"token": token, "password": "12345678"})
    assert weak.status_code == 400
    assert {d["field"] for d in weak.json()["details"]} == {"password"}
    assert api_client.post("/api/v1/auth/reset-password", {"token": token, "password": NEW}).status_code == 200


def test_reset_password_with_an_unknown_token(api_client, db):
    response = api_client.post("/api/v1/auth/reset-password", {"token": "nope", "password": NEW})
    assert response.status_code == 400
    error_shape(response.json(), details=True)


def test_forgot_password_hides_a_mail_failure(alice, api_client, settings):
    settings.EMAIL_BACKEND = "tests.accounts.helpers.FailingEmailBackend"
    response = api_client.post("/api/v1/auth/forgot-password", {"email": "alice@example.com"})
    assert response.status_code == 200
    assert response.json() == api_client.post("/api/v1/auth/forgot-password", {"email": "x@example.com"}).json()
    assert not PasswordResetToken.objects.exists()
