"""Seed 004: "POST /api/v1/auth/refresh # exchange refresh token for new access token" and
"The frontend silently refreshes using the 7-day refresh token".

Rotation stays: each refresh token is exchanged once. A client that sends the same token
again within PUNT_REFRESH_REUSE_GRACE_SECONDS (its answer got lost, two tabs raced) gets the
pair it was given the first time instead of being signed out. A reuse after the window means
two holders of one sign-in: every token of that family is revoked (theft detection).
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import RefreshRotation
from punt.ops import backup
from tests.accounts.helpers import bearer, error_shape, login
from tests.factories import PASSWORD

REFRESH = "/api/v1/auth/refresh"
PAIR = ("access_token", "refresh_token")


def refresh(token: str, **extra: str):
    return APIClient().post(REFRESH, {"refresh_token": token}, format="json", **extra)


def pair(response) -> tuple[str, str]:
    assert response.status_code == 200, response.content
    body = response.json()
    return body["access_token"], body["refresh_token"]


def past_the_window(seconds: int = 31) -> None:
    """Move every rotation `seconds` into the past (the default window is 30 s)."""
    RefreshRotation.objects.update(rotated_at=timezone.now() - timedelta(seconds=seconds))


def refused(response) -> None:
    assert response.status_code == 401
    error_shape(response.json())


def test_the_grace_window_is_30_seconds_by_default(settings):
    assert settings.PUNT_REFRESH_REUSE_GRACE_SECONDS == 30


def test_a_retry_within_the_window_gets_the_identical_pair(alice):
    first = login()["refresh_token"]
    original = refresh(first)
    retried = refresh(first)
    assert pair(retried) == pair(original)
    assert retried.json() == original.json()
    # One rotation, one new token: the retry minted nothing.
    assert OutstandingToken.objects.count() == 2


def test_the_pair_returned_on_retry_works(alice):
    first = login()["refresh_token"]
    refresh(first)
    access, new = pair(refresh(first))
    me = bearer(access).get("/api/v1/users/me")
    assert me.status_code == 200
    assert me.json()["username"] == "alice"
    # Its refresh token is the live one: it rotates as usual.
    newer = pair(refresh(new))
    assert newer[1] != new
    assert bearer(newer[0]).get("/api/v1/users/me").status_code == 200


def test_a_retry_just_inside_the_window_still_counts(alice):
    first = login()["refresh_token"]
    original = pair(refresh(first))
    past_the_window(seconds=29)
    assert pair(refresh(first)) == original


def test_a_reuse_after_the_window_revokes_the_family(alice):
    first = login()["refresh_token"]
    _, second = pair(refresh(first))
    past_the_window()
    refused(refresh(first))
    # The token the first was exchanged for is gone too: whoever held it signs in again.
    refused(refresh(second))


def test_a_reuse_with_a_window_of_zero_revokes_at_once(alice, settings):
    settings.PUNT_REFRESH_REUSE_GRACE_SECONDS = 0
    first = login()["refresh_token"]
    _, second = pair(refresh(first))
    refused(refresh(first))
    refused(refresh(second))


def test_the_family_is_every_token_rotated_from_one_sign_in_and_nothing_else(alice):
    family = login()["refresh_token"]
    other_sign_in = login()["refresh_token"]
    _, second = pair(refresh(family))
    _, third = pair(refresh(second))
    _, fourth = pair(refresh(third))
    past_the_window()
    refused(refresh(second))  # a token from the middle of the chain
    refused(refresh(fourth))  # the newest token of the family
    # Another device's sign-in is not touched.
    assert refresh(other_sign_in).status_code == 200


def test_a_retry_after_the_new_token_was_used_is_a_reuse(alice):
    first = login()["refresh_token"]
    _, second = pair(refresh(first))
    _, third = pair(refresh(second))
    # Still within the window, but the pair it got has moved on: someone else holds `first`.
    refused(refresh(first))
    refused(refresh(third))


def test_logout_of_the_new_token_is_not_undone_by_a_retry(alice):
    first = login()["refresh_token"]
    _, second = pair(refresh(first))
    assert APIClient().post("/api/v1/auth/logout", {"refresh_token": second}, format="json").status_code == 204
    refused(refresh(first))
    refused(refresh(second))


def test_logout_with_the_old_token_within_the_window_ends_the_pair_it_was_exchanged_for(alice):
    first = login()["refresh_token"]
    _, second = pair(refresh(first))
    assert APIClient().post("/api/v1/auth/logout", {"refresh_token": first}, format="json").status_code == 204
    refused(refresh(second))
    refused(refresh(first))


def test_logout_with_the_old_token_after_the_window_is_refused_and_revokes_the_family(alice):
    first = login()["refresh_token"]
    _, second = pair(refresh(first))
    past_the_window()
    refused(APIClient().post("/api/v1/auth/logout", {"refresh_token": first}, format="json"))
    refused(refresh(second))


def test_logout_all_is_not_undone_by_a_retry(alice):
    first = login()["refresh_token"]
    access, _ = pair(refresh(first))
    assert bearer(access).post("/api/v1/auth/logout-all").status_code == 204
    refused(refresh(first))
    assert bearer(access).get("/api/v1/users/me").status_code == 401


def test_a_password_change_is_not_undone_by_a_retry(alice):
    first = login()["refresh_token"]
    access, second = pair(refresh(first))
    changed = bearer(access).post(
        "/api/v1/users/me/password", {"current_password": PASSWORD, "new_password": "another long passphrase"}
    )
    assert changed.status_code == 200
    refused(refresh(first))
    refused(refresh(second))
    # The pair the change handed out is the one that goes on.
    assert refresh(changed.json()["refresh_token"]).status_code == 200


def test_a_retry_for_a_deactivated_user_is_refused(alice):
    first = login()["refresh_token"]
    refresh(first)
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    refused(refresh(first))


def test_a_token_that_was_signed_out_is_only_refused(alice):
    tokens = login()
    other = login()["refresh_token"]
    assert APIClient().post("/api/v1/auth/logout", {"refresh_token": tokens["refresh_token"]}).status_code == 204
    refused(refresh(tokens["refresh_token"]))
    assert refresh(other).status_code == 200


def test_refreshed_pairs_keep_the_documented_shape_and_lifetimes(alice):
    body = refresh(login()["refresh_token"]).json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in", "user"}
    assert body["expires_in"] == 900
    access, new = AccessToken(body["access_token"]), RefreshToken(body["refresh_token"])
    assert access["exp"] - access["iat"] == 15 * 60
    assert new["exp"] - new["iat"] == 7 * 24 * 3600
    assert access["iat"] == new["iat"]
    assert access["jti"] != new["jti"]
    # The outstanding row holds the token exactly as handed out: a retry hands out that text.
    assert OutstandingToken.objects.get(jti=new["jti"]).token == body["refresh_token"]


@pytest.mark.parametrize("grace", [0, 30])
def test_each_login_gets_its_own_pair(alice, settings, grace):
    settings.PUNT_REFRESH_REUSE_GRACE_SECONDS = grace
    one, two = login(), login()
    assert {one[name] for name in PAIR}.isdisjoint({two[name] for name in PAIR})


def test_rotations_are_sign_in_state_left_out_of_backups(alice):
    refresh(login()["refresh_token"])
    archive = io.BytesIO()
    backup.backup_write(archive)
    with zipfile.ZipFile(archive) as files:
        rows = json.loads(files.read("data.json"))
    assert "accounts.refreshrotation" not in {row["model"] for row in rows}
    # They point at simplejwt's outstanding tokens, which are not backed up either: in an
    # archive they would fail the restore's foreign-key check.
    archive.seek(0)
    assert backup.restore_archive(archive).objects["accounts.user"] == 1
