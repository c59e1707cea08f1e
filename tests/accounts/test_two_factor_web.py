"""Two-factor in the web app: the sign-in's second step, the settings pages, the site's policy."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.accounts.two_factor_helpers import SoftKey, recovery_codes, totp_code, totp_enable
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

AUTHENTICATE = "/accounts/2fa/authenticate/"


@pytest.fixture
def bob():
    return UserFactory(username="bob")


def password_step(client: Client, username: str = "bob", next_url: str = "/projects/"):
    return client.post("/login/", {"username": username, "password": PASSWORD, "next": next_url})


def reauthenticate(client: Client) -> None:
    """allauth asks for the password again before two-factor changes (within 5 minutes)."""
    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert response.status_code == 302, response.content


def signed_in(client: Client) -> bool:
    return client.get("/api/auth/session").json()["user"] is not None


def test_without_two_factor_the_password_signs_in(bob):
    client = Client()
    response = password_step(client)
    assert response.status_code == 302
    assert response["Location"] == "/projects/"
    assert signed_in(client)
    assert "punt_device" in response.cookies


def test_totp_is_asked_after_the_password(bob):
    secret = totp_enable(bob)
    client = Client()
    response = password_step(client)
    assert response.status_code == 302
    assert response["Location"] == AUTHENTICATE
    assert not signed_in(client)

    page = client.get(AUTHENTICATE)
    assert page.status_code == 200
    assert b"Two-factor authentication" in page.content
    assert b'name="code"' in page.content
    # The WebAuthn scripts are files of our own (script-src 'self'); the inline ones are JSON data.
    assert b"/static/mfa/js/webauthn.js" in page.content
    assert b"<script>" not in page.content

    wrong = client.post(AUTHENTICATE, {"code": "000000" if totp_code(secret) != "000000" else "111111"})
    assert wrong.status_code == 200
    assert b"Incorrect code" in wrong.content
    assert not signed_in(client)

    done = client.post(AUTHENTICATE, {"code": totp_code(secret)})
    assert done.status_code == 302
    assert done["Location"] == "/projects/"
    assert signed_in(client)


def test_a_recovery_code_signs_in_once(bob):
    totp_enable(bob)
    code = recovery_codes(bob)[0]
    client = Client()
    password_step(client)
    assert client.post(AUTHENTICATE, {"code": code}).status_code == 302
    assert signed_in(client)
    assert code not in recovery_codes(bob)

    other = Client()
    password_step(other)
    again = other.post(AUTHENTICATE, {"code": code})
    assert again.status_code == 200
    assert not signed_in(other)


def test_wrong_codes_are_rate_limited(bob):
    secret = totp_enable(bob)
    client = Client()
    password_step(client)
    wrong = "000000" if totp_code(secret) != "000000" else "111111"
    for _ in range(5):
        client.post(AUTHENTICATE, {"code": wrong})
    limited = client.post(AUTHENTICATE, {"code": totp_code(secret)})
    assert b"Too many wrong codes for this account" in limited.content
    assert not signed_in(client)


def test_web_and_api_share_the_budget_of_wrong_codes(bob):
    from rest_framework.test import APIClient

    from accounts.services import two_factor

    secret = totp_enable(bob)
    client = Client()
    password_step(client)
    wrong = "000000" if totp_code(secret) != "000000" else "111111"
    for _ in range(two_factor.CODE_FAILURE_LIMIT):
        client.post(AUTHENTICATE, {"code": wrong})
    api = APIClient()
    challenge = api.post("/api/v1/auth/login", {"username": "bob", "password": PASSWORD}).json()["challenge"]
    response = api.post("/api/v1/auth/login/2fa", {"challenge": challenge, "code": totp_code(secret)})
    assert response.status_code == 429


def test_second_step_page_without_a_password_step_goes_to_sign_in():
    response = Client().get(AUTHENTICATE)
    assert response.status_code == 302


def key_register(client: Client, key: SoftKey, name: str = "YubiKey") -> None:
    page = client.get("/accounts/2fa/webauthn/add/")
    assert page.status_code == 200
    credential = key.register(page.context["js_data"]["creation_options"])
    response = client.post("/accounts/2fa/webauthn/add/", {"name": name, "credential": credential})
    assert response.status_code == 302, response.content


def test_security_key_registration_and_sign_in(bob):
    """A whole WebAuthn ceremony, both ways, with a software key (SoftKey)."""
    key = SoftKey()
    client = Client()
    password_step(client)
    reauthenticate(client)
    key_register(client, key)
    assert Authenticator.objects.filter(user=bob, type=Authenticator.Type.WEBAUTHN).count() == 1
    # Recovery codes come with the first factor.
    assert len(recovery_codes(bob)) == 10

    other = Client()
    assert password_step(other)["Location"] == AUTHENTICATE
    page = other.get(AUTHENTICATE)
    assert b'id="mfa_webauthn_authenticate"' in page.content
    assert b"<script>" not in page.content
    assertion = key.sign_in(page.context["js_data"]["request_options"])
    done = other.post(AUTHENTICATE, {"credential": assertion})
    assert done.status_code == 302, done.content
    assert done["Location"] == "/projects/"
    assert signed_in(other)


def test_a_foreign_security_key_is_refused(bob):
    client = Client()
    password_step(client)
    reauthenticate(client)
    key_register(client, SoftKey())

    other = Client()
    password_step(other)
    page = other.get(AUTHENTICATE)
    stranger = SoftKey()
    response = other.post(AUTHENTICATE, {"credential": stranger.sign_in(page.context["js_data"]["request_options"])})
    assert response.status_code == 200
    assert not signed_in(other)


def test_admin_login_form_refuses_two_factor_accounts():
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    totp_enable(admin)
    client = Client()
    response = client.post("/admin/login/", {"username": "root", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 200
    assert b"two-factor" in response.content
    assert not signed_in(client)


# --------------------------------------------------------------------------- settings pages


def test_settings_page_shows_two_factor_status(bob, django_assert_max_num_queries):
    client = Client()
    client.force_login(bob)
    page = client.get("/settings/")
    assert page.status_code == 200
    assert b'id="two-factor"' in page.content
    assert b"Set up an authenticator app" in page.content

    totp_enable(bob)
    client.get("/settings/")
    # 7: the page's own 6 and the notification e-mail preferences (one query).
    with django_assert_max_num_queries(7) as few:
        page = client.get("/settings/")
    assert b"Recovery codes left: 10" in page.content
    for n in range(5):
        Authenticator.objects.create(user=bob, type=Authenticator.Type.WEBAUTHN, data={"name": f"key {n}"})
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/settings/")
    assert b"Security keys: 5" in page.content


def test_totp_setup_page_draws_the_qr_code_on_the_server(bob):
    client = Client()
    password_step(client)
    reauthenticate(client)
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "</svg>" in html
    assert 'id="authenticator_secret"' in html
    assert "https://" not in html.split("<svg", 1)[1].split("</svg>", 1)[0].replace("http://www.w3.org", "")

    secret = html.split('id="authenticator_secret"', 1)[1].split(">", 1)[1].split("<", 1)[0]
    done = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    assert done.status_code == 302
    assert Authenticator.objects.filter(user=bob, type=Authenticator.Type.TOTP).exists()
    codes_page = client.get(done["Location"])
    assert codes_page.status_code == 200
    assert recovery_codes(bob)[0].encode() in codes_page.content
    download = client.get("/accounts/2fa/recovery-codes/download/")
    assert download.status_code == 200
    assert recovery_codes(bob)[0].encode() in download.content


def test_totp_issuer_is_the_site_name(bob):
    from accounts.services import system_settings_update

    system_settings_update(by=None, site_name="Acme Tracker")
    client = Client()
    password_step(client)
    reauthenticate(client)
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    from allauth.mfa.adapter import get_adapter

    assert get_adapter().get_totp_issuer() == "Acme Tracker"


def test_regenerate_recovery_codes(bob):
    totp_enable(bob)
    old = recovery_codes(bob)
    client = Client()
    password_step(client)
    client.post(AUTHENTICATE, {"code": old[0]})
    reauthenticate(client)
    assert client.get("/accounts/2fa/recovery-codes/generate/").status_code == 200
    response = client.post("/accounts/2fa/recovery-codes/generate/")
    assert response.status_code == 302
    assert set(recovery_codes(bob)).isdisjoint(old)


def test_turn_off_totp(bob):
    secret = totp_enable(bob)
    client = Client()
    password_step(client)
    client.post(AUTHENTICATE, {"code": totp_code(secret)})
    reauthenticate(client)
    assert client.get("/accounts/2fa/totp/deactivate/").status_code == 200
    assert client.post("/accounts/2fa/totp/deactivate/").status_code == 302
    assert not Authenticator.objects.filter(user=bob).exists()


def test_webauthn_pages_add_list_remove(bob):
    client = Client()
    password_step(client)
    reauthenticate(client)
    add = client.get("/accounts/2fa/webauthn/add/")
    assert add.status_code == 200
    assert b"creation_options" in add.content
    assert b'id="mfa_webauthn_add"' in add.content
    assert b"<script>" not in add.content

    key = Authenticator.objects.create(user=bob, type=Authenticator.Type.WEBAUTHN, data={"name": "YubiKey"})
    listing = client.get("/accounts/2fa/webauthn/")
    assert listing.status_code == 200
    assert b"YubiKey" in listing.content
    assert client.get(f"/accounts/2fa/webauthn/keys/{key.pk}/remove/").status_code == 200
    assert client.post(f"/accounts/2fa/webauthn/keys/{key.pk}/remove/").status_code == 302
    assert not Authenticator.objects.filter(pk=key.pk).exists()


def test_others_keys_cannot_be_removed(bob):
    carol = UserFactory(username="carol")
    key = Authenticator.objects.create(user=carol, type=Authenticator.Type.WEBAUTHN, data={"name": "hers"})
    client = Client()
    password_step(client)
    reauthenticate(client)
    assert client.post(f"/accounts/2fa/webauthn/keys/{key.pk}/remove/").status_code == 404
    assert Authenticator.objects.filter(pk=key.pk).exists()


# --------------------------------------------------------------------------- the site's policy


@pytest.mark.parametrize(
    ("setting", "staff", "redirected"),
    [("off", True, False), ("admins", False, False), ("admins", True, True), ("everyone", False, True)],
)
def test_policy_sends_users_without_two_factor_to_set_it_up(policy, setting, staff, redirected):
    policy(setting)
    user = UserFactory(username="dora", is_staff=staff)
    client = Client()
    response = password_step(client, "dora")
    assert signed_in(client)
    page = client.get(response["Location"])
    if redirected:
        assert page.status_code == 302
        assert page["Location"] == "/accounts/2fa/"
        # The set-up pages, signing out and the API stay open.
        assert client.get("/accounts/2fa/").status_code == 200
        assert client.get("/api/v1/users/me").status_code == 200
        assert client.get("/settings/").status_code == 302
        fragment = client.get("/notifications/", HTTP_HX_REQUEST="true")
        assert (fragment.status_code, fragment["HX-Redirect"]) == (204, "/accounts/2fa/")
    else:
        assert page.status_code == 200
    assert user.pk


def test_policy_lets_users_with_two_factor_through(policy):
    policy("everyone")
    user = UserFactory(username="erin")
    secret = totp_enable(user)
    client = Client()
    password_step(client, "erin")
    client.post(AUTHENTICATE, {"code": totp_code(secret)})
    assert client.get("/projects/").status_code == 200


def test_policy_keeps_the_last_authenticator(policy):
    policy("everyone")
    user = UserFactory(username="fay")
    secret = totp_enable(user)
    client = Client()
    password_step(client, "fay")
    client.post(AUTHENTICATE, {"code": totp_code(secret)})
    reauthenticate(client)
    page = client.post("/accounts/2fa/totp/deactivate/")
    assert page.status_code == 200
    assert b"requires two-factor" in page.content
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def test_setting_up_lifts_the_redirect(policy):
    policy("everyone")
    UserFactory(username="gus")
    client = Client()
    password_step(client, "gus")
    assert client.get("/projects/").status_code == 302
    reauthenticate(client)
    page = client.get("/accounts/2fa/totp/activate/")
    secret = page.content.decode().split('id="authenticator_secret"', 1)[1].split(">", 1)[1].split("<", 1)[0]
    client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    assert client.get("/projects/").status_code == 200


def test_policy_turned_on_reaches_people_already_signed_in(policy, django_capture_on_commit_callbacks):
    UserFactory(username="hal", is_staff=True)
    client = Client()
    password_step(client, "hal")
    assert client.get("/projects/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        policy("admins")  # the saved settings are cached again on commit
    response = client.get("/projects/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/"


def test_pages_pay_no_query_for_the_policy_while_it_is_off(bob):
    from django.core.cache import cache

    client = Client()
    client.force_login(bob)
    client.get("/projects/")
    with CaptureQueriesContext(connection) as warm:
        client.get("/projects/")
    cache.clear()  # the settings are no longer cached: the policy is not looked up
    with CaptureQueriesContext(connection) as cold:
        client.get("/projects/")
    assert len(cold) == len(warm)
    assert not [q for q in cold.captured_queries if "mfa_authenticator" in q["sql"]]


@pytest.mark.parametrize("url", ["/accounts/2fa/", "/accounts/2fa/webauthn/"])
def test_two_factor_pages_cost_the_same_with_more_keys(bob, url):
    client = Client()
    password_step(client)
    reauthenticate(client)
    Authenticator.objects.create(user=bob, type=Authenticator.Type.WEBAUTHN, data={"name": "key 0"})
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for n in range(1, 6):
        Authenticator.objects.create(user=bob, type=Authenticator.Type.WEBAUTHN, data={"name": f"key {n}"})
    with CaptureQueriesContext(connection) as many:
        page = client.get(url)
    assert page.status_code == 200
    assert len(many) == len(few) <= 7
