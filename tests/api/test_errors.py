"""One error shape for every API error: validation, 401/403/404, unknown paths, 500s."""

from __future__ import annotations

import logging

import pytest
from rest_framework.test import APIClient

from tests.accounts.helpers import bearer, login
from tests.factories import UserFactory


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


def test_validation_error_shape(api_client, db):
    response = api_client.post("/api/v1/auth/register", {"username": "", "email": "bad"})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Validation failed"
    assert sorted(body["details"], key=lambda d: d["field"]) == [
        {"field": "email", "message": "Enter a valid email address."},
        {"field": "password", "message": "This field is required."},
        {"field": "username", "message": "This field may not be blank."},
    ]


def test_malformed_json_is_400_in_the_error_shape(api_client, db):
    response = api_client.generic("POST", "/api/v1/auth/login", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) == {"error"}
    assert response.json()["error"].startswith("JSON parse error")


@pytest.mark.parametrize("path", ["/api/v1/does-not-exist", "/api/nothing/here", "/api/v1/users/me/api-keys/abc"])
def test_unknown_api_path_is_a_json_404(api_client, db, path):
    response = api_client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": f"No API endpoint at {path}"}


def test_method_not_allowed_shape(alice):
    response = bearer(login()["access_token"]).delete("/api/v1/users/me")
    assert response.status_code == 405
    assert response.json() == {"error": 'Method "DELETE" not allowed.'}


def test_unhandled_exception_in_an_api_view_is_a_json_500_without_traceback(alice, settings, caplog):
    settings.ROOT_URLCONF = "tests.api.testing_urls"
    client = bearer(login()["access_token"])
    with caplog.at_level(logging.ERROR, logger="punt.api"):
        response = client.get("/api/v1/test/boom")
    assert response.status_code == 500
    assert response.json() == {"error": "Internal server error"}
    assert b"secret internals" not in response.content and b"Traceback" not in response.content
    assert "secret internals" in caplog.text  # logged for the operators instead


def test_unhandled_exception_outside_drf_is_a_json_500(db, settings):
    settings.ROOT_URLCONF = "tests.api.testing_urls"
    client = APIClient(raise_request_exception=False)
    response = client.get("/api/v1/test/plain-boom")
    assert response.status_code == 500
    assert response.json() == {"error": "Internal server error"}
    assert b"secret internals" not in response.content
    missing = client.get("/api/v1/test/plain-missing")
    assert missing.status_code == 404
    assert missing.json() == {"error": "Not found"}


def test_expired_access_token_is_401_in_the_error_shape(alice):
    from datetime import timedelta

    from django.utils import timezone
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(alice)
    token.set_exp(from_time=timezone.now() - timedelta(minutes=16))
    response = bearer(str(token)).get("/api/v1/users/me")
    assert response.status_code == 401
    assert set(response.json()) == {"error"}


def test_a_body_over_the_upload_limit_is_a_413_not_a_500(alice, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    big = '{"username": "alice", "password": "' + "x" * 2048 + '"}'
    client = APIClient(raise_request_exception=False)
    response = client.generic("POST", "/api/v1/auth/login", big, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"error": "The request body is too large."}
    # The same outside DRF, for views that read the body themselves.
    settings.ROOT_URLCONF = "tests.api.testing_urls"
    response = client.generic("POST", "/api/v1/test/plain-body", big, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"error": "The request body is too large."}


def test_too_many_form_fields_is_a_400(alice, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    form = "&".join(f"f{i}=1" for i in range(20))
    client = APIClient(raise_request_exception=False)
    response = client.generic("POST", "/api/v1/auth/login", form, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.json() == {"error": "Bad request."}
