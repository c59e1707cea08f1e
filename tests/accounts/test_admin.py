"""Django admin screens for users and API keys."""

from __future__ import annotations

from django.test import Client

from accounts.models import ApiKey, User
from tests.accounts.helpers import bearer, login
from tests.factories import PASSWORD, UserFactory

PAGES = [
    "/admin/",
    "/admin/accounts/user/",
    "/admin/accounts/user/?q=alice&is_staff__exact=0&is_active__exact=1",
    "/admin/accounts/apikey/",
    "/admin/accounts/apikey/?state=active&q=CI",
]


def _client(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_admin_pages_load_for_staff_not_for_others(alice):
    key = bearer(login()["access_token"]).post("/api/v1/users/me/api-keys", {"name": "CI"}).json()
    staff = _client(UserFactory(username="root", is_staff=True))
    for url in [*PAGES, f"/admin/accounts/user/{alice.pk}/change/", f"/admin/accounts/apikey/{key['id']}/change/"]:
        response = staff.get(url)
        assert response.status_code == 200, url
        assert key["key"] not in response.content.decode()
        assert ApiKey.objects.get().hashed_key not in response.content.decode()

    for client in (Client(), _client(alice)):
        for url in PAGES:
            response = client.get(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith("/admin/login/")


def test_admin_user_search(alice):
    UserFactory(username="bob", display_name="Robert")
    staff = _client(UserFactory(username="root", is_staff=True))
    page = staff.get("/admin/accounts/user/?q=Robert").content.decode()
    assert "bob" in page and "alice@example.com" not in page


def test_admin_revoke_action(alice):
    key = bearer(login()["access_token"]).post("/api/v1/users/me/api-keys", {"name": "CI"}).json()
    staff = _client(UserFactory(username="root", is_staff=True))
    response = staff.post("/admin/accounts/apikey/", {"action": "revoke", "_selected_action": [key["id"]]}, follow=True)
    assert response.status_code == 200
    assert "Revoked 1 API key(s)." in response.content.decode()
    assert ApiKey.objects.get().revoked_at is not None
    assert staff.get("/admin/accounts/apikey/add/").status_code == 403


def test_admin_creates_a_user(db):
    staff = _client(UserFactory(username="root", is_staff=True))
    assert staff.get("/admin/accounts/user/add/").status_code == 200
    response = staff.post(
        "/admin/accounts/user/add/",
        {
            "username": "carol",
            "email": "carol@example.com",
            "usable_password": "true",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(username="carol").check_password("a long enough passphrase")


def test_admin_user_names_follow_the_registration_rules(db):
    from tests.factories import OrganizationFactory

    OrganizationFactory(slug="acme")
    UserFactory(username="dave")
    staff = _client(UserFactory(username="root", is_staff=True))
    passwords = {
        "usable_password": "true",
        "password1": "a long enough passphrase",
        "password2": "a long enough passphrase",
    }
    # User names and organization slugs share one namespace, case-insensitively, and stay URL-safe.
    for taken_or_bad in ("ACME", "Dave", "has/slash", "-dash"):
        response = staff.post("/admin/accounts/user/add/", {"username": taken_or_bad, "email": "", **passwords})
        assert response.status_code == 200, taken_or_bad
        assert response.context["adminform"].form.errors["username"], taken_or_bad
    assert not User.objects.filter(username__in=["ACME", "Dave", "has/slash", "-dash"]).exists()

    # Renaming is checked the same way; keeping one's own name is fine.
    carol = UserFactory(username="carol")
    change = {
        "email": "",
        "display_name": "",
        "is_active": "on",
        "global_roles": "[]",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    response = staff.post(f"/admin/accounts/user/{carol.pk}/change/", {"username": "acme", **change})
    assert response.status_code == 200
    assert "already taken" in str(response.context["adminform"].form.errors["username"])
    response = staff.post(f"/admin/accounts/user/{carol.pk}/change/", {"username": "Carol", **change})
    assert response.status_code == 302, response.context["adminform"].form.errors
    carol.refresh_from_db()
    assert carol.username == "Carol"


def _change_form_data(client: Client, user: User, **changes) -> dict:
    """The user's change form as the admin shows it, with `changes` applied (False unticks)."""
    form = client.get(f"/admin/accounts/user/{user.pk}/change/").context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if name in ("last_login", "date_joined", "password", "avatar") or value is None:
            continue
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        data[name] = [str(getattr(item, "pk", item)) for item in value] if isinstance(value, list | tuple) else value
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = "on" if value is True else value
    return data


def test_admin_cannot_lock_themselves_out_through_the_user_form(db):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = _client(root)
    for change in ({"is_active": False}, {"is_staff": False}):
        response = client.post(f"/admin/accounts/user/{root.pk}/change/", _change_form_data(client, root, **change))
        assert response.status_code == 302
        root.refresh_from_db()
        assert root.is_active and root.is_staff, change
        shown = [str(message) for message in client.get("/admin/").context["messages"]]
        assert any("your own" in message for message in shown), shown


def test_admin_deactivates_another_user_through_the_service(alice):
    tokens = login()
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = _client(root)
    data = _change_form_data(client, alice, is_active=False, display_name="Alice Away")
    response = client.post(f"/admin/accounts/user/{alice.pk}/change/", data)
    assert response.status_code == 302
    alice.refresh_from_db()
    assert not alice.is_active and alice.display_name == "Alice Away"
    refused = Client().post(
        "/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]}, content_type="application/json"
    )
    assert refused.status_code == 401
