from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_unknown_page_is_a_friendly_html_404():
    response = Client().get("/no/such/page")
    assert response.status_code == 404
    assert "text/html" in response["Content-Type"]
    assert b"This page does not exist" in response.content


def test_api_paths_keep_their_json_404():
    response = Client().get("/api/v1/no-such-endpoint")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


def test_static_vendor_files_ship_with_their_licences():
    from django.contrib.staticfiles import finders

    for name in (
        "vendor/htmx-2.0.11/htmx.min.js",
        "vendor/htmx-2.0.11/LICENSE",
        "vendor/sortablejs-1.15.7/Sortable.min.js",
        "vendor/sortablejs-1.15.7/LICENSE",
        "css/punt.css",
        "js/punt.js",
        "js/board.js",
    ):
        assert finders.find(name), name


def test_login_page_and_sign_in_and_out():
    UserFactory(username="mary")
    client = Client()
    page = client.get("/login/")
    assert page.status_code == 200
    assert b'name="username"' in page.content
    response = client.post("/login/", {"username": "Mary", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
    response = client.post("/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_shows_an_error():
    UserFactory(username="mary")
    response = Client().post("/login/", {"username": "mary", "password": "nope"})
    assert response.status_code == 200
    assert b"errorlist" in response.content


def test_login_is_rate_limited_per_address():
    client = Client()
    statuses = [client.post("/login/", {"username": "x", "password": "y"}).status_code for _ in range(11)]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429


def test_anonymous_home_redirects_to_login():
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_register_creates_the_account_and_signs_in(settings):
    settings.PUNT_REGISTRATION_OPEN = True
    client = Client()
    assert client.get("/register/").status_code == 200
    response = client.post(
        "/register/", {"username": "newbie", "email": "newbie@example.com", "password": "a long enough passphrase"}
    )
    assert response.status_code == 302
    assert client.get("/").context["user"].username == "newbie"


def test_register_shows_service_errors_on_the_form(settings):
    settings.PUNT_REGISTRATION_OPEN = True
    UserFactory(username="taken")
    response = Client().post(
        "/register/", {"username": "Taken", "email": "x@example.com", "password": "a long enough passphrase"}
    )
    assert response.status_code == 200
    assert "already taken" in response.content.decode()


def test_register_is_404_when_registration_is_closed(settings):
    settings.PUNT_REGISTRATION_OPEN = False
    assert Client().get("/register/").status_code == 404
    assert b"/register/" not in Client().get("/login/").content


def test_forgot_and_reset_password_through_the_accounts_services():
    user = UserFactory(username="mary", email="mary@example.com")
    client = Client()
    response = client.post("/forgot-password", {"email": "mary@example.com"})
    assert response.status_code == 200
    assert b"Check your mail" in response.content
    # An unknown address gets the same page (no account enumeration) and no mail.
    assert b"Check your mail" in client.post("/forgot-password", {"email": "nobody@example.com"}).content
    assert len(mail.outbox) == 1
    link = re.search(r"http\S+/reset-password\?token=(\S+)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    token = link.group(1)
    page = client.get(f"/reset-password?token={token}")
    assert page.status_code == 200
    assert token.encode() in page.content
    response = client.post("/reset-password", {"token": token, "password": "a brand new passphrase"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a brand new passphrase")
    # The token is single-use.
    again = client.post("/reset-password", {"token": token, "password": "another new passphrase"})
    assert again.status_code == 200
    assert b"invalid or has expired" in again.content
