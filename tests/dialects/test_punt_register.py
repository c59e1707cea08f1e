"""PUNT's registration (seed 000: "Authentication - Login, registration, session management";
"Registration | 5 requests per hour"): POST /api/auth/register, on the same rules and the
same budget as /api/v1/auth/register, answered like PUNT's sign-in."""

from __future__ import annotations

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import PASSWORD, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/auth/register"
GOOD = {"username": "newbie", "email": "newbie@example.com", "password": "a long enough passphrase", "name": "New Bie"}
DOCUMENT_COOKIE = "next-auth.session-token"


def register(data: dict | None = None, client: APIClient | None = None, **headers: str):
    return (client or APIClient()).post(URL, data or GOOD, format="json", **headers)


def test_register_creates_the_account_and_answers_like_sign_in():
    client = APIClient(enforce_csrf_checks=True)
    response = register(client=client)
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"user", "csrfToken"}
    user = User.objects.get(username="newbie")
    assert user.check_password(GOOD["password"])
    assert user.display_name == "New Bie"
    # The user in the shape PUNT's sign-in answers with.
    signed_in = APIClient().post(
        "/api/auth/callback/credentials", {"username": "newbie", "password": GOOD["password"]}, format="json"
    )
    assert body["user"] == signed_in.json()["user"]
    # Signed in with both cookies, as by the credentials callback.
    assert response.cookies[DOCUMENT_COOKIE].value == response.cookies[settings.SESSION_COOKIE_NAME].value
    assert response.cookies[DOCUMENT_COOKIE]["httponly"] is True
    assert client.get("/api/auth/session").json()["user"]["username"] == "newbie"
    # The document's client goes on with the cookie alone.
    created = client.post("/api/projects", {"name": "Mine", "key": "MINE"}, format="json")
    assert created.status_code == 201


def test_register_accepts_a_form_like_sign_in():
    response = APIClient().post(URL, GOOD, format="multipart")
    assert response.status_code == 201
    assert User.objects.filter(username="newbie").exists()


def test_register_can_be_switched_off_by_the_site_setting(settings):
    settings.PUNT_REGISTRATION_OPEN = False
    response = register()
    assert response.status_code == 403
    assert response.json() == {"error": "Registration is closed on this server."}
    assert not User.objects.filter(username="newbie").exists()
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_register_follows_the_admins_switch(db):
    root = UserFactory(username="root", is_staff=True)
    admin = APIClient()
    admin.force_authenticate(root)
    assert admin.patch("/api/admin/settings", {"registrationOpen": False}, format="json").status_code == 200
    assert register().status_code == 403
    assert admin.patch("/api/admin/settings", {"registrationOpen": True}, format="json").status_code == 200
    assert register().status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"username": "has space"}, "username"),
        ({"username": "Taken"}, "username"),
        ({"username": "acme"}, "username"),  # organizations share the namespace
        ({"email": "not-an-email"}, "email"),
        ({"email": "DUP@example.com"}, "email"),
        ({"password": "123"}, "password"),
        ({"password": "newbie12345"}, "password"),  # too similar to the username
        ({"username": ""}, "username"),
        ({"name": "x" * 151}, "name"),
    ],
)
def test_register_validation_is_the_canonical_ones_in_the_error_shape(change, field):
    UserFactory(username="taken", email="dup@example.com")
    OrganizationFactory(slug="acme")
    response = register({**GOOD, **change})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "Validation failed"
    assert {d["field"] for d in body["details"]} == {field}
    # The canonical endpoint says the same about the same input.
    canonical = {**GOOD, **change}
    canonical["display_name"] = canonical.pop("name")
    same = APIClient(REMOTE_ADDR="10.9.9.9").post("/api/v1/auth/register", canonical, format="json")
    assert same.status_code == 400
    expected = "display_name" if field == "name" else field
    assert {d["field"] for d in same.json()["details"]} == {expected}
    assert [d["message"] for d in same.json()["details"]] == [d["message"] for d in body["details"]]
    assert User.objects.count() == 1


def test_register_shares_the_5_per_hour_budget_with_the_canonical_endpoint():
    for n in range(3):
        data = {**GOOD, "username": f"v{n}", "email": f"v{n}@x.org"}
        data["display_name"] = data.pop("name")
        assert APIClient().post("/api/v1/auth/register", data, format="json").status_code == 201
    for n in range(2):
        response = register({**GOOD, "username": f"p{n}", "email": f"p{n}@x.org"})
        assert response.status_code == 201
        assert response["X-RateLimit-Limit"] == "5"
        assert response["X-RateLimit-Remaining"] == str(1 - n)
    refused = register({**GOOD, "username": "p9", "email": "p9@x.org"})
    assert refused.status_code == 429
    assert set(refused.json()) == {"error"}
    assert int(refused["Retry-After"]) > 0
    assert not User.objects.filter(username="p9").exists()


@pytest.mark.parametrize(
    "headers",
    [{"HTTP_ORIGIN": "https://evil.example"}, {"HTTP_SEC_FETCH_SITE": "cross-site"}, {"HTTP_ORIGIN": "null"}],
)
def test_a_cross_site_registration_is_refused(headers):
    response = register(**headers)
    assert response.status_code == 403
    assert response.json() == {"error": "Cross-site request refused: send it from this site's own pages."}
    assert not User.objects.filter(username="newbie").exists()
    assert DOCUMENT_COOKIE not in response.cookies


def test_register_ignores_a_stale_session_and_signs_in_the_new_account(db):
    UserFactory(username="olivia")
    client = APIClient()
    client.post("/api/auth/callback/credentials", {"username": "olivia", "password": PASSWORD}, format="json")
    assert register(client=client).status_code == 201
    assert client.get("/api/auth/session").json()["user"]["username"] == "newbie"


def test_register_is_in_the_openapi_schema(db):
    schema = APIClient().get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/auth/register"]["post"]
    assert set(operation["responses"]) >= {"201", "400", "403", "429"}
    request = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][request]["properties"]) == {"username", "email", "password", "name"}
