from __future__ import annotations

import pytest

from chat.models import Topic, TopicReply
from notifications.models import Notification
from projects.models import Membership
from tests.chat.conftest import listen, next_event
from tests.factories import MembershipFactory, UserFactory

TOPICS = "/api/v1/projects/blog/topics"


def topic_url(topic_id: int, suffix: str = "") -> str:
    return f"{TOPICS}/{topic_id}{suffix}"


def create(personas, role: str = "member", title: str = "Release plan", body: str = "Let's ship **Friday**"):
    return personas.client(role).post(TOPICS, {"title": title, "body": body}, format="json")


@pytest.fixture
def topic(personas) -> Topic:
    return Topic.objects.get(pk=create(personas).json()["id"])


# --- role matrices -----------------------------------------------------------------------


def test_list_role_matrix(personas, topic):
    assert personas.matrix("GET", TOPICS) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_create_role_matrix(personas):
    assert personas.matrix("POST", TOPICS, {"title": "Hello", "body": ""}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 201,
        "admin": 201,
        "owner": 201,
    }
    assert Topic.objects.count() == 3


def test_detail_role_matrix(personas, topic):
    assert personas.matrix("GET", topic_url(topic.pk)) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_edit_role_matrix_author_or_admin(personas, topic):
    assert personas.matrix("PUT", topic_url(topic.pk), {"title": "Renamed"}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }
    other_member = MembershipFactory(project=personas.project, user=UserFactory(username="mike")).user
    client = personas.client("member")
    client.force_authenticate(other_member)
    response = client.put(topic_url(topic.pk), {"title": "Mine now"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"error": "Only the author or a project admin can edit this topic."}


def test_pin_and_lock_role_matrix_admins_only(personas, topic):
    assert personas.matrix("PUT", topic_url(topic.pk), {"pinned": True, "locked": False}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 403,
        "admin": 200,
        "owner": 200,
    }


def test_delete_role_matrix_author_or_admin(personas):
    def fresh_topic(role: str) -> str:
        return topic_url(create(personas).json()["id"])

    assert personas.matrix("DELETE", fresh_topic) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 204,
        "admin": 204,
        "owner": 204,
    }


def test_reply_role_matrix(personas, topic):
    assert personas.matrix("POST", topic_url(topic.pk, "/replies"), {"body": "+1"}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 201,
        "admin": 201,
        "owner": 201,
    }
    assert TopicReply.objects.count() == 3


# --- behaviour ---------------------------------------------------------------------------


def test_create_returns_the_topic(personas):
    response = create(personas, body="Ship it, @adam")
    assert response.status_code == 201
    body = response.json()
    topic = Topic.objects.get()
    assert body == {
        "id": topic.pk,
        "project_id": personas.project.pk,
        "author": {"id": personas.member.pk, "username": "mary", "name": "Mary", "avatar": None},
        "title": "Release plan",
        "body": "Ship it, @adam",
        "body_html": '<p>Ship it, <span class="mention">@adam</span></p>',
        "pinned": False,
        "locked": False,
        "reply_count": 0,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "last_activity_at": body["last_activity_at"],
    }
    [notification] = Notification.objects.all()
    assert (notification.recipient, notification.kind) == (personas.admin, "mention")
    assert notification.url == f"/projects/olivia/blog/topics/{topic.pk}"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": "", "body": "x"}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "ok", "body": "x" * 20001}, "body"),
    ],
)
def test_bad_topics_are_400(personas, data, field):
    response = personas.client("member").post(TOPICS, data, format="json")
    assert response.status_code == 400
    assert [d["field"] for d in response.json()["details"]] == [field]
    assert not Topic.objects.exists()


def test_detail_includes_replies_in_order(personas, topic):
    first = personas.client("admin").post(topic_url(topic.pk, "/replies"), {"body": "Agreed"}, format="json").json()
    second = personas.client("owner").post(topic_url(topic.pk, "/replies"), {"body": "*Yes*"}, format="json").json()
    body = personas.client("viewer").get(topic_url(topic.pk)).json()
    assert body["reply_count"] == 2
    assert body["replies"] == [
        {
            "id": first["id"],
            "topic_id": topic.pk,
            "author": {"id": personas.admin.pk, "username": "adam", "name": "Adam", "avatar": None},
            "body": "Agreed",
            "body_html": "<p>Agreed</p>",
            "created_at": first["created_at"],
        },
        {
            "id": second["id"],
            "topic_id": topic.pk,
            "author": {"id": personas.owner.pk, "username": "olivia", "name": "Olivia", "avatar": None},
            "body": "*Yes*",
            "body_html": "<p><em>Yes</em></p>",
            "created_at": second["created_at"],
        },
    ]


