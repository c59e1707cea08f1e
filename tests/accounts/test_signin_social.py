"""Company sign-in (issue 23): providers from the environment, and a GitHub sign-in end to end
with GitHub's token and profile calls mocked (requests.Session.request)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp
from django.conf import settings as django_settings

from accounts import services
from accounts.models import User
from tests.accounts.helpers import bearer, login
from tests.factories import PASSWORD, UserFactory

GITHUB = {"client_id": "gh-id", "secret": "gh-secret"}


def _providers(**apps: list[dict[str, Any]]) -> dict[str, Any]:
    providers = json.loads(json.dumps(django_settings.SOCIALACCOUNT_PROVIDERS))
    for name, value in apps.items():
        providers[name]["APPS"] = value
    return providers


@pytest.fixture
def github(settings):
    settings.SOCIALACCOUNT_PROVIDERS = _providers(github=[GITHUB])


def test_providers_come_from_the_environment():
    env = {
        **os.environ,
        "PUNT_TESTING": "1",
        "PUNT_GITHUB_CLIENT_ID": "gh-id",
        "PUNT_GITHUB_CLIENT_SECRET": "gh-secret",
        "PUNT_GITLAB_URL": "https://git.corp.example/",
        "PUNT_GITLAB_CLIENT_ID": "gl-id",
        "PUNT_GITLAB_CLIENT_SECRET": "gl-secret",
        "PUNT_OIDC_NAME": "Corp SSO",
        "PUNT_OIDC_SERVER_URL": "https://sso.corp.example/realms/corp",
        "PUNT_OIDC_CLIENT_ID": "oidc-id",
        "PUNT_OIDC_CLIENT_SECRET": "oidc-secret",
    }
    script = "import json; from punt import settings as s; print(json.dumps(s.SOCIALACCOUNT_PROVIDERS))"
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    providers = json.loads(out.stdout)
    assert providers["github"]["APPS"] == [{"client_id": "gh-id", "secret": "gh-secret"}]
    assert providers["gitlab"]["APPS"] == [
        {
            "client_id": "gl-id",
            "secret": "gl-secret",
            "name": "GitLab",
            "settings": {"gitlab_url": "https://git.corp.example"},
        }
    ]
    assert providers["google"]["APPS"] == []
    assert providers["openid_connect"]["APPS"] == [
        {
            "client_id": "oidc-id",
            "secret": "oidc-secret",
            "provider_id": "oidc",
            "name": "Corp SSO",
            "settings": {"server_url": "https://sso.corp.example/realms/corp"},
        }
    ]
    half = {**env, "PUNT_GOOGLE_CLIENT_ID": "only-the-id"}
    failed = subprocess.run([sys.executable, "-c", script], env=half, capture_output=True, text=True)
    assert failed.returncode != 0 and "PUNT_GOOGLE_CLIENT_SECRET" in failed.stderr


@pytest.mark.django_db
def test_login_page_shows_a_button_per_provider_and_allows_their_origins(settings, client):
    settings.SOCIALACCOUNT_PROVIDERS = _providers(
        github=[GITHUB],
        gitlab=[
            {"client_id": "gl", "secret": "s", "name": "GitLab", "settings": {"gitlab_url": "https://git.corp.example"}}
        ],
        openid_connect=[
            {
                "client_id": "o",
                "secret": "s",
                "provider_id": "oidc",
                "name": "Corp SSO",
                "settings": {"server_url": "https://sso.corp.example/realms/corp"},
            }
        ],
    )
    # One more, set up by a site admin in the Django admin.
    SocialApp.objects.create(provider="google", name="Google", client_id="g", secret="s")
    page = client.get("/login/")
    html = page.content.decode()
    for name in ("GitHub", "GitLab", "Google", "Corp SSO"):
        assert f"Sign in with {name}" in html
    assert 'action="/accounts/github/login/?process=login' in html
    assert 'action="/accounts/oidc/oidc/login/?process=login' in html
    csp = page["Content-Security-Policy"]
    form_action = next(part for part in csp.split(";") if part.strip().startswith("form-action"))
    assert set(form_action.split()) == {
        "form-action",
        "'self'",
        "https://github.com",
        "https://git.corp.example",
        "https://accounts.google.com",
        "https://sso.corp.example",
    }
    # Pages that lead to no provider keep form-action 'self'.
    other = client.get("/forgot-password")
    assert "form-action 'self';" in other["Content-Security-Policy"] + ";"


@pytest.mark.django_db
def test_no_provider_no_buttons(client):
    assert "Sign in with" not in client.get("/login/").content.decode()


class FakeResponse:
    def __init__(self, data: Any, status_code: int = 200) -> None:
        self.data, self.status_code = data, status_code
        self.text = json.dumps(data)
        self.headers = {"content-type": "application/json"}

    def json(self) -> Any:
        return self.data

    def raise_for_status(self) -> None:
        assert self.status_code < 400


def _github_api(emails: list[dict[str, Any]], uid: int = 4242, login: str = "octo"):
    def request(method: str, url: str, **kwargs: Any) -> FakeResponse:
        if url == "https://github.com/login/oauth/access_token":
            return FakeResponse({"access_token": "token-1", "token_type": "bearer", "scope": "read:user,user:email"})
        if url == "https://api.github.com/user":
            return FakeResponse({"id": uid, "login": login, "name": "Octo Cat", "email": None})
        if url == "https://api.github.com/user/emails":
            return FakeResponse(emails)
        raise AssertionError(f"unexpected request {method} {url}")

    return mock.patch("requests.Session.request", side_effect=request)


def github_sign_in(client, emails: list[dict[str, Any]], **profile: Any):
    start = client.post("/accounts/github/login/?process=login", {"next": "/projects/"})
    assert start.status_code == 302, start.content
    location = urlsplit(start["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "https://github.com/login/oauth/authorize"
    state = parse_qs(location.query)["state"][0]
    with _github_api(emails, **profile):
        return client.get("/accounts/github/login/callback/", {"code": "code-1", "state": state})


def _session_user(client) -> str | None:
    user = client.get("/api/auth/session").json()["user"]
    return user and user["username"]


@pytest.mark.django_db
def test_github_sign_in_creates_an_account_with_a_verified_address(github, client):
    response = github_sign_in(client, [{"email": "octo@corp.example", "verified": True, "primary": True}])
    assert response.status_code == 302 and response["Location"] == "/projects/"
    user = User.objects.get(username="octo")
    assert user.email == "octo@corp.example" and not user.has_usable_password()
    assert EmailAddress.objects.get(user=user).verified
    assert SocialAccount.objects.get(provider="github").user == user
    assert _session_user(client) == "octo"


@pytest.mark.django_db
def test_github_sign_in_links_an_existing_account_by_verified_address(github, client):
    alice = UserFactory(username="alice", email="alice@corp.example")
    response = github_sign_in(client, [{"email": "Alice@corp.example", "verified": True, "primary": True}])
    assert response.status_code == 302
    assert SocialAccount.objects.get(provider="github").user == alice
    assert User.objects.count() == 1
    assert _session_user(client) == "alice"


@pytest.mark.django_db
def test_linking_an_account_whose_own_address_was_unverified_ends_its_password_and_tokens(github, client):
    # Whoever opened "alice" with that address (perhaps not its owner) is shut out: allauth wipes
    # the password, PUNT ends the tokens issued with it.
    alice = UserFactory(username="alice", email="alice@corp.example")
    tokens = login(username="alice")
    github_sign_in(client, [{"email": "alice@corp.example", "verified": True, "primary": True}])
    alice.refresh_from_db()
    assert not alice.has_usable_password()
    assert bearer(tokens["access_token"]).get("/api/v1/users/me").status_code == 401
    assert _session_user(client) == "alice"


@pytest.mark.django_db
def test_linking_keeps_the_password_of_an_account_with_a_verified_address(github, client):
    alice = UserFactory(username="alice", email="alice@corp.example")
    EmailAddress.objects.create(user=alice, email="alice@corp.example", primary=True, verified=True)
    tokens = login(username="alice")
    github_sign_in(client, [{"email": "alice@corp.example", "verified": True, "primary": True}])
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert bearer(tokens["access_token"]).get("/api/v1/users/me").status_code == 200


@pytest.mark.django_db
def test_github_sign_in_never_links_by_an_unverified_address(github, client):
    alice = UserFactory(username="alice", email="alice@corp.example")
    response = github_sign_in(client, [{"email": "alice@corp.example", "verified": False, "primary": True}])
    # Not signed in as alice: allauth asks the newcomer for another address instead.
    assert _session_user(client) is None
    assert response.status_code == 302 and response["Location"] == "/accounts/3rdparty/signup/"
    assert not SocialAccount.objects.filter(user=alice).exists()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)

    # The sign-up page asks for another address, in PUNT's frame.
    page = client.get("/accounts/3rdparty/signup/")
    html = page.content.decode()
    assert page.status_code == 200 and 'class="topbar"' in html and 'name="email"' in html
    welcome = client.post("/accounts/3rdparty/signup/", {"email": "octo@corp.example", "username": "octo"})
    assert welcome.status_code == 302
    octo = User.objects.get(username="octo")
    assert SocialAccount.objects.get(provider="github").user == octo
    primary = EmailAddress.objects.get(user=octo, primary=True)
    assert (primary.email, primary.verified) == ("octo@corp.example", False)  # typed in: nobody vouched for it


@pytest.mark.django_db
def test_the_social_sign_up_form_checks_the_domains(github, client):
    UserFactory(username="alice", email="alice@corp.example")
    services.system_settings_update(by=None, signup_email_domains=["corp.example"])
    github_sign_in(client, [{"email": "alice@corp.example", "verified": False, "primary": True}])
    refused = client.post("/accounts/3rdparty/signup/", {"email": "octo@elsewhere.example", "username": "octo"})
    assert refused.status_code == 403
    assert "Sign-up is limited to addresses at corp.example." in refused.content.decode()
    assert not User.objects.filter(username="octo").exists()


@pytest.mark.django_db
def test_github_sign_up_outside_the_domains_is_refused(github, client):
    services.system_settings_update(by=None, signup_email_domains=["corp.example"])
    response = github_sign_in(client, [{"email": "octo@elsewhere.example", "verified": True, "primary": True}])
    assert response.status_code == 403
    assert "Sign-up is limited to addresses at corp.example." in response.content.decode()
    assert not User.objects.filter(username="octo").exists()
    # An existing account outside the domains still signs in (the rule is about sign-up).
    UserFactory(username="bob", email="bob@elsewhere.example")
    client.logout()
    ok = github_sign_in(
        client, [{"email": "bob@elsewhere.example", "verified": True, "primary": True}], uid=7, login="bobgh"
    )
    assert ok.status_code == 302, ok.content.decode()[-3000:]
    assert _session_user(client) == "bob"


@pytest.mark.django_db
def test_github_sign_up_works_with_password_sign_up_off(github, client):
    services.system_settings_update(by=None, password_signup=False)
    response = github_sign_in(client, [{"email": "octo@corp.example", "verified": True, "primary": True}])
    assert response.status_code == 302 and _session_user(client) == "octo"


@pytest.mark.django_db
def test_github_sign_up_refused_while_registration_is_closed(github, client):
    services.system_settings_update(by=None, registration_open=False)
    response = github_sign_in(client, [{"email": "octo@corp.example", "verified": True, "primary": True}])
    assert response.status_code == 200 and "closed" in response.content.decode().lower()
    assert not User.objects.filter(username="octo").exists()


@pytest.mark.django_db
def test_github_username_follows_punts_rules(github, client):
    # "alice" belongs to someone else (case-insensitively): the new account gets another name.
    UserFactory(username="Octo", email="someone@else.example")
    github_sign_in(client, [{"email": "octo@corp.example", "verified": True, "primary": True}])
    user = User.objects.get(email="octo@corp.example")
    assert user.username.lower() != "octo"
    services.username_check(username=user.username + "x")  # well formed


@pytest.mark.django_db
def test_jwt_login_api_is_unchanged(github, api_client):
    UserFactory(username="alice")
    services.system_settings_update(by=None, email_verification="mandatory", password_signup=False)
    response = api_client.post("/api/v1/auth/login", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    assert set(response.json()) == {"access_token", "refresh_token", "token_type", "expires_in", "user"}
