from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import api_key_create
from tests.accounts.helpers import bearer, login
from tests.admin.conftest import as_user, error_shape
from tests.factories import PASSWORD, UserFactory

NEW = {"username": "newbie", "email": "newbie@example.com", "password": "a long enough passphrase"}


def _ok_for_admins(statuses: dict[str, int], code: int) -> None:
    assert statuses == {
        "anonymous": 401,
        "user": 403,
        "metrics": 403,
        "key_without_admin_scope": 403,
        "admin_key": code,
        "admin": code,
    }


# --------------------------------------------------------------------------- who may


def test_list_users_is_for_site_admins(site):
    _ok_for_admins(site.matrix("get", "/api/v1/users"), 200)


def test_create_user_is_for_site_admins(site):
    def body(caller: str) -> dict[str, str]:
        return {**NEW, "username": f"new-{caller}".replace("_", "-"), "email": f"{caller}@example.com"}

    _ok_for_admins(site.matrix("post", "/api/v1/users", body), 201)
    assert set(User.objects.filter(username__startswith="new-").values_list("username", flat=True)) == {
        "new-admin-key",
        "new-admin",
    }


def test_get_update_and_deactivate_a_user_are_for_site_admins(site):
    target = UserFactory(username="tina")
    url = f"/api/v1/users/{target.pk}"
    _ok_for_admins(site.matrix("get", url), 200)
    _ok_for_admins(site.matrix("put", url, {"display_name": "Tina T."}), 200)
    _ok_for_admins(site.matrix("patch", url, {"display_name": "Tina T."}), 200)

    def reactivate() -> None:
        User.objects.filter(pk=target.pk).update(is_active=True)

    _ok_for_admins(site.matrix("delete", url, fresh=reactivate), 204)


def test_unknown_user_is_404(site):
    response = as_user(site.admin).get("/api/v1/users/999999")
    assert response.status_code == 404
    error_shape(response.json())
    assert as_user(site.admin).put("/api/v1/users/999999", {"is_active": False}).status_code == 404


# --------------------------------------------------------------------------- list


def test_list_shows_accounts_with_their_roles(site):
    site.user.is_active = False
    site.user.save(update_fields=["is_active"])
    response = as_user(site.admin).get("/api/v1/users")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert body["next"] is None and body["previous"] is None
    by_name = {row["username"]: row for row in body["results"]}
    assert [row["username"] for row in body["results"]] == ["max", "nora", "sam"]
    assert by_name["sam"]["global_roles"] == ["admin"]
    assert by_name["max"]["global_roles"] == ["metrics"]
    assert by_name["nora"]["is_active"] is False
    assert set(by_name["sam"]) == {
        "id",
        "username",
        "email",
        "display_name",
        "name",
        "avatar",
        "is_active",
        "global_roles",
        "date_joined",
        "last_login",
    }


def test_list_search_filters_and_pagination(site):
    UserFactory(username="alice", email="alice@wonder.land", display_name="Alice Liddell")
    UserFactory(username="bob", email="bob@example.com", display_name="Bob Wonder", is_active=False)
    UserFactory(username="bea", global_roles=["backup", "metrics"])
    client = as_user(site.admin)

    def names(query: str) -> list[str]:
        response = client.get(f"/api/v1/users?{query}")
        assert response.status_code == 200, response.content
        return [row["username"] for row in response.json()["results"]]

    assert names("search=wonder") == ["alice", "bob"]  # email of one, display name of the other
    assert names("search=ALICE") == ["alice"]
    assert names("is_active=false") == ["bob"]
    assert names("is_active=true&search=wonder") == ["alice"]
    assert names("role=admin") == ["sam"]
    assert names("role=metrics") == ["bea", "max"]
    assert names("role=backup") == ["bea"]
    page = client.get("/api/v1/users?limit=2&offset=2").json()
    assert page["count"] == 6
    assert [row["username"] for row in page["results"]] == ["bob", "max"]
    assert page["next"] and page["previous"]


def test_list_rejects_bad_filters(site):
    client = as_user(site.admin)
    for query in ("role=root", "is_active=perhaps"):
        response = client.get(f"/api/v1/users?{query}")
        assert response.status_code == 400, query
        error_shape(response.json(), details=True)


def test_list_query_count_does_not_grow_with_users(site, django_assert_num_queries):
    client = as_user(site.admin)
    with django_assert_num_queries(2):  # count + page
        client.get("/api/v1/users")
    for n in range(20):
        UserFactory(username=f"extra{n}", global_roles=["backup"])
    with django_assert_num_queries(2):
        response = client.get("/api/v1/users")
    assert response.json()["count"] == 23


# --------------------------------------------------------------------------- create