def test_pinned_topics_come_first_then_latest_activity(personas):
    old = create(personas, title="Old").json()["id"]
    pinned = create(personas, title="Rules").json()["id"]
    fresh = create(personas, title="Fresh").json()["id"]
    personas.client("admin").put(topic_url(pinned), {"pinned": True}, format="json")
    personas.client("member").post(topic_url(old, "/replies"), {"body": "bump"}, format="json")
    body = personas.client("viewer").get(TOPICS).json()
    assert body["count"] == 3
    assert [(t["id"], t["pinned"], t["reply_count"]) for t in body["results"]] == [
        (pinned, True, 0),
        (old, False, 1),
        (fresh, False, 0),
    ]


def test_locked_topics_refuse_replies(personas, topic):
    locked = personas.client("admin").put(topic_url(topic.pk), {"locked": True}, format="json")
    assert locked.status_code == 200
    assert locked.json()["locked"] is True
    for role in ("member", "admin", "owner"):
        response = personas.client(role).post(topic_url(topic.pk, "/replies"), {"body": "hello?"}, format="json")
        assert response.status_code == 403
        assert response.json() == {"error": "This topic is locked: it takes no new replies."}
    assert not TopicReply.objects.exists()
    personas.client("admin").put(topic_url(topic.pk), {"locked": False}, format="json")
    assert (
        personas.client("member").post(topic_url(topic.pk, "/replies"), {"body": "ok"}, format="json").status_code
        == 201
    )


def test_edit_changes_title_and_renders_body(personas, topic):
    response = personas.client("member").put(
        topic_url(topic.pk), {"title": "New plan", "body": "`code`"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["title"], response.json()["body_html"]) == ("New plan", "<p><code>code</code></p>")
    assert response.json()["replies"] == []


def test_non_member_author_loses_rights_with_their_membership(personas, topic):
    Membership.objects.filter(project=personas.project, user=personas.member).update(role="viewer")
    assert personas.client("member").delete(topic_url(topic.pk)).status_code == 403
    assert Topic.objects.exists()


def test_topic_of_another_project_is_404(personas):
    from tests.factories import ProjectFactory

    elsewhere = ProjectFactory(owner_user=personas.owner, key="ELSE")
    other = Topic.objects.create(project=elsewhere, title="x", last_activity_at=elsewhere.created_at)
    assert personas.client("owner").get(topic_url(other.pk)).status_code == 404


def test_topic_list_query_count_does_not_grow(personas, django_assert_max_num_queries):
    client = personas.client("viewer")

    def add(count: int) -> None:
        for i in range(count):
            topic = Topic.objects.create(
                project=personas.project,
                author=personas.member,
                title=f"t{i}",
                last_activity_at=personas.project.created_at,
            )
            TopicReply.objects.create(topic=topic, author=personas.admin, body="r")

    add(2)
    with django_assert_max_num_queries(4):
        assert client.get(TOPICS).json()["count"] == 2
    add(20)
    with django_assert_max_num_queries(4):
        assert client.get(TOPICS).json()["count"] == 22

    topic = Topic.objects.first()
    with django_assert_max_num_queries(4):
        client.get(topic_url(topic.pk))
    for _ in range(10):
        TopicReply.objects.create(topic=topic, author=personas.owner, body="more")
    with django_assert_max_num_queries(4):
        assert len(client.get(topic_url(topic.pk)).json()["replies"]) == 11


@pytest.mark.django_db(transaction=True)
def test_topic_events_go_to_the_project_group(personas, fresh_layer):
    channel = listen(f"project.{personas.project.pk}")

    created = (
        personas.client("member")
        .post(TOPICS, {"title": "Live", "body": ""}, format="json", HTTP_X_TAB_ID="tab-1")
        .json()
    )
    reply = personas.client("admin").post(topic_url(created["id"], "/replies"), {"body": "yo"}, format="json").json()

    first = next_event(channel)
    assert (first["event"], first["payload"]["id"], first["tab_id"]) == ("topic.created", created["id"], "tab-1")
    second = next_event(channel)
    assert (second["event"], second["payload"]["id"], second["payload"]["topic_id"]) == (
        "topic.reply",
        reply["id"],
        created["id"],
    )
