"""The sign-in system settings (issue 23): shown and changed by site admins only, checked."""

from __future__ import annotations

import pytest

from accounts import services
from tests.accounts.helpers import bearer, error_shape, login
from tests.factories import UserFactory

URL = "/api/v1/admin/system-settings"
FIELDS = {"signup_email_domains", "password_signup", "email_verification", "require_two_factor"}


@pytest.fixture
def admin(db):
    return UserFactory(username="root", is_staff=True)


@pytest.mark.django_db
def test_defaults_keep_existing_flows(admin):
    body = bearer(login(username="root")["access_token"]).get(URL).json()
    assert {name: body[name] for name in FIELDS} == {
        "signup_email_domains": [],
        "password_signup": True,
        "email_verification": "none",
        "require_two_factor": "off",
    }


@pytest.mark.django_db
def test_admin_changes_them_and_input_is_normalized(admin):
    client = bearer(login(username="root")["access_token"])
    response = client.patch(
        URL,
        {
            "signup_email_domains": ["@Corp.Example", "corp.example", "lab.corp.example"],
            "password_signup": False,
            "email_verification": "mandatory",
            "require_two_factor": "admins",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["signup_email_domains"] == ["corp.example", "lab.corp.example"]
    assert (body["password_signup"], body["email_verification"], body["require_two_factor"]) == (
        False,
        "mandatory",
        "admins",
    )
    policy = services.system_settings()
    assert policy.email_verification == "mandatory" and policy.require_two_factor == "admins"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("signup_email_domains", ["not a domain"]),
        ("signup_email_domains", "corp.example"),
        ("email_verification", "sometimes"),
        ("require_two_factor", "owners"),
        ("password_signup", "maybe"),
    ],
)
def test_bad_values_are_400_naming_the_field(admin, field, value):
    response = bearer(login(username="root")["access_token"]).patch(URL, {field: value})
    assert response.status_code == 400
    body = response.json()
    error_shape(body, details=True)
    assert body["details"][0]["field"].startswith(field)


@pytest.mark.django_db
def test_non_admins_and_anonymous_are_refused(admin, api_client):
    UserFactory(username="bob")
    bob = bearer(login(username="bob")["access_token"])
    assert bob.get(URL).status_code == 403
    assert bob.patch(URL, {"password_signup": False}).status_code == 403
    assert api_client.patch(URL, {"password_signup": False}).status_code == 401
    assert services.system_settings().password_signup is True


@pytest.mark.django_db
def test_django_admin_form_shows_and_checks_them(admin, client):
    client.force_login(admin)
    page = client.get("/admin/accounts/systemsettings/add/")
    assert page.status_code == 200
    for name in FIELDS:
        assert f'name="{name}"' in page.content.decode()
    form = {
        "site_name": "PUNT",
        "registration_open": "on",
        "max_upload_bytes": "1048576",
        "allowed_upload_types": "[]",
        "default_member_role": "member",
        "signup_email_domains": '["nope"]',
        "password_signup": "on",
        "email_verification": "optional",
        "require_two_factor": "everyone",
    }
    refused = client.post("/admin/accounts/systemsettings/add/", form)
    assert refused.status_code == 200 and "is not a domain" in refused.content.decode()
    form["signup_email_domains"] = '["corp.example"]'
    assert client.post("/admin/accounts/systemsettings/add/", form).status_code == 302
    policy = services.system_settings()
    assert (policy.signup_email_domains, policy.email_verification, policy.require_two_factor) == (
        ["corp.example"],
        "optional",
        "everyone",
    )


@pytest.mark.django_db
def test_site_admins_set_up_providers_in_the_django_admin(admin, client):
    client.force_login(admin)
    page = client.get("/admin/socialaccount/socialapp/add/")
    assert page.status_code == 200
    html = page.content.decode()
    for provider in ("github", "gitlab", "google", "openid_connect"):
        assert f'value="{provider}"' in html
    form = {
        "provider": "gitlab",
        "provider_id": "",
        "name": "Our GitLab",
        "client_id": "gl-id",
        "secret": "gl-secret",
        "key": "",
        "settings": '{"gitlab_url": "https://git.corp.example"}',
    }
    assert client.post("/admin/socialaccount/socialapp/add/", form).status_code == 302
    client.logout()
    login_page = client.get("/login/")
    assert "Sign in with Our GitLab" in login_page.content.decode()
    assert "https://git.corp.example" in login_page["Content-Security-Policy"]


@pytest.mark.django_db
def test_non_admins_cannot_reach_the_provider_admin(client):
    client.force_login(UserFactory(username="bob"))
    response = client.get("/admin/socialaccount/socialapp/add/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