def test_admin_creates_a_user_who_can_sign_in(site, settings):
    settings.PUNT_REGISTRATION_OPEN = False  # admins create accounts whatever the registration policy
    response = as_user(site.admin).post(
        "/api/v1/users", {**NEW, "display_name": "New Bie", "global_roles": ["metrics", "backup"]}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["username"] == "newbie"
    assert body["email"] == "newbie@example.com"
    assert body["name"] == "New Bie"
    assert body["is_active"] is True
    assert body["global_roles"] == ["metrics", "backup"]
    user = User.objects.get(pk=body["id"])
    assert user.check_password(NEW["password"])
    assert not user.is_staff
    assert login(username="newbie", password=NEW["password"])["user"]["username"] == "newbie"


def test_admin_can_create_another_admin(site):
    response = as_user(site.admin).post("/api/v1/users", {**NEW, "global_roles": ["admin"]})
    assert response.status_code == 201
    assert User.objects.get(username="newbie").is_staff
    assert response.json()["global_roles"] == ["admin"]


@pytest.mark.parametrize(
    "change",
    [
        {"username": "sam"},  # taken (case-insensitive below too)
        {"username": "SAM"},
        {"username": "has space"},
        {"email": "not-an-email"},
        {"email": "nora@example.com"},  # taken
        {"password": "short"},
        {"global_roles": ["root"]},
        {"username": ""},
    ],
)
def test_create_rejects_bad_input_and_writes_nothing(site, change):
    before = User.objects.count()
    response = as_user(site.admin).post("/api/v1/users", {**NEW, **change})
    assert response.status_code == 400, response.content
    error_shape(response.json(), details=True)
    assert User.objects.count() == before


# --------------------------------------------------------------------------- update


def test_admin_updates_profile_and_roles(site):
    target = UserFactory(username="tina", email="tina@example.com")
    response = as_user(site.admin).put(
        f"/api/v1/users/{target.pk}",
        {"display_name": "Tina Turner", "email": "tt@example.com", "global_roles": ["backup"]},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["email"], body["global_roles"]) == ("Tina Turner", "tt@example.com", ["backup"])
    # Left-out fields stay as they are.
    response = as_user(site.admin).put(f"/api/v1/users/{target.pk}", {"global_roles": ["admin", "backup"]})
    assert response.json()["name"] == "Tina Turner"
    assert response.json()["global_roles"] == ["admin", "backup"]
    target.refresh_from_db()
    assert target.is_staff and target.global_roles == ["backup"]


def test_removing_admin_from_a_superuser_takes_both_flags(site):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    response = as_user(site.admin).put(f"/api/v1/users/{root.pk}", {"global_roles": []})
    assert response.status_code == 200
    assert response.json()["global_roles"] == []
    root.refresh_from_db()
    assert not root.is_staff and not root.is_superuser
    assert as_user(root).get("/api/v1/users").status_code == 403


def test_admin_cannot_remove_their_own_admin_role_or_deactivate_themselves(site):
    client = as_user(site.admin)
    for change in ({"global_roles": ["metrics"]}, {"is_active": False}):
        response = client.put(f"/api/v1/users/{site.admin.pk}", change)
        assert response.status_code == 400, change
        error_shape(response.json(), details=True)
    response = client.delete(f"/api/v1/users/{site.admin.pk}")
    assert response.status_code == 400
    site.admin.refresh_from_db()
    assert site.admin.is_staff and site.admin.is_active and site.admin.global_roles == []
    # Other changes to their own account are fine.
    response = client.put(f"/api/v1/users/{site.admin.pk}", {"global_roles": ["admin", "metrics"]})
    assert response.status_code == 200
    assert response.json()["global_roles"] == ["admin", "metrics"]


def test_a_failed_update_changes_nothing(site):
    target = UserFactory(username="tina", email="tina@example.com", display_name="Tina")
    response = as_user(site.admin).put(
        f"/api/v1/users/{target.pk}",
        # Roles and name are fine; the email belongs to someone else, so none of it is kept.
        {"global_roles": ["admin"], "display_name": "Changed", "email": "nora@example.com"},
    )
    assert response.status_code == 400
    error_shape(response.json(), details=True)
    target.refresh_from_db()
    assert (target.is_staff, target.display_name, target.email) == (False, "Tina", "tina@example.com")


@pytest.mark.parametrize(
    "change",
    [{"global_roles": ["superuser"]}, {"global_roles": "admin"}, {"is_active": "sometimes"}, {"email": "x"}],
)
def test_update_rejects_bad_input(site, change):
    target = UserFactory(username="tina")
    response = as_user(site.admin).put(f"/api/v1/users/{target.pk}", change)
    assert response.status_code == 400, change
    error_shape(response.json(), details=True)


# --------------------------------------------------------------------------- deactivation


def _signed_in(user: User) -> tuple[dict, APIClient, APIClient]:
    """A token pair, a Bearer client and an API key client for `user`."""
    tokens = login(username=user.username)
    _key, raw = api_key_create(user=user, name="ci")
    key_client = APIClient()
    key_client.credentials(HTTP_X_API_KEY=raw)
    return tokens, bearer(tokens["access_token"]), key_client


def test_deactivating_signs_the_user_out_everywhere(site):
    target = UserFactory(username="tina")
    tokens, jwt_client, key_client = _signed_in(target)
    session = APIClient()
    assert session.login(username="tina", password=PASSWORD)
    assert jwt_client.get("/api/v1/users/me").status_code == 200
    assert key_client.get("/api/v1/users/me").status_code == 200
    assert session.get("/api/v1/users/me").status_code == 200

    response = as_user(site.admin).put(f"/api/v1/users/{target.pk}", {"is_active": False})
    assert response.status_code == 200
    assert response.json()["is_active"] is False

    assert jwt_client.get("/api/v1/users/me").status_code == 401
    assert key_client.get("/api/v1/users/me").status_code == 401
    assert session.get("/api/v1/users/me").status_code in (401, 403)
    refresh = APIClient().post("/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401
    failed_login = APIClient().post("/api/v1/auth/login", {"username": "tina", "password": PASSWORD})
    assert failed_login.status_code == 401

    # Reactivated, the account signs in again; the old refresh token stays dead.
    assert as_user(site.admin).put(f"/api/v1/users/{target.pk}", {"is_active": True}).status_code == 200
    assert login(username="tina")["user"]["username"] == "tina"
    refresh = APIClient().post("/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401


def test_delete_deactivates_and_keeps_the_account(site):
    target = UserFactory(username="tina")
    tokens = login(username="tina")
    response = as_user(site.admin).delete(f"/api/v1/users/{target.pk}")
    assert response.status_code == 204
    target.refresh_from_db()
    assert target.is_active is False
    assert APIClient().post("/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]}).status_code == 401
    # Deleting again is harmless.
    assert as_user(site.admin).delete(f"/api/v1/users/{target.pk}").status_code == 204


def test_admin_sets_a_new_password(site):
    target = UserFactory(username="tina")
    tokens = login(username="tina")
    response = as_user(site.admin).put(f"/api/v1/users/{target.pk}", {"password": "another fine passphrase"})
    assert response.status_code == 200
    assert APIClient().post("/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert login(username="tina", password="another fine passphrase")["user"]["username"] == "tina"
    weak = as_user(site.admin).put(f"/api/v1/users/{target.pk}", {"password": "123"})
    assert weak.status_code == 400
    error_shape(weak.json(), details=True)


def test_jwt_of_an_admin_works_too(site):
    tokens = login(username="sam")
    assert bearer(tokens["access_token"]).get("/api/v1/users").status_code == 200
    plain = login(username="nora")
    assert bearer(plain["access_token"]).get("/api/v1/users").status_code == 403


def test_django_admin_deactivation_signs_the_user_out(site):
    from django.test import Client

    tina = UserFactory(username="tina")
    tom = UserFactory(username="tom")
    tina_tokens, tom_tokens = login(username="tina"), login(username="tom")
    client = Client()
    assert client.login(username="sam", password=PASSWORD)
    # The list action, which never deactivates the admin running it.
    response = client.post(
        "/admin/accounts/user/",
        {"action": "deactivate", "_selected_action": [str(tina.pk), str(site.admin.pk)]},
    )
    assert response.status_code == 302
    tina.refresh_from_db()
    site.admin.refresh_from_db()
    assert not tina.is_active and site.admin.is_active
    refresh = APIClient().post("/api/v1/auth/refresh", {"refresh_token": tina_tokens["refresh_token"]})
    assert refresh.status_code == 401
    # Unticking "active" on the change form has the same effect.
    data = {"username": "tom", "display_name": "Tom", "email": "tom@example.com", "global_roles": "[]"}  # no is_active
    response = client.post(f"/admin/accounts/user/{tom.pk}/change/", data)
    assert response.status_code == 302
    tom.refresh_from_db()
    assert not tom.is_active
    refresh = APIClient().post("/api/v1/auth/refresh", {"refresh_token": tom_tokens["refresh_token"]})
    assert refresh.status_code == 401


def test_user_ids_past_64_bits_are_just_not_found(site):
    assert as_user(site.admin).get(f"/api/v1/users/{'9' * 25}").status_code == 404
