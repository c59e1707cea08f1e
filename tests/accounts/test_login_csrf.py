"""PUNT's sign-in refuses cross-site browser requests (login CSRF), by Origin / Sec-Fetch-Site."""

from __future__ import annotations

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests.factories import PASSWORD, UserFactory

URL = "/api/auth/callback/credentials"


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


def sign_in(**headers: str):
    return APIClient().post(URL, {"username": "alice", "password": PASSWORD}, format="json", **headers)


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "http://testserver.evil.example"},
        {"HTTP_ORIGIN": "https://testserver"},  # another scheme is another origin
        {"HTTP_ORIGIN": "null"},  # sandboxed frames and some redirects
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_ORIGIN": "http://testserver"},
    ],
)
def test_a_cross_site_sign_in_is_refused_without_a_session(alice, headers):
    response = sign_in(**headers)
    assert response.status_code == 403
    assert response.json() == {"error": "Cross-site request refused: send it from this site's own pages."}
    assert settings.SESSION_COOKIE_NAME not in response.cookies


@pytest.mark.parametrize(
    "headers",
    [
        {},  # curl and scripts send neither header
        {"HTTP_ORIGIN": "http://testserver"},
        {"HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_ORIGIN": "http://testserver"},
        {"HTTP_SEC_FETCH_SITE": "none"},  # typed into the address bar / a bookmark
    ],
)
def test_same_origin_and_non_browser_sign_ins_work(alice, headers):
    response = sign_in(**headers)
    assert response.status_code == 200, response.content
    assert response.json()["user"]["username"] == "alice"
    assert settings.SESSION_COOKIE_NAME in response.cookies


def test_trusted_origins_are_accepted_as_by_the_csrf_check(alice, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example.com", "https://*.corp.example"]
    assert sign_in(HTTP_ORIGIN="https://app.example.com").status_code == 200
    assert sign_in(HTTP_ORIGIN="https://team.corp.example").status_code == 200
    assert sign_in(HTTP_ORIGIN="http://team.corp.example").status_code == 403
    assert sign_in(HTTP_ORIGIN="https://corp.example.evil").status_code == 403


def test_the_refusal_is_documented(db):
    schema = APIClient().get("/api/schema/").content.decode()
    assert "refused with 403" in schema
