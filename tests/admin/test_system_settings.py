from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from accounts import services
from accounts.models import DEFAULT_UPLOAD_TYPES, SystemSettings
from tests.admin.conftest import as_user, error_shape
from tests.factories import PASSWORD

URL = "/api/v1/admin/system-settings"
REGISTER = {"username": "newbie", "email": "newbie@example.com", "password": "a long enough passphrase"}
VALID = {
    "site_name": "  ACME Tracker ",
    "registration_open": False,
    "max_upload_bytes": 5 * 1024 * 1024,
    "allowed_upload_types": ["image/*", "Application/PDF", "application/pdf", "text/plain"],
    "default_member_role": "viewer",
    "webhooks_allow_private": True,
}


def test_system_settings_are_for_site_admins(site):
    statuses = site.matrix("get", URL)
    assert statuses == {
        "anonymous": 401,
        "user": 403,
        "metrics": 403,
        "key_without_admin_scope": 403,
        "admin_key": 200,
        "admin": 200,
    }
    statuses = site.matrix("put", URL, {"site_name": "Changed"})
    assert statuses == {
        "anonymous": 401,
        "user": 403,
        "metrics": 403,
        "key_without_admin_scope": 403,
        "admin_key": 200,
        "admin": 200,
    }


def test_defaults_come_from_the_environment_until_saved(site, settings):
    settings.PUNT_REGISTRATION_OPEN = False
    settings.PUNT_MAX_UPLOAD_BYTES = 2048
    settings.PUNT_WEBHOOKS_ALLOW_PRIVATE = True
    settings.PUNT_SIGNUP_EMAIL_DOMAINS = ["corp.example"]
    settings.PUNT_PASSWORD_SIGNUP = False
    settings.PUNT_EMAIL_VERIFICATION = "optional"
    response = as_user(site.admin).get(URL)
    assert response.status_code == 200
    assert response.json() == {
        "site_name": "PUNT",
        "registration_open": False,
        "max_upload_bytes": 2048,
        # The types teams attach (issue 17); an empty list would accept any type.
        "allowed_upload_types": list(DEFAULT_UPLOAD_TYPES),
        "default_member_role": "member",
        "webhooks_allow_private": True,
        "signup_email_domains": ["corp.example"],
        "password_signup": False,
        "email_verification": "optional",
        # Not from the environment: requiring two-factor is a decision taken in the app.
        "require_two_factor": "off",
        "updated_at": None,
        "updated_by": None,
    }
    assert not SystemSettings.objects.exists()  # reading never writes


def test_put_validates_normalizes_and_saves(site):
    response = as_user(site.admin).put(URL, VALID)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["site_name"] == "ACME Tracker"
    assert body["allowed_upload_types"] == ["image/*", "application/pdf", "text/plain"]
    assert body["registration_open"] is False
    assert body["max_upload_bytes"] == 5 * 1024 * 1024
    assert body["default_member_role"] == "viewer"
    assert body["webhooks_allow_private"] is True
    assert body["updated_by"]["username"] == "sam"
    assert body["updated_at"]
    row = SystemSettings.objects.get()
    assert row.pk == 1 and row.site_name == "ACME Tracker"
    # A partial PUT keeps the rest.
    response = as_user(site.admin).put(URL, {"default_member_role": "member"})
    assert response.json() == {**body, "default_member_role": "member", "updated_at": response.json()["updated_at"]}
    assert as_user(site.admin).get(URL).json() == response.json()


@pytest.mark.parametrize(
    "change",
    [
        {"site_name": ""},
        {"site_name": "   "},
        {"site_name": "x" * 101},
        {"registration_open": "maybe"},
        {"max_upload_bytes": 10},
        {"max_upload_bytes": 2 * 1024**3},
        {"max_upload_bytes": "lots"},
        {"allowed_upload_types": ["not a type"]},
        {"allowed_upload_types": ["image/"]},
        {"allowed_upload_types": "image/png"},
        {"allowed_upload_types": [f"application/x-{n}" for n in range(101)]},
        {"default_member_role": "owner"},
        {"webhooks_allow_private": "yes please"},
    ],
)
def test_bad_settings_are_refused_and_nothing_is_written(site, change):
    client = as_user(site.admin)
    assert client.put(URL, {"site_name": "Before"}).status_code == 200
    before = client.get(URL).json()
    # A valid field next to the bad one is not kept either.
    response = client.put(URL, {"default_member_role": "viewer", **change})
    assert response.status_code == 400, change
    error_shape(response.json(), details=True)
    assert client.get(URL).json() == before


def test_reads_are_cached_and_saves_invalidate(site, django_assert_num_queries):
    as_user(site.admin).put(URL, {"site_name": "Cached"})
    services.system_settings()  # warm
    with django_assert_num_queries(0):
        for _ in range(5):
            assert services.system_settings().site_name == "Cached"
    # A write behind the service's back is not seen until the cache is dropped: proof of the cache.
    SystemSettings.objects.filter(pk=1).update(site_name="Sneaky")
    assert services.system_settings().site_name == "Cached"
    services.system_settings_invalidate()
    assert services.system_settings().site_name == "Sneaky"
    # Saving through the API is seen at once.
    as_user(site.admin).put(URL, {"site_name": "Fresh"})
    with django_assert_num_queries(1):
        assert services.system_settings().site_name == "Fresh"


