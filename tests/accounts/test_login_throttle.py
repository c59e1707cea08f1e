"""Sign-in limits: per address and per account (an exponential wait, not a lock), with
known-device cookies that keep an account's owner signing in while others fail."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.accounts.helpers import error_shape
from tests.factories import PASSWORD, UserFactory

LOGIN = "/api/v1/auth/login"
PUNT_LOGIN = "/api/auth/callback/credentials"
DEVICE = "punt_device"


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


def from_address(n: int) -> APIClient:
    return APIClient(REMOTE_ADDR=f"198.51.100.{n}")


def guess(client: APIClient, password: str = "wrong", username: str = "alice", url: str = LOGIN):
    return client.post(url, {"username": username, "password": password})


def test_spreading_guesses_over_30_addresses_gets_few_answers(alice):
    """Issue 16: 90 wrong passwords for one account from 30 addresses were all answered."""
    statuses = []
    for n in range(90):
        response = guess(from_address(n % 30), f"guess{n}")
        statuses.append(response.status_code)
        if response.status_code == 429:
            error_shape(response.json())
            assert response.json()["error"].startswith("Too many failed sign-ins for this account.")
            assert int(response["Retry-After"]) >= 1
    assert statuses[:11] == [401] * 11  # the first ten failures (and one more) cost nothing
    # Then one attempt per wait, each wait twice the last: a handful at most in this loop.
    assert statuses.count(401) <= 14
    assert statuses.count(429) >= 76


def test_the_wait_doubles_and_one_attempt_gets_through_per_wait(alice):
    for n in range(11):
        assert guess(from_address(n)).status_code == 401
    refused = guess(from_address(20), PASSWORD)  # even the right password waits: it was not checked
    assert refused.status_code == 429
    assert refused["Retry-After"] == "1"
    time.sleep(1.1)
    assert guess(from_address(21)).status_code == 401  # the turn after the wait, wrong again
    refused = guess(from_address(22))
    assert refused.status_code == 429
    assert refused["Retry-After"] == "2"
    time.sleep(2.1)
    assert guess(from_address(23), PASSWORD).status_code == 200
    # A success forgets the failures: the next mistake is an ordinary 401 again.
    assert guess(from_address(24)).status_code == 401


def test_unknown_accounts_are_throttled_the_same_way(db):
    statuses = [guess(from_address(n), username="nobody").status_code for n in range(13)]
    assert statuses[:11] == [401] * 11
    assert statuses[11:] == [429, 429]


def test_the_owner_with_a_known_device_signs_in_during_an_attack(alice):
    owner = from_address(200)
    first = guess(owner, PASSWORD)
    assert first.status_code == 200
    cookie = first.cookies[DEVICE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and int(cookie["max-age"]) >= 90 * 24 * 3600

    for n in range(40):
        guess(from_address(n % 20))
    assert guess(from_address(201), PASSWORD).status_code == 429  # a new browser waits
    assert guess(owner, PASSWORD).status_code == 200
    assert guess(owner, PASSWORD, url=PUNT_LOGIN).status_code == 200


def test_a_correct_password_from_a_throttled_address_with_a_known_device_succeeds(alice):
    UserFactory(username="bob")
    owner = from_address(7)
    assert guess(owner, PASSWORD).status_code == 200  # alice, earlier, from this address

    # Someone else behind the same proxy fails ten times on another account.
    neighbour = from_address(7)
    for n in range(10):
        assert guess(neighbour, f"guess{n}", username="bob").status_code == 401
    refused = guess(neighbour, PASSWORD, username="bob")
    assert refused.status_code == 429
    assert refused["X-RateLimit-Remaining"] == "0"
    assert refused.json()["error"].startswith("Too many requests.")

    # Alice's browser carries her device cookie: the address limit does not apply to her.
    assert guess(owner, PASSWORD).status_code == 200
    assert guess(owner, PASSWORD, url=PUNT_LOGIN).status_code == 200
    # The cookie names alice: it does not open bob's account from the throttled address.
    assert guess(owner, PASSWORD, username="bob").status_code == 429


def test_the_web_sign_in_page_follows_the_same_rule(alice):
    owner = Client(REMOTE_ADDR="198.51.100.5")
    assert owner.post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 302
    assert DEVICE in owner.cookies
    owner.post("/logout/")
    for n in range(11):
        assert guess(from_address(n)).status_code == 401
    stranger = Client(REMOTE_ADDR="198.51.100.6")
    refused = stranger.post("/login/", {"username": "alice", "password": PASSWORD})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert owner.post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 302


def test_a_forged_or_foreign_device_cookie_is_ignored(alice):
    owner = from_address(1)
    cookie = guess(owner, PASSWORD).cookies[DEVICE].value
    for n in range(11):
        guess(from_address(n + 10))
    forged = from_address(2)
    forged.cookies[DEVICE] = cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")
    assert guess(forged, PASSWORD).status_code == 429
    UserFactory(username="carol")
    carols = from_address(3)
    assert guess(carols, PASSWORD, username="carol").status_code == 200
    assert guess(carols, PASSWORD).status_code == 429  # carol's device is not alice's


def test_a_known_device_stops_counting_after_ten_failures(alice):
    device = from_address(1)
    assert guess(device, PASSWORD).status_code == 200
    for n in range(10):
        assert guess(device, f"guess{n}").status_code == 401
    # The address has used its budget and the cookie is spent: no more guesses from here.
    refused = guess(device, PASSWORD)
    assert refused.status_code == 429


def test_limits_are_documented(db):
    schema = APIClient().get("/api/schema/").content.decode()
    assert "punt_device" in schema
    assert "doubles the wait" in schema


def test_the_admin_sign_in_page_follows_the_same_rule(db):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    owner = Client(REMOTE_ADDR="198.51.100.5")
    assert owner.post("/login/", {"username": "root", "password": PASSWORD}).status_code == 302
    owner.post("/logout/")
    for n in range(11):
        assert guess(from_address(n), username="root").status_code == 401
    stranger = Client(REMOTE_ADDR="198.51.100.6")
    refused = stranger.post("/admin/login/", {"username": "root", "password": PASSWORD})
    assert refused.status_code == 200
    assert b"Too many failed sign-ins for this account." in refused.content
    assert stranger.get("/admin/").status_code == 302  # still signed out
    response = owner.post("/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD})
    assert response.status_code == 302
    assert owner.get("/admin/").status_code == 200
