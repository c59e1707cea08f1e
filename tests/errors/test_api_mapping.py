"""A PuntError of each kind becomes the API's status, error shape and headers, in DRF views and outside them."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.accounts.helpers import bearer, login
from tests.factories import UserFactory

EXPECTED = {
    "not-found": (404, {"error": "Card not found."}),
    "forbidden": (403, {"error": "Only the author can edit a comment."}),
    "invalid": (
        400,
        {"error": "Validation failed", "details": [{"field": "title", "message": "A title is required."}]},
    ),
    "invalid-fields": (
        400,
        {
            "error": "Validation failed",
            "details": [
                {"field": "title", "message": "Too long."},
                {"field": "due_date", "message": "Not a date."},
                {"field": "due_date", "message": "In the past."},
            ],
        },
    ),
    "conflict": (409, {"error": "This project is already archived."}),
    "unprocessable": (422, {"error": "The request cannot be processed."}),
    "too-large": (413, {"error": "The file is larger than the limit of 10 bytes."}),
    "rate-limited": (429, {"error": "Slow down."}),
    "unavailable": (503, {"error": "The service is unavailable. Try again later."}),
}


@pytest.fixture
def client(db, settings) -> APIClient:
    settings.ROOT_URLCONF = "tests.api.testing_urls"
    UserFactory(username="alice")
    return bearer(login()["access_token"])


@pytest.mark.parametrize("kind", EXPECTED)
def test_a_refusal_in_an_api_view_is_its_status_and_the_error_shape(client, kind):
    response = client.get(f"/api/v1/test/refuse/{kind}")
    assert (response.status_code, response.json()) == EXPECTED[kind]


@pytest.mark.parametrize("kind", EXPECTED)
def test_a_refusal_outside_drf_under_api_gets_the_same_answer(client, kind):
    response = client.get(f"/api/v1/test/plain-refuse/{kind}")
    assert (response.status_code, response.json()) == EXPECTED[kind]


@pytest.mark.parametrize("path", ["/api/v1/test/refuse/rate-limited", "/api/v1/test/plain-refuse/rate-limited"])
def test_rate_limited_says_when_to_retry(client, path):
    assert client.get(path)["Retry-After"] == "7"


def test_unauthenticated_names_the_scheme_the_view_accepts(client):
    response = client.get("/api/v1/test/refuse/unauthenticated")
    assert response.status_code == 401
    assert response.json() == {"error": "The refresh token is invalid, expired or revoked."}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_service_refusal_reaches_the_client_unchanged(db):
    """End to end: accounts.services raises Unauthenticated for a spent refresh token (was simplejwt's InvalidToken)."""
    UserFactory(username="alice")
    response = APIClient().post("/api/v1/auth/refresh", {"refresh_token": "not-a-token"})
    assert response.status_code == 401
    assert response.json() == {"error": "The refresh token is invalid, expired or revoked."}
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
