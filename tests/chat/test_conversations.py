from __future__ import annotations

import pytest

from chat.models import Conversation, ConversationMember, Message
from notifications.models import Notification
from tests.chat.conftest import listen, make_messages, next_event
from tests.factories import UserFactory

CONVERSATIONS = "/api/v1/conversations"


def brief(user) -> dict:
    return {"id": user.pk, "username": user.username, "name": user.name, "avatar": None}


def open_dm(personas, role: str, other: str):
    return personas.client(role).post(CONVERSATIONS, {"usernames": [other]}, format="json")


@pytest.fixture
def dm(personas) -> Conversation:
    """Mary and Adam's DM."""
    return Conversation.objects.get(pk=open_dm(personas, "member", "adam").json()["id"])


# --- creating ----------------------------------------------------------------------------


def test_a_dm_between_two_people_is_unique(personas):
    created = open_dm(personas, "member", "adam")
    assert created.status_code == 201
    conversation = Conversation.objects.get()
    assert created.json() == {
        "id": conversation.pk,
        "kind": "direct",
        "title": "",
        "members": [brief(personas.member), brief(personas.admin)],
        "created_by": brief(personas.member),
        "created_at": created.json()["created_at"],
        "last_message_at": None,
        "unread": 0,
    }
    again = open_dm(personas, "member", "adam")
    assert again.status_code == 200
    assert again.json()["id"] == conversation.pk
    # From the other side, with a differently cased name, it is the same DM.
    reverse = open_dm(personas, "admin", "MARY")
    assert reverse.status_code == 200
    assert reverse.json()["id"] == conversation.pk
    assert Conversation.objects.count() == 1


def test_several_people_make_a_titled_group(personas):
    response = personas.client("member").post(
        CONVERSATIONS, {"usernames": ["adam", "victor", "mary"], "title": "Launch crew"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "group"
    assert body["title"] == "Launch crew"
    assert [m["username"] for m in body["members"]] == ["mary", "adam", "victor"]
    # A second group with the same people is a new group (only DMs are unique).
    again = personas.client("member").post(
        CONVERSATIONS, {"usernames": ["adam", "victor"], "title": "Launch crew"}, format="json"
    )
    assert again.status_code == 201
    assert again.json()["id"] != body["id"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"usernames": ["adam", "victor"]}, "title", "A group conversation needs a title."),
        ({"usernames": ["adam", "ghost"], "title": "x"}, "usernames", "No such user: ghost."),
        ({"usernames": ["mary"]}, "usernames", "Name at least one other person."),
        ({"usernames": []}, "usernames", "Ensure this field has at least 1 elements."),
        ({"usernames": "adam"}, "usernames", 'Expected a list of items but got type "str".'),
    ],
)
def test_bad_conversation_requests_are_400_and_create_nothing(personas, data, field, message):
    response = personas.client("member").post(CONVERSATIONS, data, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": "Validation failed", "details": [{"field": field, "message": message}]}
    assert not Conversation.objects.exists()
    assert not ConversationMember.objects.exists()


# --- role matrices -----------------------------------------------------------------------


def test_list_role_matrix(personas):
    assert personas.matrix("GET", CONVERSATIONS) == {
        "anonymous": 401,
        "outsider": 200,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_create_role_matrix(personas):
    # Anyone signed in may open a DM (here: with Olivia; she talks to herself -> 400).
    assert personas.matrix("POST", CONVERSATIONS, {"usernames": ["olivia"]}) == {
        "anonymous": 401,
        "outsider": 201,
        "viewer": 201,
        "member": 201,
        "admin": 201,
        "owner": 400,
    }


def test_detail_role_matrix(personas, dm):
    assert personas.matrix("GET", f"{CONVERSATIONS}/{dm.pk}") == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 404,
        "member": 200,
        "admin": 200,
        "owner": 404,
    }


def test_messages_role_matrix(personas, dm):
    url = f"{CONVERSATIONS}/{dm.pk}/messages"
    assert personas.matrix("GET", url) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 404,
        "member": 200,
        "admin": 200,
        "owner": 404,
    }
    assert personas.matrix("POST", url, {"body": "hi"}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 404,
        "member": 201,
        "admin": 201,
        "owner": 404,
    }
    assert Message.objects.filter(conversation=dm).count() == 2


def test_unknown_conversation_is_404(personas):
    response = personas.client("member").get(f"{CONVERSATIONS}/999999/messages")
    assert response.status_code == 404
    assert response.json() == {"error": "Conversation not found."}


# --- messages ----------------------------------------------------------------------------


