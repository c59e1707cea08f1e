"""Rate limits: login 10 per 15 minutes per IP, with X-RateLimit-* headers and a 429."""

from __future__ import annotations

import time

from rest_framework.test import APIClient

from tests.factories import PASSWORD, UserFactory


def test_the_11th_bad_login_within_15_minutes_is_429(db):
    UserFactory(username="alice")
    client = APIClient()
    before = int(time.time())
    for n in range(10):
        response = client.post("/api/v1/auth/login", {"username": "alice", "password": f"guess{n}"})
        assert response.status_code == 401
        assert response["X-RateLimit-Limit"] == "10"
        assert response["X-RateLimit-Remaining"] == str(9 - n)
        assert before < int(response["X-RateLimit-Reset"]) <= before + 15 * 60 + 1

    response = client.post("/api/v1/auth/login", {"username": "alice", "password": "guess10"})
    assert response.status_code == 429
    assert set(response.json()) == {"error"}
    assert response.json()["error"].startswith("Too many requests.")
    assert response["X-RateLimit-Limit"] == "10"
    assert response["X-RateLimit-Remaining"] == "0"
    reset = int(response["X-RateLimit-Reset"])
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    assert abs(reset - (int(time.time()) + int(response["Retry-After"]))) <= 2

    # Even the right password waits now, on both login endpoints (one budget per address)…
    assert client.post("/api/v1/auth/login", {"username": "alice", "password": PASSWORD}).status_code == 429
    assert client.post("/api/auth/callback/credentials", {"username": "alice", "password": PASSWORD}).status_code == 429
    # …while another address is not affected.
    other = APIClient(REMOTE_ADDR="10.0.0.2")
    assert other.post("/api/v1/auth/login", {"username": "alice", "password": PASSWORD}).status_code == 200


def test_general_api_limit_sends_headers(db, settings):
    settings.PUNT_API_RATE_PER_MINUTE = 3
    UserFactory(username="alice")
    client = APIClient()
    client.force_authenticate(UserFactory(username="bob"))
    statuses = [client.get("/api/v1/users/me").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_behind_a_trusted_proxy_the_limit_is_per_forwarded_address(db, settings):
    settings.PUNT_TRUSTED_PROXY_COUNT = 1
    UserFactory(username="alice")
    attacker = APIClient(REMOTE_ADDR="10.0.0.1")  # the load balancer
    for n in range(11):
        # A forged left-hand entry changes nothing: the proxy appended the real address.
        forwarded = f"1.2.3.{n}, 203.0.113.7"
        response = attacker.post(
            "/api/v1/auth/login", {"username": "alice", "password": "x"}, HTTP_X_FORWARDED_FOR=forwarded
        )
    assert response.status_code == 429
    someone_else = APIClient(REMOTE_ADDR="10.0.0.1")
    response = someone_else.post(
        "/api/v1/auth/login", {"username": "alice", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="198.51.100.9"
    )
    assert response.status_code == 200
