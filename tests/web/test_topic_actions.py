"""Topic page: admins pin and lock; authors and admins delete topics and replies."""

from __future__ import annotations

import pytest

from chat import services as chat_services
from chat.models import Topic, TopicReply
from tests.conftest import ROLES, Personas
from tests.factories import ProjectFactory
from tests.web.conftest import page_client

pytestmark = pytest.mark.django_db

BASE = "/projects/olivia/blog"


def _topic(personas: Personas, role: str = "member", title: str = "Release plan") -> Topic:
    return chat_services.topic_create(user=personas.user(role), project=personas.project, title=title, body="When?")


def test_pin_and_lock_role_matrix(personas: Personas):
    topic = _topic(personas)
    url = f"{BASE}/topics/{topic.pk}/manage"
    pinned = {}
    for role in ROLES:
        Topic.objects.filter(pk=topic.pk).update(pinned=False)
        status = page_client(personas, role).post(url, {"action": "pin"}).status_code
        topic.refresh_from_db()
        pinned[role] = (status, topic.pinned)
    # A member's refusal is a message on the page (a redirect), and nothing changes.
    assert pinned == {
        "anonymous": (302, False),
        "outsider": (404, False),
        "viewer": (403, False),
        "member": (302, False),
        "admin": (302, True),
        "owner": (302, True),
    }
    client = page_client(personas, "admin")
    client.post(url, {"action": "lock"})
    topic.refresh_from_db()
    assert topic.locked
    html = client.get(f"{BASE}/topics/{topic.pk}").content.decode()
    assert ">Unlock</button>" in html and ">Unpin</button>" in html and "Locked" in html
    client.post(url, {"action": "unlock"})
    client.post(url, {"action": "unpin"})
    topic.refresh_from_db()
    assert not topic.locked and not topic.pinned


def test_controls_follow_the_role(personas: Personas):
    topic = _topic(personas)
    page = f"{BASE}/topics/{topic.pk}"
    assert ">Pin</button>" in page_client(personas, "admin").get(page).content.decode()
    member_html = page_client(personas, "member").get(page).content.decode()
    assert ">Pin</button>" not in member_html and "Delete topic" in member_html  # the author
    assert 'id="topic-actions"' not in page_client(personas, "viewer").get(page).content.decode()
    other = _topic(personas, "owner", "Owner's topic")
    assert "Delete topic" not in page_client(personas, "member").get(f"{BASE}/topics/{other.pk}").content.decode()


def test_delete_topic_author_or_admin(personas: Personas):
    mine = _topic(personas)
    theirs = _topic(personas, "owner", "Not yours")
    member = page_client(personas, "member")
    response = member.post(f"{BASE}/topics/{theirs.pk}/manage", {"action": "delete"}, follow=True)
    assert "Only the author or a project admin can delete this topic." in response.content.decode()
    assert Topic.objects.filter(pk=theirs.pk).exists()
    response = member.post(f"{BASE}/topics/{mine.pk}/manage", {"action": "delete"})
    assert response.status_code == 302 and response["Location"] == f"{BASE}/chat"
    assert not Topic.objects.filter(pk=mine.pk).exists()
    page_client(personas, "admin").post(f"{BASE}/topics/{theirs.pk}/manage", {"action": "delete"})
    assert not Topic.objects.filter(pk=theirs.pk).exists()


def test_delete_reply(personas: Personas):
    topic = _topic(personas, "owner")
    reply = chat_services.topic_reply(user=personas.member, topic=topic, body="Friday")
    other = chat_services.topic_reply(user=personas.owner, topic=topic, body="Monday")
    url = f"{BASE}/topics/{topic.pk}/manage"
    member = page_client(personas, "member")
    html = member.get(f"{BASE}/topics/{topic.pk}").content.decode()
    assert html.count('name="action" value="reply_delete"') == 1  # only on their own reply
    member.post(url, {"action": "reply_delete", "reply": other.pk})
    assert TopicReply.objects.filter(pk=other.pk).exists()
    assert page_client(personas, "viewer").post(url, {"action": "reply_delete", "reply": reply.pk}).status_code == 403
    member.post(url, {"action": "reply_delete", "reply": reply.pk})
    assert not TopicReply.objects.filter(pk=reply.pk).exists()
    page_client(personas, "admin").post(url, {"action": "reply_delete", "reply": other.pk})
    assert not TopicReply.objects.exists()


def test_odd_input_is_404_or_a_message(personas: Personas):
    topic = _topic(personas)
    client = page_client(personas, "admin")
    url = f"{BASE}/topics/{topic.pk}/manage"
    assert client.post(url, {"action": "reply_delete", "reply": "abc"}).status_code == 404
    assert client.post(url, {"action": "reply_delete", "reply": "999999"}).status_code == 404
    response = client.post(url, {"action": "explode"}, follow=True)
    assert response.status_code == 200 and "Unknown action." in response.content.decode()
    assert client.post(f"{BASE}/topics/999999/manage", {"action": "pin"}).status_code == 404
    elsewhere = ProjectFactory(owner_user=personas.admin, key="ADAM", name="Adam's")
    foreign = chat_services.topic_create(user=personas.admin, project=elsewhere, title="Private")
    assert client.post(f"{BASE}/topics/{foreign.pk}/manage", {"action": "delete"}).status_code == 404
    assert Topic.objects.filter(pk=foreign.pk).exists()
