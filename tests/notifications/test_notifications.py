from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from notifications.models import Notification
from notifications.services import notify
from tests.chat.conftest import CHAT, api_key, listen, next_event
from tests.factories import UserFactory

NOTIFICATIONS = "/api/v1/notifications"


def test_notify_skips_the_actor_duplicates_and_inactive_users(personas):
    inactive = UserFactory(username="ivan", is_active=False)
    created = notify(
        recipients=[personas.member, personas.member, personas.admin, personas.owner, inactive],
        kind="assigned",
        actor=personas.owner,
        text="Olivia assigned you BLOG-1",
        url="/projects/olivia/blog/tickets/1",
        project=personas.project,
        data={"ticket": "BLOG-1"},
    )
    assert sorted(n.recipient.username for n in created) == ["adam", "mary"]
    assert all(n.pk for n in created)
    assert Notification.objects.count() == 2
    assert notify(recipients=[personas.owner], kind="watched", actor=personas.owner, text="x") == []


def test_notify_rejects_unknown_kinds(personas):
    with pytest.raises(ValueError, match="Unknown notification kind"):
        notify(recipients=[personas.member], kind="gossip", actor=None, text="x")
    assert not Notification.objects.exists()


def test_list_role_matrix(personas):
    assert personas.matrix("GET", NOTIFICATIONS) == {
        "anonymous": 401,
        "outsider": 200,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_read_all_role_matrix(personas):
    assert personas.matrix("POST", f"{NOTIFICATIONS}/read-all") == {
        "anonymous": 401,
        "outsider": 200,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_mark_read_role_matrix_only_the_recipient(personas):
    [notification] = notify(recipients=[personas.member], kind="watched", actor=personas.owner, text="BLOG-1 changed")
    assert personas.matrix("POST", f"{NOTIFICATIONS}/{notification.pk}/read") == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 404,
        "member": 200,
        "admin": 404,
        "owner": 404,
    }


def test_list_is_newest_first_with_unread_filter_and_pages(personas):
    created = [
        notify(recipients=[personas.member], kind="watched", actor=personas.owner, text=f"change {i}")[0]
        for i in range(5)
    ]
    client = personas.client("member")
    client.post(f"{NOTIFICATIONS}/{created[3].pk}/read")

    body = client.get(NOTIFICATIONS, {"limit": 2}).json()
    assert [n["text"] for n in body["results"]] == ["change 4", "change 3"]
    assert body["has_more"] is True
    assert body["unread_count"] == 4
    assert body["results"][0] == {
        "id": created[4].pk,
        "kind": "watched",
        "actor": {"id": personas.owner.pk, "username": "olivia", "name": "Olivia", "avatar": None},
        "text": "change 4",
        "url": "",
        "project_id": None,
        "data": {},
        "read": False,
        "read_at": None,
        "created_at": body["results"][0]["created_at"],
    }
    assert body["results"][1]["read"] is True

    rest = client.get(NOTIFICATIONS, {"limit": 2, "before": body["oldest_id"]}).json()
    assert [n["text"] for n in rest["results"]] == ["change 2", "change 1"]

    unread = client.get(NOTIFICATIONS, {"unread": "true"}).json()
    assert [n["text"] for n in unread["results"]] == ["change 4", "change 2", "change 1", "change 0"]
    # Someone else's inbox is their own.
    assert personas.client("admin").get(NOTIFICATIONS).json()["results"] == []


def test_read_all(personas):
    for i in range(3):
        notify(recipients=[personas.member, personas.admin], kind="watched", actor=personas.owner, text=f"n{i}")
    response = personas.client("member").post(f"{NOTIFICATIONS}/read-all")
    assert response.json() == {"marked": 3}
    assert personas.client("member").get(NOTIFICATIONS, {"unread": "true"}).json()["results"] == []
    assert personas.client("member").post(f"{NOTIFICATIONS}/read-all").json() == {"marked": 0}
    assert personas.client("admin").get(NOTIFICATIONS).json()["unread_count"] == 3


def test_api_key_without_chat_scope_is_403(personas):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=api_key(personas.member, ["projects:read"]))
    assert client.get(NOTIFICATIONS).status_code == 403


def test_bad_query_is_400(personas):
    response = personas.client("member").get(NOTIFICATIONS, {"limit": "lots"})
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "limit"


def test_list_query_count_does_not_grow(personas, django_assert_max_num_queries):
    client = personas.client("member")
    notify(recipients=[personas.member], kind="watched", actor=personas.owner, text="one")
    with django_assert_max_num_queries(2):
        client.get(NOTIFICATIONS)
    for user in UserFactory.create_batch(20):
        notify(recipients=[personas.member], kind="mention", actor=user, text="hey")
    with django_assert_max_num_queries(2):
        assert len(client.get(NOTIFICATIONS).json()["results"]) == 21


@pytest.mark.django_db(transaction=True)
def test_notify_publishes_on_each_recipients_user_group(personas, fresh_layer):
    channel = listen(f"user.{personas.member.pk}")
    [notification] = notify(recipients=[personas.member], kind="assigned", actor=personas.owner, text="BLOG-7 is yours")
    message = next_event(channel)
    assert message["event"] == "notification.created"
    assert message["payload"]["id"] == notification.pk
    assert message["payload"]["kind"] == "assigned"


@pytest.mark.django_db(transaction=True)
async def test_mention_is_delivered_over_the_user_socket(personas, fresh_layer):
    from punt.asgi import application

    token = str(AccessToken.for_user(personas.admin))
    # An origin from ALLOWED_HOSTS: the origin validator reads it when punt.asgi is first
    # imported, which may be before the test setup adds "testserver".
    socket = WebsocketCommunicator(
        application, f"/api/v1/ws/user?token={token}", headers=[(b"origin", b"http://localhost")]
    )
    connected, _ = await socket.connect(timeout=3)
    assert connected

    @database_sync_to_async
    def mention() -> dict:
        response = personas.client("member").post(CHAT, {"body": "@adam please review"}, format="json")
        assert response.status_code == 201
        return response.json()

    sent = await mention()
    try:
        while True:
            event = await socket.receive_json_from(timeout=3)
            if event["type"] == "notification.created":
                break
    finally:
        await socket.disconnect()
    assert event["payload"]["kind"] == "mention"
    assert event["payload"]["actor"]["username"] == "mary"
    assert event["payload"]["text"] == "Mary mentioned you in BLOG chat"
    assert event["payload"]["data"] == {"message_id": sent["id"], "excerpt": "@adam please review"}
