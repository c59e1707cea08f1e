"""POST /api/v1/auth/login for an account with two-factor, and /api/v1/auth/login/2fa."""

from __future__ import annotations

import json
import time
from unittest import mock

import pytest
from django.core import signing
from rest_framework.test import APIClient

from accounts.services import two_factor
from tests.accounts.helpers import bearer, error_shape
from tests.accounts.two_factor_helpers import recovery_codes, totp_code, totp_enable
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def password_step(client: APIClient, username: str = "alice") -> dict:
    response = client.post("/api/v1/auth/login", {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def code_step(client: APIClient, challenge: str, code: str):
    return client.post("/api/v1/auth/login/2fa", {"challenge": challenge, "code": code}, format="json")


@pytest.fixture
def alice():
    return UserFactory(username="alice")


def test_without_two_factor_the_login_answer_is_unchanged(alice):
    body = password_step(APIClient())
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in", "user"}


def test_login_with_totp(alice):
    secret = totp_enable(alice)
    client = APIClient()
    body = password_step(client)
    assert body["two_factor_required"] is True
    assert body["methods"] == ["totp", "recovery_code"]
    assert set(body) == {"two_factor_required", "challenge", "methods"}
    assert "access_token" not in json.dumps(body)

    response = code_step(client, body["challenge"], totp_code(secret))
    assert response.status_code == 200, response.content
    tokens = response.json()
    assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in", "user"}
    assert tokens["user"]["username"] == "alice"
    assert bearer(tokens["access_token"]).get("/api/v1/users/me").status_code == 200


def test_login_with_a_recovery_code_spends_it(alice):
    totp_enable(alice)
    code = recovery_codes(alice)[0]
    client = APIClient()
    response = code_step(client, password_step(client)["challenge"], code)
    assert response.status_code == 200, response.content
    assert code not in recovery_codes(alice)

    again = code_step(client, password_step(client)["challenge"], code)
    assert again.status_code == 401
    error_shape(again.json())


def test_a_totp_code_is_accepted_once(alice):
    secret = totp_enable(alice)
    client = APIClient()
    code = totp_code(secret)
    assert code_step(client, password_step(client)["challenge"], code).status_code == 200
    assert code_step(client, password_step(client)["challenge"], code).status_code == 401


def test_wrong_code_leaves_the_challenge_usable(alice):
    secret = totp_enable(alice)
    client = APIClient()
    challenge = password_step(client)["challenge"]
    wrong = code_step(client, challenge, "000000" if totp_code(secret) != "000000" else "111111")
    assert wrong.status_code == 401
    assert wrong.json() == {"error": "The code is wrong or was already used."}
    assert code_step(client, challenge, totp_code(secret)).status_code == 200


def test_a_challenge_completes_one_sign_in(alice):
    secret = totp_enable(alice)
    client = APIClient()
    challenge = password_step(client)["challenge"]
    assert code_step(client, challenge, totp_code(secret)).status_code == 200
    reused = code_step(client, challenge, totp_code(secret, steps=-1))
    assert reused.status_code == 401
    assert "Sign in again" in reused.json()["error"]


def test_an_expired_challenge_is_refused(alice):
    secret = totp_enable(alice)
    client = APIClient()
    issued_at = time.time() - two_factor.CHALLENGE_SECONDS - 1
    with mock.patch("time.time", return_value=issued_at):
        challenge = two_factor.challenge_issue(user=alice)
    response = code_step(client, challenge, totp_code(secret))
    assert response.status_code == 401
    assert "expired" in response.json()["error"]


def test_forged_challenges_are_refused(alice):
    secret = totp_enable(alice)
    forged = signing.dumps({"u": alice.pk, "v": alice.token_version, "j": "x"}, salt="another salt")
    for challenge in [forged, "garbage", "a" * 1024]:
        response = code_step(APIClient(), challenge, totp_code(secret))
        assert response.status_code == 401, challenge


def test_a_password_change_voids_open_challenges(alice):
    secret = totp_enable(alice)
    client = APIClient()
    challenge = password_step(client)["challenge"]
    alice.set_password("another long passphrase 42")
    alice.save()
    assert code_step(client, challenge, totp_code(secret)).status_code == 401


def test_wrong_codes_are_rate_limited_per_account(alice):
    secret = totp_enable(alice)
    client = APIClient()
    good = totp_code(secret)
    wrong = "123456" if good != "123456" else "654321"
    for _ in range(two_factor.CODE_FAILURE_LIMIT):
        # A fresh challenge each time changes nothing: the count is the account's.
        assert code_step(client, password_step(client)["challenge"], wrong).status_code == 401
    limited = code_step(client, password_step(client)["challenge"], good)
    assert limited.status_code == 429
    assert 0 < int(limited["Retry-After"]) <= two_factor.CODE_WINDOW_SECONDS
    error_shape(limited.json())


@pytest.mark.parametrize("body", [{}, {"challenge": "x"}, {"challenge": "x", "code": "abc"}, {"code": "123456"}])
def test_bad_input_is_a_400(body):
    response = APIClient().post("/api/v1/auth/login/2fa", body, format="json")
    assert response.status_code == 400
    error_shape(response.json(), details=True)


def test_webauthn_only_account_is_offered_its_recovery_codes(alice):
    from allauth.mfa.models import Authenticator
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    Authenticator.objects.create(user=alice, type=Authenticator.Type.WEBAUTHN, data={"name": "key"})
    RecoveryCodes.activate(alice)
    body = password_step(APIClient())
    assert body["methods"] == ["recovery_code"]


def test_api_keys_are_unaffected(alice):
    totp_enable(alice)
    from accounts.services import api_key_create

    _, raw = api_key_create(user=alice, name="ci", scopes=[], expires_at=None)
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    assert client.get("/api/v1/users/me").status_code == 200


def test_session_sign_in_refuses_two_factor_accounts(alice):
    totp_enable(alice)
    client = APIClient()
    response = client.post("/api/auth/callback/credentials", {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 403
    assert "two-factor" in response.json()["error"]
    assert client.get("/api/auth/session").json() == {"user": None, "expires": None}


def test_policy_refuses_api_password_login_without_two_factor(alice, policy):
    policy("everyone")
    response = APIClient().post("/api/v1/auth/login", {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 403
    assert "requires two-factor" in response.json()["error"]
    credentials = APIClient().post(
        "/api/auth/callback/credentials", {"username": "alice", "password": PASSWORD}, format="json"
    )
    assert credentials.status_code == 403


def test_admins_policy_leaves_other_accounts_alone(alice, policy):
    policy("admins")
    assert "access_token" in password_step(APIClient())
    UserFactory(username="root", is_staff=True)
    response = APIClient().post("/api/v1/auth/login", {"username": "root", "password": PASSWORD}, format="json")
    assert response.status_code == 403


def test_wrong_password_is_still_a_401_for_two_factor_accounts(alice):
    totp_enable(alice)
    response = APIClient().post("/api/v1/auth/login", {"username": "alice", "password": "nope"}, format="json")
    assert response.status_code == 401


def test_wrong_codes_are_announced_like_allauths_own(alice):
    """The audit log hears of them through allauth.mfa's authentication_failed signal."""
    from allauth.mfa import signals

    secret = totp_enable(alice)
    heard = []

    def receiver(sender, **kwargs):
        heard.append((kwargs["user"].username, kwargs["authenticator"].type, kwargs["request"] is not None))

    signals.authentication_failed.connect(receiver)
    try:
        client = APIClient()
        wrong = "000000" if totp_code(secret) != "000000" else "111111"
        assert code_step(client, password_step(client)["challenge"], wrong).status_code == 401
    finally:
        signals.authentication_failed.disconnect(receiver)
    assert heard == [("alice", "totp", True)]
