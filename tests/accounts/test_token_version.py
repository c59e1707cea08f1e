"""An access token stops working when its owner's password changes (any path) or they sign
out everywhere: the token version on the user, checked by the authentication classes."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from punt.asgi import application
from tests.accounts.helpers import bearer, error_shape, login
from tests.factories import PASSWORD, UserFactory

NEW_PASSWORD = "a brand new passphrase 42"


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


def assert_revoked(access_token: str) -> None:
    response = bearer(access_token).get("/api/v1/users/me")
    assert response.status_code == 401
    error_shape(response.json())
    assert "revoked" in response.json()["error"]


def test_a_password_change_through_the_api_ends_older_access_tokens(alice):
    old = login()
    response = bearer(old["access_token"]).post(
        "/api/v1/users/me/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 200
    assert_revoked(old["access_token"])
    assert bearer(response.json()["access_token"]).get("/api/v1/users/me").status_code == 200
    refreshed = APIClient().post("/api/v1/auth/refresh", {"refresh_token": response.json()["refresh_token"]})
    assert refreshed.status_code == 200
    assert bearer(refreshed.json()["access_token"]).get("/api/v1/users/me").status_code == 200


def test_a_password_change_on_the_web_settings_page_ends_access_tokens(alice):
    old = login()
    browser = Client()
    browser.force_login(alice)
    response = browser.post(
        "/settings/", {"action": "password", "current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert_revoked(old["access_token"])
    assert browser.get("/settings/").status_code == 200  # the browser that changed it stays in


def test_a_password_reset_by_a_site_admin_ends_access_tokens(alice):
    old = login()
    admin = APIClient()
    admin.force_authenticate(UserFactory(username="root", is_staff=True))
    assert admin.patch(f"/api/v1/users/{alice.pk}", {"password": NEW_PASSWORD}).status_code == 200
    assert_revoked(old["access_token"])


def test_a_password_set_in_the_django_admin_ends_access_tokens(alice):
    old = login()
    browser = Client()
    browser.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = browser.post(
        f"/admin/accounts/user/{alice.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content[:2000]
    assert_revoked(old["access_token"])


def test_set_password_and_save_ends_access_tokens(alice, monkeypatch):
    old = login()
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW_PASSWORD)
    call_command("changepassword", "alice", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert_revoked(old["access_token"])
    assert login(password=NEW_PASSWORD)["access_token"]


class AlwaysRehash(MD5PasswordHasher):
    """A hasher that asks for an upgrade at every login, as a new Django version's does once."""

    def must_update(self, encoded: str) -> bool:
        return True


def test_a_password_hash_upgrade_on_login_changes_nothing(alice, settings):
    old = login()
    settings.PASSWORD_HASHERS = [f"{__name__}.AlwaysRehash"]
    before = User.objects.get(pk=alice.pk).password
    login()
    alice.refresh_from_db()
    assert alice.password != before  # re-hashed and saved by Django during the login
    assert alice.token_version == 0
    assert bearer(old["access_token"]).get("/api/v1/users/me").status_code == 200


def test_logout_all_ends_every_token_and_session(alice):
    phone, laptop = login(), login()
    browser = Client()
    signed_in = browser.post("/api/auth/callback/credentials", {"username": "alice", "password": PASSWORD})
    assert signed_in.status_code == 200
    assert browser.get("/api/v1/users/me").status_code == 200

    response = bearer(laptop["access_token"]).post("/api/v1/auth/logout-all")
    assert response.status_code == 204

    assert_revoked(phone["access_token"])
    assert_revoked(laptop["access_token"])
    for refresh in (phone["refresh_token"], laptop["refresh_token"]):
        assert APIClient().post("/api/v1/auth/refresh", {"refresh_token": refresh}).status_code == 401
    assert browser.get("/api/v1/users/me").status_code in (401, 403)
    # Signing in again works, with tokens of the new version.
    assert bearer(login()["access_token"]).get("/api/v1/users/me").status_code == 200


def test_logout_all_needs_a_signed_in_user_and_is_documented(db):
    assert APIClient().post("/api/v1/auth/logout-all").status_code == 401
    schema = APIClient().get("/api/schema/").content.decode()
    assert "/api/v1/auth/logout-all" in schema


@pytest.mark.django_db(transaction=True)
async def test_a_revoked_access_token_cannot_open_a_socket():
    from channels.db import database_sync_to_async

    @database_sync_to_async
    def setup() -> str:
        UserFactory(username="alice")
        token = login()["access_token"]
        assert bearer(token).post("/api/v1/auth/logout-all").status_code == 204
        return token

    token = await setup()
    socket = WebsocketCommunicator(
        application, f"/api/v1/ws/user?token={token}", headers=[(b"origin", b"http://localhost")]
    )
    connected, _ = await socket.connect(timeout=3)
    assert connected
    message = await socket.receive_output(timeout=3)
    assert message == {"type": "websocket.close", "code": 4401}


def test_token_version_moves_only_when_a_password_is_replaced(db):
    user = UserFactory(username="dora")
    assert User.objects.get(pk=user.pk).token_version == 0
    user.display_name = "Dora"
    user.save()
    assert User.objects.get(pk=user.pk).token_version == 0
    user.set_password(NEW_PASSWORD)
    user.save(update_fields=["password"])
    assert User.objects.get(pk=user.pk).token_version == 1