def test_no_row_is_cached_too(db, django_assert_num_queries):
    services.system_settings()
    with django_assert_num_queries(0):
        assert services.system_settings().site_name == "PUNT"
    assert cache.get(services.SYSTEM_SETTINGS_CACHE_KEY) is not None


def test_registration_follows_the_setting(site, settings):
    settings.PUNT_REGISTRATION_OPEN = True
    admin = as_user(site.admin)
    assert admin.put(URL, {"registration_open": False}).status_code == 200
    response = APIClient().post("/api/v1/auth/register", REGISTER)
    assert response.status_code == 403
    error_shape(response.json())
    assert Client().get("/register/").status_code == 404  # the web page follows it too

    assert admin.put(URL, {"registration_open": True}).status_code == 200
    settings.PUNT_REGISTRATION_OPEN = False  # a saved setting outranks the environment
    response = APIClient().post("/api/v1/auth/register", REGISTER)
    assert response.status_code == 201, response.content


def test_registration_follows_the_environment_before_any_save(db, settings):
    settings.PUNT_REGISTRATION_OPEN = False
    assert APIClient().post("/api/v1/auth/register", REGISTER).status_code == 403
    settings.PUNT_REGISTRATION_OPEN = True
    assert APIClient().post("/api/v1/auth/register", REGISTER).status_code == 201


def test_upload_type_policy(site):
    as_user(site.admin).put(URL, {"allowed_upload_types": ["image/*", "application/pdf"]})
    current = services.system_settings()
    assert current.upload_type_allowed("image/png")
    assert current.upload_type_allowed("application/pdf; charset=binary")
    assert not current.upload_type_allowed("application/zip")
    as_user(site.admin).put(URL, {"allowed_upload_types": []})
    assert services.system_settings().upload_type_allowed("application/zip")


# --------------------------------------------------------------------------- Django admin


def _admin_client(site) -> Client:
    client = Client()
    assert client.login(username=site.admin.username, password=PASSWORD)
    return client


FORM = {
    "site_name": "From the admin",
    "registration_open": "",  # unchecked
    "max_upload_bytes": "4096",
    "allowed_upload_types": '["image/*"]',
    "default_member_role": "viewer",
    "webhooks_allow_private": "on",
    "signup_email_domains": '["corp.example"]',
    "password_signup": "",  # unchecked
    "email_verification": "optional",
    "require_two_factor": "admins",
}


def test_django_admin_edits_the_single_row(site):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    # The form below requires two-factor of admins: this one has it, so pages stay open to them.
    TOTP.activate(site.admin, generate_totp_secret())
    client = _admin_client(site)
    # No row yet: the list leads to the add form, pre-filled from the defaults.
    response = client.get("/admin/accounts/systemsettings/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/accounts/systemsettings/add/"
    assert client.get("/admin/accounts/systemsettings/add/").status_code == 200
    services.system_settings()  # warm the cache

    response = client.post("/admin/accounts/systemsettings/add/", FORM)
    assert response.status_code == 302, response.content.decode()[:2000]
    row = SystemSettings.objects.get()
    assert (row.site_name, row.registration_open, row.max_upload_bytes) == ("From the admin", False, 4096)
    assert (row.signup_email_domains, row.password_signup, row.email_verification, row.require_two_factor) == (
        ["corp.example"],
        False,
        "optional",
        "admins",
    )
    assert row.updated_by == site.admin
    assert services.system_settings().site_name == "From the admin"  # the cache was invalidated

    # One row only: no add, no delete; the list opens the row.
    assert client.get("/admin/accounts/systemsettings/add/").status_code == 403
    assert client.post("/admin/accounts/systemsettings/1/delete/", {"post": "yes"}).status_code == 403
    response = client.get("/admin/accounts/systemsettings/")
    assert response["Location"] == "/admin/accounts/systemsettings/1/change/"
    assert client.get("/admin/accounts/systemsettings/1/change/").status_code == 200

    response = client.post("/admin/accounts/systemsettings/1/change/", {**FORM, "site_name": "Renamed"})
    assert response.status_code == 302
    assert services.system_settings().site_name == "Renamed"
    assert SystemSettings.objects.count() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"max_upload_bytes": "12"},
        {"allowed_upload_types": '["nonsense"]'},
        {"allowed_upload_types": '"image/png"'},
        {"site_name": "   "},
        {"signup_email_domains": '["not a domain"]'},
        {"signup_email_domains": '"corp.example"'},
        {"email_verification": "sometimes"},
    ],
)
def test_django_admin_applies_the_same_rules(site, change):
    client = _admin_client(site)
    response = client.post("/admin/accounts/systemsettings/add/", {**FORM, **change})
    assert response.status_code == 200  # the form again, with errors
    assert response.context["adminform"].form.errors
    assert not SystemSettings.objects.exists()


def test_django_admin_is_for_staff_only(site):
    client = Client()
    assert client.login(username=site.user.username, password=PASSWORD)
    response = client.get("/admin/accounts/systemsettings/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
