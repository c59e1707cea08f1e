"""Sign-up rules on every password sign-up path, and e-mail verification (issue 23)."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from rest_framework.test import APIClient

from accounts import services
from accounts.models import User
from tests.factories import PASSWORD

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
NEW = {"username": "carol", "email": "carol@outside.example", "password": PASSWORD, "display_name": "Carol"}


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    settings.TASKS = IMMEDIATE


def _web_register(client, **changes):
    data = {**NEW, **changes}
    return client.post("/register/", {k: data[k] for k in ("username", "email", "password", "display_name")})


def _api_register(**changes):
    return APIClient().post("/api/v1/auth/register", {**NEW, **changes})


def _punt_register(**changes):
    data = {**NEW, **changes}
    body = {"username": data["username"], "email": data["email"], "password": data["password"], "name": "Carol"}
    return APIClient().post("/api/auth/register", body)


@pytest.mark.django_db
def test_domain_restriction_applies_to_every_password_sign_up_path(client):
    services.system_settings_update(by=None, signup_email_domains=["corp.example"])
    page = _web_register(client)
    assert page.status_code == 200 and "Sign-up is limited to addresses at corp.example." in page.content.decode()
    for response in (_api_register(), _punt_register()):
        assert response.status_code == 400, response.content
        assert response.json()["details"] == [
            {"field": "email", "message": "Sign-up is limited to addresses at corp.example."}
        ]
    assert not User.objects.filter(username="carol").exists()
    # An address at the domain (any case) is welcome.
    assert _api_register(email="carol@CORP.example").status_code == 201
    assert _web_register(client, username="carol2", email="carol2@corp.example").status_code == 302


@pytest.mark.django_db
def test_password_sign_up_off_refuses_every_password_path(client):
    services.system_settings_update(by=None, password_signup=False)
    page = client.get("/register/")
    assert page.status_code == 403
    assert "Sign-up with a password is turned off" in page.content.decode()
    assert 'name="password"' not in page.content.decode()
    assert _web_register(client).status_code == 403
    for response in (_api_register(), _punt_register()):
        assert response.status_code == 403, response.content
        assert "Sign-up with a password is turned off" in response.json()["error"]
    assert not User.objects.filter(username="carol").exists()
    # The sign-in page no longer offers the sign-up link.
    assert 'href="/register/"' not in client.get("/login/").content.decode().split("</main>")[0].split("<main")[1]


@pytest.mark.django_db
def test_sign_up_link_shows_while_password_sign_up_is_on(client):
    assert 'href="/register/"' in client.get("/login/").content.decode().split("<main")[1]


@pytest.mark.django_db
def test_verification_off_signs_in_and_sends_nothing(client):
    response = _web_register(client)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/api/auth/session").json()["user"]["username"] == "carol"
    assert mail.outbox == []
    address = EmailAddress.objects.get(user__username="carol")
    assert (address.email, address.primary, address.verified) == ("carol@outside.example", True, False)


def _confirm_link() -> str:
    assert len(mail.outbox) == 1, [m.subject for m in mail.outbox]
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^/\s]+/)", mail.outbox[0].body)
    assert match, mail.outbox[0].body
    return match.group(1)


@pytest.mark.django_db
def test_verification_optional_mails_a_link_and_signs_in(client):
    services.system_settings_update(by=None, email_verification="optional")
    response = _web_register(client)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/api/auth/session").json()["user"]["username"] == "carol"
    assert mail.outbox[0].to == ["carol@outside.example"]
    assert mail.outbox[0].subject == "[PUNT] Please Confirm Your Email Address"
    assert mail.outbox[0].body.startswith("Hello from PUNT!")
    link = _confirm_link()
    assert client.get(link).status_code == 302
    assert EmailAddress.objects.get(user__username="carol").verified


@pytest.mark.django_db
def test_verification_mandatory_blocks_web_sign_in_until_confirmed(client):
    services.system_settings_update(by=None, email_verification="mandatory")
    response = _web_register(client)
    assert response.status_code == 302 and response["Location"] == "/accounts/confirm-email/"
    assert client.get("/api/auth/session").json()["user"] is None
    page = client.get("/accounts/confirm-email/")
    assert page.status_code == 200 and "PUNT" in page.content.decode()
    link = _confirm_link()

    # Signing in with the password before confirming: no session (the link is not mailed again
    # within allauth's cooldown of a few minutes).
    mail.outbox.clear()
    other = client.__class__()
    refused = other.post("/login/", {"username": "carol", "password": PASSWORD})
    assert refused.status_code == 302 and refused["Location"] == "/accounts/confirm-email/"
    assert other.get("/api/auth/session").json()["user"] is None
    assert mail.outbox == []

    # The JWT API is unchanged: its clients sign in as before.
    assert APIClient().post("/api/v1/auth/login", {"username": "carol", "password": PASSWORD}).status_code == 200

    assert client.get(link).status_code == 302
    assert EmailAddress.objects.get(user__username="carol").verified
    signed_in = other.post("/login/", {"username": "carol", "password": PASSWORD})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/"
    assert other.get("/api/auth/session").json()["user"]["username"] == "carol"


@pytest.mark.django_db
def test_web_login_keeps_next_device_cookie_and_existing_users_without_address_rows(client):
    from tests.factories import UserFactory

    UserFactory(username="dave")
    services.system_settings_update(by=None, email_verification="optional")
    response = client.post("/login/", {"username": "dave", "password": PASSWORD, "next": "/projects/"})
    assert response.status_code == 302 and response["Location"] == "/projects/"
    assert "punt_device" in response.cookies
    assert mail.outbox == []  # optional: mailed at sign-up only


@pytest.mark.django_db
def test_allauth_password_pages_lead_to_punts(client):
    assert client.get("/accounts/login/?next=/x")["Location"] == "/login/?next=/x"
    assert client.get("/accounts/signup/")["Location"] == "/register/"
    assert client.get("/accounts/password/reset/")["Location"] == "/forgot-password"
    assert client.get("/accounts/email/")["Location"] == "/settings/"


@pytest.mark.django_db
def test_api_registration_mails_the_link_and_still_issues_tokens():
    services.system_settings_update(by=None, email_verification="mandatory")
    response = _api_register()
    assert response.status_code == 201 and response.json()["access_token"]
    assert "messages" not in response.cookies  # no page message on an API answer
    assert mail.outbox[0].to == ["carol@outside.example"]
    assert "/accounts/confirm-email/" in mail.outbox[0].body


@pytest.mark.django_db
def test_punt_session_api_waits_for_the_confirmation_when_mandatory():
    services.system_settings_update(by=None, email_verification="mandatory")
    client = APIClient()
    created = _punt_register()
    assert created.status_code == 201 and created.json()["user"]["username"] == "carol"
    assert not {"sessionid", "next-auth.session-token"} & set(created.cookies)  # no session yet
    link = _confirm_link()
    refused = client.post("/api/auth/callback/credentials", {"username": "carol", "password": PASSWORD})
    assert refused.status_code == 403
    assert refused.json() == {"error": "Confirm your e-mail address first: a link was mailed to you."}
    assert client.get(link).status_code == 302
    signed_in = client.post("/api/auth/callback/credentials", {"username": "carol", "password": PASSWORD})
    assert signed_in.status_code == 200
    assert client.get("/api/auth/session").json()["user"]["username"] == "carol"


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["none", "optional"])
def test_punt_session_api_signs_in_unverified_accounts_unless_mandatory(method):
    services.system_settings_update(by=None, email_verification=method)
    client = APIClient()
    assert _punt_register().status_code == 201
    assert client.post("/api/auth/callback/credentials", {"username": "carol", "password": PASSWORD}).status_code == 200
    assert len(mail.outbox) == (1 if method == "optional" else 0)


@pytest.mark.django_db
def test_the_address_row_follows_the_accounts_address():
    from tests.accounts.helpers import bearer, login
    from tests.factories import UserFactory

    alice = UserFactory(username="alice", email="alice@example.com")
    EmailAddress.objects.create(user=alice, email="alice@example.com", primary=True, verified=True)
    client = bearer(login(username="alice")["access_token"])
    assert client.put("/api/v1/users/me", {"email": "Alice@New.example"}).status_code == 200
    rows = list(EmailAddress.objects.filter(user=alice).values_list("email", "primary", "verified"))
    assert rows == [("alice@new.example", True, False)]  # a new address is not verified yet


@pytest.mark.django_db
def test_an_account_made_in_the_django_admin_gets_its_address_row(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    form = {"username": "erin", "email": "erin@example.com", "usable_password": "false"}
    assert client.post("/admin/accounts/user/add/", form).status_code == 302
    erin = User.objects.get(username="erin")
    assert list(EmailAddress.objects.filter(user=erin).values_list("email", "primary")) == [("erin@example.com", True)]


@pytest.mark.django_db
def test_the_confirmation_link_signs_in_only_the_browser_that_signed_up(client):
    """ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION: the link finishes the pending sign-in of the browser
    that registered; opened anywhere else it confirms the address and asks for the password."""
    services.system_settings_update(by=None, email_verification="mandatory")
    _web_register(client)
    link = _confirm_link()
    elsewhere = client.__class__()
    confirmed = elsewhere.get(link)
    assert confirmed.status_code == 302 and confirmed["Location"].startswith("/login/")
    assert elsewhere.get("/api/auth/session").json()["user"] is None
    assert EmailAddress.objects.get(user__username="carol").verified
