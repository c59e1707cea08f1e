"""Seed 000's session, as its own client uses it: sign in at /api/auth/callback/credentials,
then "include this cookie in subsequent requests" with only

    Content-Type: application/json
    Cookie: next-auth.session-token=<your-session-token>

Writes made that way need no CSRF token on the PUNT dialect's paths; what another site
could make a browser send (forms, text/plain, a foreign Origin or Sec-Fetch-Site) still
does, as does every cookie write on /api/v1/, /api/v3/ and pages.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from projects.models import Project
from tests.dialects.conftest import same_shape
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

DOCUMENT_COOKIE = "next-auth.session-token"
# Seed 000's request example and seed 001's create-project body.
PROJECT_BODY = {"name": "My Project", "key": "PROJ", "description": "Project description", "color": "#3B82F6"}
CSRF_REFUSED = "CSRF Failed"


@pytest.fixture
def mary(db):
    return UserFactory(username="mary")


def signed_in(cookie: str = "both") -> APIClient:
    """A client that signed in through seed 000's endpoint and keeps `cookie`: "both",
    "document" (only next-auth.session-token) or "django" (only sessionid)."""
    client = APIClient(enforce_csrf_checks=True)
    response = client.post("/api/auth/callback/credentials", {"username": "mary", "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    assert response.cookies[DOCUMENT_COOKIE].value == response.cookies[settings.SESSION_COOKIE_NAME].value
    if cookie == "document":
        del client.cookies[settings.SESSION_COOKIE_NAME]
    elif cookie == "django":
        del client.cookies[DOCUMENT_COOKIE]
    # The document's client keeps its session cookie, nothing else.
    del client.cookies[settings.CSRF_COOKIE_NAME]
    return client


def post_project(client: APIClient, content_type: str = "application/json", body: str | None = None, **headers: str):
    payload = json.dumps(PROJECT_BODY) if body is None else body
    return client.generic("POST", "/api/projects", payload, content_type=content_type, **headers)


# --------------------------------------------------------------------------- item 1: cookie-only JSON writes


@pytest.mark.parametrize("cookie", ["both", "document", "django"])
def test_a_json_write_with_only_the_session_cookie_succeeds(mary, cookie):
    response = post_project(signed_in(cookie))
    assert response.status_code == 201, response.content
    same_shape(
        response.json(),
        {**PROJECT_BODY, "id": "x", "createdAt": "2024-01-01T00:00:00.000Z", "updatedAt": "2024-01-15T10:30:00.000Z"},
    )
    assert Project.objects.get(key="PROJ").memberships.get().user == mary


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "http://testserver"},
        {"HTTP_SEC_FETCH_SITE": "same-origin"},
        {"HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_ORIGIN": "http://testserver"},
        # The user's own action (address bar, bookmark, their extension): no other site is involved.
        {"HTTP_SEC_FETCH_SITE": "none"},
    ],
)
def test_a_json_write_from_this_site_succeeds(mary, headers):
    assert post_project(signed_in("document"), **headers).status_code == 201


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON;charset=UTF-8"])
def test_json_with_a_charset_counts_as_json(mary, content_type):
    assert post_project(signed_in(), content_type=content_type).status_code == 201


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "http://testserver.evil.example"},
        {"HTTP_ORIGIN": "https://testserver"},  # another scheme is another origin
        {"HTTP_ORIGIN": "null"},
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_SEC_FETCH_SITE": "same-site"},  # a sibling subdomain is another origin
        {"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_ORIGIN": "http://testserver"},
        {"HTTP_SEC_FETCH_SITE": "some-future-value"},
    ],
)
@pytest.mark.parametrize("cookie", ["document", "django"])
def test_a_cross_origin_cookie_write_is_refused(mary, headers, cookie):
    response = post_project(signed_in(cookie), **headers)
    assert response.status_code == 403
    assert set(response.json()) == {"error"}
    assert response.json()["error"].startswith(CSRF_REFUSED)
    assert not Project.objects.filter(key="PROJ").exists()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        # What an HTML form or a no-cors fetch on another site can send without a preflight.
        ("application/x-www-form-urlencoded", "name=My+Project&key=PROJ"),
        ("text/plain", json.dumps(PROJECT_BODY)),
        ("multipart/form-data; boundary=B", '--B\r\nContent-Disposition: form-data; name="name"\r\n\r\nX\r\n--B--\r\n'),
        ("application/jsonx", json.dumps(PROJECT_BODY)),
    ],
)
@pytest.mark.parametrize("cookie", ["document", "django"])
def test_a_cookie_write_that_is_not_json_still_needs_the_csrf_token(mary, content_type, body, cookie):
    response = post_project(signed_in(cookie), content_type=content_type, body=body)
    assert response.status_code == 403
    assert response.json()["error"].startswith(CSRF_REFUSED)
    assert not Project.objects.filter(key="PROJ").exists()


def test_a_form_write_with_the_csrf_token_still_works(mary):
    client = APIClient(enforce_csrf_checks=True)
    token = client.post(
        "/api/auth/callback/credentials", {"username": "mary", "password": PASSWORD}, format="json"
    ).json()["csrfToken"]
    body = {"name": "My Project", "key": "PROJ"}
    response = client.post("/api/projects", body, format="multipart", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201


def test_every_write_method_works_with_the_cookie_alone(mary):
    client = signed_in("document")
    project = post_project(client).json()
    url = f"/api/projects/{project['id']}"
    changed = client.generic("PATCH", url, json.dumps({"name": "Renamed"}), content_type="application/json")
    assert changed.status_code == 200
    assert changed.json()["name"] == "Renamed"
    label = client.generic("POST", f"{url}/labels", json.dumps({"name": "bug"}), content_type="application/json")
    assert label.status_code == 201
    deleted = client.generic("DELETE", f"{url}/labels/{label.json()['id']}", "", content_type="application/json")
    assert deleted.status_code == 200
    assert deleted.json() == {"success": True}


def test_put_patch_and_delete_need_no_json_body_with_the_cookie_alone(mary):
    # No page on another site can send these methods without a CORS preflight, whatever the body.
    client = signed_in("document")
    project = post_project(client).json()
    url = f"/api/projects/{project['id']}"
    label = client.generic("POST", f"{url}/labels", json.dumps({"name": "bug"}), content_type="application/json")
    deleted = client.generic("DELETE", f"{url}/labels/{label.json()['id']}")
    assert deleted.status_code == 200, deleted.content
    renamed = client.generic("PATCH", url, "name=Renamed", content_type="application/x-www-form-urlencoded")
    assert renamed.status_code == 200, renamed.content
    assert renamed.json()["name"] == "Renamed"
    # ...but a foreign Origin still gives it away.
    refused = client.generic("DELETE", url, HTTP_ORIGIN="https://evil.example")
    assert refused.status_code == 403
    assert refused.json()["error"].startswith(CSRF_REFUSED)
    assert Project.objects.filter(pk=project["id"]).exists()


def test_the_other_dialects_and_pages_keep_the_csrf_token(mary):
    client = signed_in("django")
    # /api/v1/ (seed 004) and /api/v3/ (seed 003) speak tokens and keys: a cookie write needs the CSRF token.
    for url, body in (("/api/v1/projects", {"name": "V1", "key": "VONE"}), ("/api/v1/users/me", {"display_name": "X"})):
        method = "PUT" if url.endswith("/me") else "POST"
        response = client.generic(method, url, json.dumps(body), content_type="application/json")
        assert response.status_code == 403, url
        assert response.json()["error"].startswith(CSRF_REFUSED)
    # Pages keep Django's own check, JSON or not.
    page = Client(enforce_csrf_checks=True)
    page.force_login(mary)
    assert page.post("/logout/", "{}", content_type="application/json").status_code == 403


def test_sign_out_with_the_cookie_alone_is_a_json_write_like_any_other(mary):
    client = signed_in("document")
    assert client.post("/api/auth/signout").status_code == 403  # no body, no JSON: a form could send it
    assert client.get("/api/auth/session").json()["user"]["username"] == "mary"
    cross_site = client.post("/api/auth/signout", {}, format="json", HTTP_ORIGIN="https://evil.example")
    assert cross_site.status_code == 403
    assert client.post("/api/auth/signout", {}, format="json").status_code == 204
    assert client.get("/api/auth/session").json() == {"user": None, "expires": None}


# --------------------------------------------------------------------------- item 2: the document's cookie name


def test_sign_in_sets_both_cookies_with_the_session_cookies_flags(mary, settings):
    settings.SESSION_COOKIE_SECURE = True
    response = APIClient().post(
        "/api/auth/callback/credentials", {"username": "mary", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    django_cookie, document_cookie = response.cookies[settings.SESSION_COOKIE_NAME], response.cookies[DOCUMENT_COOKIE]
    assert document_cookie.value == django_cookie.value
    for flag in ("httponly", "secure", "samesite", "path", "domain", "max-age", "expires"):
        assert document_cookie[flag] == django_cookie[flag], flag
    assert document_cookie["httponly"] is True
    assert document_cookie["secure"] is True
    assert document_cookie["samesite"] == "Lax"


def test_the_document_cookie_alone_authenticates_reads(mary):
    client = signed_in("document")
    assert client.get("/api/projects").status_code == 200
    assert client.get("/api/auth/session").json()["user"]["username"] == "mary"


def test_the_document_cookie_is_read_on_the_punt_dialect_only(mary):
    client = signed_in("document")
    # /api/v1/ and pages know only Django's cookie name.
    assert client.get("/api/v1/users/me").status_code == 401
    assert client.get("/").status_code == 302


def test_a_forged_document_cookie_is_no_session(mary):
    client = APIClient()
    client.cookies[DOCUMENT_COOKIE] = "x" * 32
    response = client.get("/api/projects")
    assert response.status_code == 401
    # The unknown session's cookie is cleared, as Django clears an unknown sessionid.
    assert response.cookies[DOCUMENT_COOKIE]["max-age"] == 0


@pytest.mark.parametrize("cookie", ["both", "document", "django"])
def test_sign_out_clears_both_cookies(mary, cookie):
    client = signed_in(cookie)
    response = client.post("/api/auth/signout", {}, format="json")
    assert response.status_code == 204
    # Django clears the cookie it was sent; the document's cookie is cleared either way.
    cleared = [DOCUMENT_COOKIE] + ([settings.SESSION_COOKIE_NAME] if cookie != "document" else [])
    for name in cleared:
        assert response.cookies[name]["max-age"] == 0, name
        assert response.cookies[name].value == "", name
    assert client.get("/api/projects").status_code == 401


def test_a_page_sign_in_keeps_the_document_cookie_in_step(mary):
    client = Client()
    client.cookies[DOCUMENT_COOKIE] = "an-old-session-key-0123456789"
    response = client.post("/login/", {"username": "mary", "password": PASSWORD})
    assert response.status_code == 302
    assert response.cookies[DOCUMENT_COOKIE].value == response.cookies[settings.SESSION_COOKIE_NAME].value


def test_the_schema_documents_the_document_cookie_on_the_punt_paths_only(db):
    schema = APIClient().get("/api/schema/?format=json").json()
    scheme = schema["components"]["securitySchemes"]["documentCookieAuth"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "cookie", DOCUMENT_COOKIE)
    assert "JSON write" in schema["components"]["securitySchemes"]["cookieAuth"]["description"]
    assert {"documentCookieAuth": []} in schema["paths"]["/api/projects"]["post"]["security"]
    assert {"documentCookieAuth": []} not in schema["paths"]["/api/v1/projects"]["post"]["security"]
