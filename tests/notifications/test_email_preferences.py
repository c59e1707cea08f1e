"""E-mail preferences: the API, the settings page, and the one-click unsubscribe link."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from accounts.services import api_key_create
from notifications import emails
from notifications.models import NotificationPreference
from notifications.services import notification_preferences, notification_preferences_update
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/users/me/notification-preferences"
DEFAULTS = {"mention": "instant", "assigned": "instant", "watched": "digest", "dm": "instant", "due": "instant"}


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --------------------------------------------------------------------------- API


def test_get_shows_the_defaults_and_patch_changes_only_what_it_names():
    mary = UserFactory(username="mary")
    client = _client(mary)
    assert client.get(URL).json() == DEFAULTS

    response = client.patch(URL, {"watched": "instant", "dm": "off"}, format="json")
    assert response.status_code == 200
    assert response.json() == {**DEFAULTS, "watched": "instant", "dm": "off"}
    response = client.patch(URL, {"dm": "digest"}, format="json")
    assert response.json() == {**DEFAULTS, "watched": "instant", "dm": "digest"}
    assert client.get(URL).json() == response.json()
    assert NotificationPreference.objects.filter(user=mary).count() == 2


def test_patch_refuses_a_value_it_does_not_know_and_changes_nothing():
    mary = UserFactory(username="mary")
    response = _client(mary).patch(URL, {"mention": "hourly", "dm": "off"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["details"][0]["field"] == "mention"
    assert not NotificationPreference.objects.exists()
    assert _client(mary).patch(URL, ["off"], format="json").status_code == 400


def test_each_user_changes_only_their_own():
    mary, adam = UserFactory(username="mary"), UserFactory(username="adam")
    _client(mary).patch(URL, {"mention": "off"}, format="json")
    assert _client(adam).get(URL).json() == DEFAULTS
    assert notification_preferences(user=mary)["mention"] == "off"


def test_who_may_read_and_change_preferences():
    mary = UserFactory(username="mary")
    assert APIClient().get(URL).status_code == 401
    assert APIClient().patch(URL, {"dm": "off"}, format="json").status_code == 401

    # E-mail settings belong to the account: a key limited to scopes may not touch them.
    _, scoped = api_key_create(user=mary, name="bot", scopes=["tickets:read", "tickets:write", "chat:write"])
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=scoped)
    assert client.get(URL).status_code == 403
    assert client.patch(URL, {"dm": "off"}, format="json").status_code == 403

    _, unrestricted = api_key_create(user=mary, name="mine")
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=unrestricted)
    assert client.get(URL).status_code == 200
    assert client.patch(URL, {"dm": "off"}, format="json").json()["dm"] == "off"


def test_preferences_query_count_does_not_grow_with_rows(django_assert_max_num_queries):
    mary = UserFactory(username="mary")
    client = _client(mary)
    with django_assert_max_num_queries(1) as small_get:
        assert client.get(URL).status_code == 200
    # Read now: the next request's start clears the connection's query log.
    get_count = len(small_get.captured_queries)
    # The upsert and the read back, inside a savepoint (two more statements).
    with django_assert_max_num_queries(4) as small_patch:
        assert client.patch(URL, {"dm": "off"}, format="json").status_code == 200
    patch_count = len(small_patch.captured_queries)
    for i in range(10):
        notification_preferences_update(user=UserFactory(username=f"u{i}"), changes=dict.fromkeys(DEFAULTS, "off"))
    client.patch(URL, dict.fromkeys(DEFAULTS, "digest"), format="json")
    with django_assert_max_num_queries(get_count):
        assert client.get(URL).status_code == 200
    with django_assert_max_num_queries(patch_count):
        assert client.patch(URL, dict.fromkeys(DEFAULTS, "instant"), format="json").status_code == 200


# --------------------------------------------------------------------------- settings page


def test_settings_page_shows_and_saves_the_preferences():
    mary = UserFactory(username="mary")
    client = Client()
    client.force_login(mary)
    page = client.get("/settings/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="notifications"' in html and "Comments on tickets you watch" in html
    assert re.search(r'<option value="digest" selected>Daily digest</option>', html)

    response = client.post(
        "/settings/",
        {
            "action": "notifications",
            "mention": "off",
            "assigned": "digest",
            "watched": "instant",
            "dm": "off",
            "due": "off",
        },
    )
    assert response.status_code == 302
    assert notification_preferences(user=mary) == {
        "mention": "off",
        "assigned": "digest",
        "watched": "instant",
        "dm": "off",
        "due": "off",
    }
    bad = client.post("/settings/", {"action": "notifications", "mention": "never"})
    assert bad.status_code == 400
    assert notification_preferences(user=mary)["mention"] == "off"


# --------------------------------------------------------------------------- unsubscribe


def test_unsubscribe_get_asks_and_a_one_click_post_turns_the_kind_off(settings):
    settings.SITE_URL = "https://punt.example.com"
    mary = UserFactory(username="mary")
    url = emails.unsubscribe_url(user_id=mary.pk, kind="mention")
    assert url.startswith("https://punt.example.com/notifications/unsubscribe/")
    path = url.removeprefix("https://punt.example.com")

    # No sign-in, no CSRF token: a mail client does this.
    client = Client(enforce_csrf_checks=True)
    page = client.get(path)
    assert page.status_code == 200
    assert "Someone mentions you" in page.content.decode()
    assert notification_preferences(user=mary)["mention"] == "instant"  # a GET changes nothing

    response = client.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert "Unsubscribed" in response.content.decode()
    assert notification_preferences(user=mary) == {**DEFAULTS, "mention": "off"}
    assert (
        client.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded").status_code
        == 200
    )


def test_a_digest_unsubscribe_turns_off_what_comes_in_the_digest():
    mary = UserFactory(username="mary")
    notification_preferences_update(user=mary, changes={"due": "digest"})
    path = emails.unsubscribe_url(user_id=mary.pk, kind="digest").split("://", 1)[1].split("/", 1)[1]
    response = Client().post("/" + path)
    assert response.status_code == 200
    assert notification_preferences(user=mary) == {**DEFAULTS, "watched": "off", "due": "off"}


def test_a_forged_or_altered_token_is_refused():
    mary = UserFactory(username="mary")
    token = emails.unsubscribe_token(user_id=mary.pk, kind="mention")
    for bad in ("nonsense", token[:-2] + ("AA" if not token.endswith("AA") else "BB")):
        assert Client().get(f"/notifications/unsubscribe/{bad}").status_code == 400
        assert Client().post(f"/notifications/unsubscribe/{bad}").status_code == 400
    assert notification_preferences(user=mary) == DEFAULTS


def test_the_link_in_a_mail_works(personas, mail_tasks):
    from tickets import services as ticket_services

    card = ticket_services.ticket_create(
        project=personas.project, by=personas.owner, title="Fix", column=personas.project.columns.first()
    )
    mail_tasks(
        lambda: personas.client("member").post(
            f"/api/v1/projects/blog/cards/{card.pk}/comments", {"body": "@adam ping"}, format="json"
        )
    )
    header = mail.outbox[0].extra_headers["List-Unsubscribe"].strip("<>")
    assert header in mail.outbox[0].body
    response = Client().post(header.removeprefix("https://punt.example.com"))
    assert response.status_code == 200
    assert notification_preferences(user=personas.admin)["mention"] == "off"