def test_listing_shows_only_ones_own_conversations_newest_activity_first(personas, dm):
    group = (
        personas.client("member")
        .post(CONVERSATIONS, {"usernames": ["adam", "victor"], "title": "Team"}, format="json")
        .json()
    )
    personas.client("admin").post(f"{CONVERSATIONS}/{dm.pk}/messages", {"body": "ping"}, format="json")

    as_mary = personas.client("member").get(CONVERSATIONS).json()
    assert [(c["id"], c["unread"]) for c in as_mary] == [(dm.pk, 1), (group["id"], 0)]
    as_victor = personas.client("viewer").get(CONVERSATIONS).json()
    assert [c["id"] for c in as_victor] == [group["id"]]
    assert personas.client("outsider").get(CONVERSATIONS).json() == []


def test_sending_renders_markdown_and_notifies_the_others(personas, dm):
    response = personas.client("member").post(
        f"{CONVERSATIONS}/{dm.pk}/messages", {"body": "<script>x()</script>**hey** @adam"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["conversation_id"] == dm.pk
    assert body["project_id"] is None
    assert body["body_html"] == "<p><strong>hey</strong> @adam</p>"
    [notification] = Notification.objects.all()
    assert (notification.recipient, notification.kind, notification.actor) == (personas.admin, "dm", personas.member)
    assert notification.text == "Mary: <script>x()</script>**hey** @adam"
    assert notification.url == f"/messages/{dm.pk}"
    assert notification.data == {"conversation_id": dm.pk, "message_id": body["id"]}
    history = personas.client("admin").get(f"{CONVERSATIONS}/{dm.pk}/messages").json()
    assert [m["id"] for m in history["results"]] == [body["id"]]


def test_too_long_dm_is_400(personas, dm):
    response = personas.client("member").post(f"{CONVERSATIONS}/{dm.pk}/messages", {"body": "x" * 4001}, format="json")
    assert response.status_code == 400
    assert not Message.objects.exists()
    assert not Notification.objects.exists()


def test_dm_paging_has_no_gaps_or_repeats_while_messages_arrive(personas, dm):
    original = [m.pk for m in make_messages(personas.admin, 12, conversation=dm)]
    client = personas.client("member")
    url = f"{CONVERSATIONS}/{dm.pk}/messages"
    seen: list[int] = []
    page = client.get(url, {"limit": 5}).json()
    seen += [m["id"] for m in page["results"]]
    while page["has_more"]:
        client.post(url, {"body": "meanwhile"}, format="json")
        page = client.get(url, {"limit": 5, "before": page["oldest_id"]}).json()
        seen += [m["id"] for m in page["results"]]
    assert seen == sorted(original, reverse=True)


def test_conversation_list_and_history_query_counts_do_not_grow(personas, django_assert_max_num_queries):
    client = personas.client("member")

    def add_conversations(count: int) -> None:
        for _ in range(count):
            other = UserFactory()
            conversation = Conversation.objects.get(
                pk=client.post(CONVERSATIONS, {"usernames": [other.username]}, format="json").json()["id"]
            )
            make_messages(other, 3, conversation=conversation)

    add_conversations(2)
    with django_assert_max_num_queries(3):
        assert len(client.get(CONVERSATIONS).json()) == 2
    add_conversations(10)
    with django_assert_max_num_queries(3):
        assert len(client.get(CONVERSATIONS).json()) == 12

    conversation = Conversation.objects.first()
    url = f"{CONVERSATIONS}/{conversation.pk}/messages"
    with django_assert_max_num_queries(5):
        client.get(url)
    make_messages(personas.member, 40, conversation=conversation)
    with django_assert_max_num_queries(5):
        assert len(client.get(url).json()["results"]) == 43


@pytest.mark.django_db(transaction=True)
def test_dm_message_reaches_every_members_user_group(personas, dm, fresh_layer):
    channels = {user.username: listen(f"user.{user.pk}") for user in (personas.member, personas.admin, personas.owner)}

    sent = personas.client("member").post(f"{CONVERSATIONS}/{dm.pk}/messages", {"body": "psst"}, format="json").json()

    for name in ("mary", "adam"):
        event = next_event(channels[name], "dm.message")
        assert event["payload"]["id"] == sent["id"]
        assert event["payload"]["body"] == "psst"
        assert event["actor_id"] == personas.member.pk
    notification = next_event(channels["adam"], "notification.created")
    assert notification["payload"]["kind"] == "dm"
    with pytest.raises(TimeoutError):
        next_event(channels["olivia"], timeout=0.3)
