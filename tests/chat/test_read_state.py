from __future__ import annotations

from chat.models import ChannelReadState, Conversation
from tests.chat.conftest import CHAT, make_messages
from tests.factories import MembershipFactory, ProjectFactory

UNREAD = "/api/v1/chat/unread"
READ = "/api/v1/projects/blog/chat/read"


def unread(personas, role: str) -> dict:
    response = personas.client(role).get(UNREAD)
    assert response.status_code == 200
    return response.json()


def test_unread_role_matrix(personas):
    assert personas.matrix("GET", UNREAD) == {
        "anonymous": 401,
        "outsider": 200,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_mark_read_role_matrix(personas):
    assert personas.matrix("POST", READ, {}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_project_channel_unread_counts_and_mark_read(personas):
    messages = make_messages(personas.admin, 3, project=personas.project)
    make_messages(personas.member, 1, project=personas.project)  # one's own messages never count
    assert unread(personas, "member") == {"projects": {"blog": 3}, "conversations": {}}
    assert unread(personas, "admin") == {"projects": {"blog": 1}, "conversations": {}}
    assert unread(personas, "outsider") == {"projects": {}, "conversations": {}}

    response = personas.client("member").post(READ, {"message_id": messages[1].pk}, format="json")
    assert response.json() == {"last_read_id": messages[1].pk, "unread": 1}
    assert unread(personas, "member")["projects"] == {"blog": 1}

    response = personas.client("member").post(READ, {}, format="json")
    newest = personas.client("member").get(CHAT).json()["newest_id"]
    assert response.json() == {"last_read_id": newest, "unread": 0}
    assert unread(personas, "member")["projects"] == {"blog": 0}

    # An older tab marking an older message read does not move the marker back.
    stale = personas.client("member").post(READ, {"message_id": messages[0].pk}, format="json")
    assert stale.json() == {"last_read_id": newest, "unread": 0}

    personas.client("owner").post(CHAT, {"body": "new!"}, format="json")
    assert unread(personas, "member")["projects"] == {"blog": 1}
    assert ChannelReadState.objects.get(user=personas.member).last_read_id == newest


def test_tombstones_do_not_count_as_unread(personas):
    [message] = make_messages(personas.admin, 1, project=personas.project)
    personas.client("admin").delete(f"{CHAT}/{message.pk}")
    assert unread(personas, "member")["projects"] == {"blog": 0}


def test_marking_a_message_of_another_channel_read_is_400(personas):
    elsewhere = ProjectFactory(owner_user=personas.member, key="ELSE")
    [foreign] = make_messages(personas.member, 1, project=elsewhere)
    response = personas.client("member").post(READ, {"message_id": foreign.pk}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "error": "Validation failed",
        "details": [{"field": "message_id", "message": "No such message in this channel."}],
    }
    assert not ChannelReadState.objects.exists()


def test_conversation_unread_counts_and_mark_read(personas):
    dm_id = personas.client("admin").post("/api/v1/conversations", {"usernames": ["mary"]}, format="json").json()["id"]
    url = f"/api/v1/conversations/{dm_id}"
    for text in ("one", "two"):
        personas.client("admin").post(f"{url}/messages", {"body": text}, format="json")
    assert unread(personas, "member")["conversations"] == {str(dm_id): 2}
    assert unread(personas, "admin")["conversations"] == {str(dm_id): 0}
    assert personas.client("member").get(url).json()["unread"] == 2

    response = personas.client("member").post(f"{url}/read", {}, format="json")
    assert response.status_code == 200
    assert response.json()["unread"] == 0
    assert unread(personas, "member")["conversations"] == {str(dm_id): 0}


def test_conversation_mark_read_role_matrix(personas):
    dm_id = personas.client("admin").post("/api/v1/conversations", {"usernames": ["mary"]}, format="json").json()["id"]
    assert personas.matrix("POST", f"/api/v1/conversations/{dm_id}/read", {}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 404,
        "member": 200,
        "admin": 200,
        "owner": 404,
    }


def test_unread_query_count_does_not_grow_with_channels(personas, django_assert_max_num_queries):
    def add(count: int) -> None:
        for _ in range(count):
            project = ProjectFactory(owner_user=personas.owner)
            MembershipFactory(project=project, user=personas.member)
            make_messages(personas.owner, 2, project=project)
            conversation = Conversation.objects.create(kind="group", title="g", created_by=personas.owner)
            conversation.memberships.create(user=personas.member)
            make_messages(personas.owner, 2, conversation=conversation)

    add(1)
    with django_assert_max_num_queries(2):
        unread(personas, "member")
    add(8)
    with django_assert_max_num_queries(2):
        counts = unread(personas, "member")
    assert len(counts["projects"]) == 10
    assert set(counts["projects"].values()) == {0, 2}
    assert list(counts["conversations"].values()) == [2] * 9
