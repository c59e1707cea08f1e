"""The admin moderates through the services: no write there skips rendering, tombstones or events."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from chat import services
from chat.models import Topic, TopicReply
from punt.errors import Forbidden
from tests.chat.conftest import make_messages
from tests.factories import UserFactory


@pytest.fixture
def staff(db) -> Client:
    client = Client()
    client.force_login(UserFactory(username="sam", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def published(monkeypatch) -> list[tuple[str, dict[str, Any]]]:
    seen: list[tuple[str, dict[str, Any]]] = []
    original = services.publish

    def capture(event: str, payload: dict[str, Any], **kwargs: Any) -> None:
        seen.append((event, payload))
        original(event, payload, **kwargs)

    monkeypatch.setattr(services, "publish", capture)
    return seen


@pytest.fixture
def topic(personas) -> Topic:
    topic = services.topic_create(user=personas.member, project=personas.project, title="Release", body="plain")
    services.topic_reply(user=personas.member, topic=topic, body="first")
    services.topic_reply(user=personas.admin, topic=topic, body="second")
    return topic


def test_messages_cannot_be_added_or_edited_in_the_admin(personas, staff):
    [message] = make_messages(personas.member, 1, project=personas.project)
    assert staff.get("/admin/chat/message/add/").status_code == 403
    page = staff.get(f"/admin/chat/message/{message.pk}/change/")
    assert page.status_code == 200  # a read-only view
    edited = staff.post(f"/admin/chat/message/{message.pk}/change/", {"body": "<b>rewritten</b>"})
    assert edited.status_code == 403
    message.refresh_from_db()
    assert message.body == "message 0"


def test_delete_button_leaves_a_tombstone(personas, staff, published):
    [message] = make_messages(personas.member, 1, project=personas.project)
    response = staff.post(f"/admin/chat/message/{message.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.is_deleted, message.body, message.deleted_by.username) == (True, "", "sam")
    assert [event for event, _ in published] == ["chat.message_deleted"]


def _topic_form(topic: Topic, **changes: Any) -> dict[str, Any]:
    replies = list(topic.replies.order_by("id"))
    data: dict[str, Any] = {
        "title": topic.title,
        "body": topic.body,
        "replies-TOTAL_FORMS": str(len(replies)),
        "replies-INITIAL_FORMS": str(len(replies)),
        "replies-MIN_NUM_FORMS": "0",
        "replies-MAX_NUM_FORMS": "1000",
    }
    if topic.pinned:
        data["pinned"] = "on"
    if topic.locked:
        data["locked"] = "on"
    for i, reply in enumerate(replies):
        data[f"replies-{i}-id"] = str(reply.pk)
        data[f"replies-{i}-topic"] = str(topic.pk)
    data.update(changes)
    return data


def test_topic_edit_renders_and_announces(personas, staff, topic, published):
    response = staff.post(f"/admin/chat/topic/{topic.pk}/change/", _topic_form(topic, body="**now bold**", pinned="on"))
    assert response.status_code == 302, response.content[:2000]
    topic.refresh_from_db()
    assert (topic.body, topic.body_html, topic.pinned) == ("**now bold**", "<p><strong>now bold</strong></p>", True)
    [(event, payload)] = published
    assert (event, payload["pinned"], payload["reply_count"]) == ("topic.updated", True, 2)


def test_topic_body_over_the_limit_is_a_form_error(personas, staff, topic):
    too_long = "x" * (services.TOPIC_BODY_MAX_LENGTH + 1)
    response = staff.post(f"/admin/chat/topic/{topic.pk}/change/", _topic_form(topic, body=too_long))
    assert response.status_code == 200
    assert "no more than" in response.content.decode()
    topic.refresh_from_db()
    assert topic.body == "plain"


def test_reply_removed_from_the_inline_goes_through_the_service(personas, staff, topic, published):
    first, second = topic.replies.order_by("id")
    response = staff.post(f"/admin/chat/topic/{topic.pk}/change/", _topic_form(topic, **{"replies-0-DELETE": "on"}))
    assert response.status_code == 302, response.content[:2000]
    assert list(TopicReply.objects.filter(topic=topic)) == [second]
    assert published == [
        ("topic.reply_deleted", {"id": first.pk, "topic_id": topic.pk, "project_id": personas.project.pk})
    ]


def test_topics_are_not_added_in_the_admin_and_deleting_goes_through_the_service(personas, staff, topic, published):
    assert staff.get("/admin/chat/topic/add/").status_code == 403
    response = staff.post(f"/admin/chat/topic/{topic.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Topic.objects.exists()
    assert [event for event, _ in published] == ["topic.deleted"]


def test_reply_delete_service_rules(personas, topic):
    first, second = topic.replies.order_by("id")
    with pytest.raises(Forbidden, match="Only the author or a project admin"):
        services.topic_reply_delete(user=personas.member, reply=second)
    services.topic_reply_delete(user=personas.member, reply=first)  # one's own
    services.topic_reply_delete(user=personas.owner, reply=second)  # a project admin
    assert not TopicReply.objects.exists()


def test_conversations_are_view_only(personas, staff):
    from chat.models import Conversation

    conversation, _ = services.conversation_open(user=personas.member, usernames=["adam"])
    assert staff.get("/admin/chat/conversation/").status_code == 200
    assert staff.get(f"/admin/chat/conversation/{conversation.pk}/change/").status_code == 200
    assert staff.get("/admin/chat/conversation/add/").status_code == 403
    assert (
        staff.post(f"/admin/chat/conversation/{conversation.pk}/change/", {"title": "x", "text": "x"}).status_code
        == 403
    )
    assert Conversation.objects.get().title == ""
