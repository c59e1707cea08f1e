"""A path under /api/ that names no endpoint is a 404 in the error shape (seed 000: "404 Not
Found - Resource doesn't exist"), whatever the method, the dialect's prefix and the cookies:
never the CSRF check's HTML 403 page, never a page."""

from __future__ import annotations

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
PATHS = [
    "/api/no-such-endpoint",
    "/api/projects/1/no-such-thing",
    "/api/v1/no-such-endpoint",
    "/api/v1/projects/x/no-such-thing",
    "/api/v3/no-such-endpoint",
    "/api/v3/projects/olivia/blog/no-such-thing",
]


def client_with(cookie: str) -> APIClient:
    client = APIClient(enforce_csrf_checks=True)
    if cookie != "none":
        client.force_login(UserFactory(username="mary"))
    if cookie == "document":
        client.cookies["next-auth.session-token"] = client.cookies.pop(settings.SESSION_COOKIE_NAME).value
    return client


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("cookie", ["none", "session", "document"])
def test_unknown_api_paths_are_a_json_404(path, method, cookie):
    body = "" if method in ("GET", "HEAD", "OPTIONS") else "name=x"
    response = client_with(cookie).generic(method, path, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    if method != "HEAD":
        assert response.json() == {"error": f"No API endpoint at {path}"}
    else:
        assert response.content == b""


@pytest.mark.parametrize("path", PATHS)
def test_a_json_body_and_a_foreign_origin_change_nothing(path):
    response = client_with("session").post(path, {"name": "x"}, format="json", HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 404
    assert response.json() == {"error": f"No API endpoint at {path}"}
