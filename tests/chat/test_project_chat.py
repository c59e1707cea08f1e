from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from chat.models import Message, Reaction
from notifications.models import Notification
from tests.chat.conftest import CHAT, api_key, chat_url, listen, make_messages, next_event
from tests.factories import TicketFactory


def post(personas, role: str, body: str, url: str = CHAT):
    return personas.client(role).post(url, {"body": body}, format="json")


# --- role matrices ---------------------------------------------------------------------


def test_history_role_matrix(personas):
    assert personas.matrix("GET", CHAT) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_post_role_matrix(personas):
    assert personas.matrix("POST", CHAT, {"body": "hello"}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 201,
        "admin": 201,
        "owner": 201,
    }
    assert Message.objects.filter(project=personas.project).count() == 3


def test_edit_role_matrix_only_the_author(personas):
    message = make_messages(personas.member, 1, project=personas.project)[0]
    assert personas.matrix("PUT", chat_url(message.pk), {"body": "edited"}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 200,
        "admin": 403,
        "owner": 403,
    }


def test_delete_role_matrix_author_or_admin(personas):
    def fresh_message(role: str) -> str:
        return chat_url(make_messages(personas.member, 1, project=personas.project)[0].pk)

    assert personas.matrix("DELETE", fresh_message) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 204,
        "admin": 204,
        "owner": 204,
    }


def test_reaction_role_matrix(personas):
    message = make_messages(personas.member, 1, project=personas.project)[0]
    assert personas.matrix("POST", chat_url(message.pk, "/reactions"), {"emoji": "👍"}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_message_of_another_project_is_404(personas):
    from tests.factories import ProjectFactory

    elsewhere = ProjectFactory(owner_user=personas.member, key="OTHER")
    message = make_messages(personas.member, 1, project=elsewhere)[0]
    client = personas.client("member")
    assert client.put(chat_url(message.pk), {"body": "x"}, format="json").status_code == 404
    assert client.delete(chat_url(message.pk)).status_code == 404


def test_api_key_without_chat_scope_is_403(personas):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=api_key(personas.member, ["tickets:write"]))
    assert client.get(CHAT).status_code == 403
    assert client.post(CHAT, {"body": "hi"}, format="json").status_code == 403

    reader = APIClient()
    reader.credentials(HTTP_X_API_KEY=api_key(personas.member, ["chat:read"]))
    assert reader.get(CHAT).status_code == 200
    response = reader.post(CHAT, {"body": "hi"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"error": "This API key lacks the 'chat:write' scope."}
    assert not Message.objects.exists()


# --- messages --------------------------------------------------------------------------


def test_post_returns_the_whole_message(personas):
    response = post(personas, "member", "Hello **world**")
    assert response.status_code == 201
    body = response.json()
    message = Message.objects.get()
    assert body == {
        "id": message.pk,
        "project_id": personas.project.pk,
        "conversation_id": None,
        "author": {"id": personas.member.pk, "username": "mary", "name": "Mary", "avatar": None},
        "author_name": "Mary",
        "bot": False,
        "body": "Hello **world**",
        "body_html": "<p>Hello <strong>world</strong></p>",
        "created_at": body["created_at"],
        "edited_at": None,
        "deleted": False,
        "reactions": [],
    }
    assert body["created_at"]


def test_history_is_newest_first(personas):
    first, second = make_messages(personas.member, 2, project=personas.project)
    body = personas.client("viewer").get(CHAT).json()
    assert [m["id"] for m in body["results"]] == [second.pk, first.pk]
    assert body["has_more"] is False
    assert body["oldest_id"] == first.pk
    assert body["newest_id"] == second.pk


def test_edit_marks_the_message_edited(personas):
    message_id = post(personas, "member", "first draft").json()["id"]
    response = personas.client("member").put(chat_url(message_id), {"body": "final *text*"}, format="json")
    assert response.status_code == 200
    assert response.json()["body"] == "final *text*"
    assert response.json()["body_html"] == "<p>final <em>text</em></p>"
    assert response.json()["edited_at"] is not None
    history = personas.client("viewer").get(CHAT).json()["results"]
    assert history[0]["edited_at"] == response.json()["edited_at"]


def test_delete_leaves_a_tombstone(personas):
    message_id = post(personas, "member", "oops").json()["id"]
    personas.client("owner").post(chat_url(message_id, "/reactions"), {"emoji": "😂"}, format="json")
    assert personas.client("admin").delete(chat_url(message_id)).status_code == 204

    [tombstone] = personas.client("viewer").get(CHAT).json()["results"]
    assert tombstone["id"] == message_id
    assert tombstone["deleted"] is True
    assert tombstone["body"] == ""
    assert tombstone["body_html"] == ""
    assert tombstone["reactions"] == []
    assert tombstone["author"]["username"] == "mary"


def test_deleted_message_cannot_be_edited_or_reacted_to(personas):
    message_id = post(personas, "member", "gone soon").json()["id"]
    personas.client("member").delete(chat_url(message_id))
    edit = personas.client("member").put(chat_url(message_id), {"body": "back"}, format="json")
    assert edit.status_code == 400
    assert edit.json() == {
        "error": "Validation failed",
        "details": [{"field": "body", "message": "A deleted message cannot be edited."}],
    }
    react = personas.client("member").post(chat_url(message_id, "/reactions"), {"emoji": "👍"}, format="json")
    assert react.status_code == 400
    assert Message.objects.get().body == ""


def test_member_cannot_delete_someone_elses_message(personas):
    message_id = post(personas, "admin", "admin speaks").json()["id"]
    response = personas.client("member").delete(chat_url(message_id))
    assert response.status_code == 403
    assert response.json() == {"error": "You can only delete your own messages."}
    assert Message.objects.get().deleted_at is None


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ("   ", "body", "This field may not be blank."),
        ("x" * 4001, "body", "Ensure this field has no more than 4000 characters."),
    ],
)
def test_bad_bodies_are_400_and_write_nothing(personas, body, field, message):
    response = post(personas, "member", body)
    assert response.status_code == 400
    assert response.json() == {"error": "Validation failed", "details": [{"field": field, "message": message}]}
    assert not Message.objects.exists()


def test_4000_characters_are_fine(personas):
    assert post(personas, "member", "x" * 4000).status_code == 201


def test_missing_body_is_400(personas):
    response = personas.client("member").post(CHAT, {}, format="json")
    assert response.status_code == 400
    assert response.json()["details"] == [{"field": "body", "message": "This field is required."}]


# --- rendering -------------------------------------------------------------------------


def test_markdown_is_sanitized(personas):
    evil = (
        "<script>alert('x')</script>"
        '<img src=x onerror="alert(1)">'
        "[click](javascript:alert(1)) "
        '<a href="/ok" onclick="steal()">link</a>'
        '<iframe src="https://evil.example"></iframe>'
    )
    html = post(personas, "member", evil).json()["body_html"]
    lowered = html.lower()
    for forbidden in ("<script", "onerror", "javascript:", "onclick", "<iframe", "<img", "alert('x')"):
        assert forbidden not in lowered, html
    assert '<a href="/ok" rel="noopener noreferrer">link</a>' in html


def test_ticket_keys_of_the_project_become_links(personas):
    ticket = TicketFactory(project=personas.project)
    html = post(personas, "member", f"See BLOG-{ticket.number}, BLOG-999, OTHER-1 and `BLOG-{ticket.number}`").json()[
        "body_html"
    ]
    assert html == (
        f'<p>See <a class="ticket-link" href="/projects/olivia/blog/tickets/{ticket.number}" '
        f'rel="noopener noreferrer">BLOG-{ticket.number}</a>, BLOG-999, OTHER-1 and '
        f"<code>BLOG-{ticket.number}</code></p>"
    )


def test_mentions_of_members_notify_them(personas):
    response = post(personas, "member", "@adam and @Victor, look. Not @oscar, not @nobody, not me: @mary")
    assert response.status_code == 201
    html = response.json()["body_html"]
    assert '<span class="mention">@adam</span>' in html
    assert '<span class="mention">@victor</span>' in html
    assert "@oscar" in html and '<span class="mention">@oscar' not in html

    notified = Notification.objects.order_by("recipient__username")
    assert [(n.recipient.username, n.kind, n.actor.username) for n in notified] == [
        ("adam", "mention", "mary"),
        ("victor", "mention", "mary"),
    ]
    assert notified[0].text == "Mary mentioned you in BLOG chat"
    assert notified[0].url == f"/projects/olivia/blog/chat#message-{response.json()['id']}"
    assert notified[0].project == personas.project


def test_editing_in_a_mention_notifies_only_the_newcomer(personas):
    message_id = post(personas, "member", "hi @adam").json()["id"]
    personas.client("member").put(chat_url(message_id), {"body": "hi @adam and @olivia"}, format="json")
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == ["adam", "olivia"]


# --- reactions -------------------------------------------------------------------------


def test_reactions_toggle_and_show_who_reacted(personas):
    message_id = post(personas, "owner", "ship it?").json()["id"]
    url = chat_url(message_id, "/reactions")

    first = personas.client("member").post(url, {"emoji": "👍"}, format="json")
    assert first.status_code == 200
    assert first.json()["reactions"] == [{"emoji": "👍", "count": 1, "users": ["mary"], "me": True}]

    second = personas.client("admin").post(url, {"emoji": "👍"}, format="json").json()
    assert second["reactions"] == [{"emoji": "👍", "count": 2, "users": ["mary", "adam"], "me": True}]
    personas.client("admin").post(url, {"emoji": "🎉"}, format="json")

    # Mary toggles hers off again.
    third = personas.client("member").post(url, {"emoji": "👍"}, format="json").json()
    assert third["reactions"] == [
        {"emoji": "👍", "count": 1, "users": ["adam"], "me": False},
        {"emoji": "🎉", "count": 1, "users": ["adam"], "me": False},
    ]

    as_admin = personas.client("admin").get(CHAT).json()["results"][0]["reactions"]
    assert as_admin == [
        {"emoji": "👍", "count": 1, "users": ["adam"], "me": True},
        {"emoji": "🎉", "count": 1, "users": ["adam"], "me": True},
    ]
    assert Reaction.objects.count() == 2


@pytest.mark.parametrize("emoji", ["", "two words", "x" * 33])
def test_bad_emoji_is_400(personas, emoji):
    message_id = post(personas, "owner", "hi").json()["id"]
    response = personas.client("member").post(chat_url(message_id, "/reactions"), {"emoji": emoji}, format="json")
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "emoji"
    assert not Reaction.objects.exists()


# --- pagination ------------------------------------------------------------------------


def test_paging_back_has_no_gaps_or_repeats_while_messages_arrive(personas):
    original = [m.pk for m in make_messages(personas.admin, 25, project=personas.project)]
    reader = personas.client("viewer")
    seen: list[int] = []

    page = reader.get(CHAT, {"limit": 10}).json()
    seen += [m["id"] for m in page["results"]]
    while page["has_more"]:
        # New messages land at the top while the reader scrolls back.
        for i in range(3):
            assert post(personas, "member", f"meanwhile {i}").status_code == 201
        page = reader.get(CHAT, {"limit": 10, "before": page["oldest_id"]}).json()
        seen += [m["id"] for m in page["results"]]

    assert seen == sorted(original, reverse=True)


def test_catching_up_with_after_has_no_gaps_or_repeats(personas):
    make_messages(personas.admin, 5, project=personas.project)
    reader = personas.client("viewer")
    newest = reader.get(CHAT, {"limit": 5}).json()["newest_id"]

    posted = [post(personas, "member", f"new {i}").json()["id"] for i in range(7)]
    caught_up: list[int] = []
    cursor = newest
    while True:
        page = reader.get(CHAT, {"after": cursor, "limit": 3}).json()
        ids = [m["id"] for m in page["results"]]
        assert ids == sorted(ids, reverse=True)  # still newest first within the page
        caught_up += reversed(ids)
        if ids:
            cursor = page["newest_id"]
        if len(caught_up) == 4:
            posted.append(post(personas, "member", "late arrival").json()["id"])
        if not page["has_more"]:
            break
    assert caught_up == posted


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"before": 5, "after": 2}, "after"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"before": "x"}, "before"),
    ],
)
def test_bad_paging_parameters_are_400(personas, params, field):
    response = personas.client("member").get(CHAT, params)
    assert response.status_code == 400
    assert response.json()["error"] == "Validation failed"
    assert [d["field"] for d in response.json()["details"]] == [field]


def test_history_query_count_does_not_grow_with_rows(personas, django_assert_max_num_queries):
    def add(count: int) -> None:
        for message in make_messages(personas.member, count, project=personas.project):
            Reaction.objects.create(message=message, user=personas.admin, emoji="👍")
            Reaction.objects.create(message=message, user=personas.owner, emoji="🎉")

    client = personas.client("viewer")
    add(2)
    with django_assert_max_num_queries(4):
        assert len(client.get(CHAT).json()["results"]) == 2
    add(30)
    with django_assert_max_num_queries(4):
        assert len(client.get(CHAT).json()["results"]) == 32


# --- rate limit ------------------------------------------------------------------------


def test_sending_is_rate_limited_per_user(personas, settings):
    settings.PUNT_CHAT_SEND_RATE = "3/m"
    for i in range(3):
        response = post(personas, "member", f"message {i}")
        assert response.status_code == 201
        assert response["X-RateLimit-Limit"] == "3"
    refused = post(personas, "member", "one too many")
    assert refused.status_code == 429
    assert refused.json()["error"].startswith("Too many requests.")
    assert int(refused["Retry-After"]) >= 1
    assert Message.objects.count() == 3
    # The limit is per user: someone else may still talk.
    assert post(personas, "admin", "still here").status_code == 201


def test_one_send_budget_covers_chat_conversations_topics_and_replies(personas, settings):
    settings.PUNT_CHAT_SEND_RATE = "4/m"
    client = personas.client("member")
    topics = "/api/v1/projects/blog/topics"
    conversation = client.post("/api/v1/conversations", {"usernames": ["adam"]}, format="json").json()
    assert post(personas, "member", "one").status_code == 201
    assert client.post(f"/api/v1/conversations/{conversation['id']}/messages", {"body": "two"}).status_code == 201
    topic = client.post(topics, {"title": "three"}, format="json")
    assert topic.status_code == 201
    reply_url = f"{topics}/{topic.json()['id']}/replies"
    assert client.post(reply_url, {"body": "four"}, format="json").status_code == 201
    assert client.post(reply_url, {"body": "five"}, format="json").status_code == 429
    assert client.post(topics, {"title": "six"}, format="json").status_code == 429
    assert client.post(f"/api/v1/conversations/{conversation['id']}/messages", {"body": "7"}).status_code == 429
    assert post(personas, "member", "eight").status_code == 429


# --- live events -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_chat_events_go_to_the_project_group(personas, fresh_layer):
    channel = listen(f"project.{personas.project.pk}")
    sent = personas.client("member").post(CHAT, {"body": "live"}, format="json", HTTP_X_TAB_ID="tab-9").json()
    url = chat_url(sent["id"])
    personas.client("member").put(url, {"body": "live!"}, format="json")
    personas.client("admin").post(f"{url}/reactions", {"emoji": "🔥"}, format="json")
    personas.client("admin").delete(url)

    created = next_event(channel)
    assert (created["event"], created["tab_id"], created["actor_id"]) == ("chat.message", "tab-9", personas.member.pk)
    assert created["payload"] == {**sent, "reactions": []}
    updated = next_event(channel)
    assert (updated["event"], updated["payload"]["body"]) == ("chat.message_updated", "live!")
    reaction = next_event(channel)
    assert reaction["event"] == "chat.reaction"
    assert reaction["payload"] == {
        "message_id": sent["id"],
        "project_id": personas.project.pk,
        "conversation_id": None,
        "emoji": "🔥",
        "user": "adam",
        "added": True,
        "reactions": [{"emoji": "🔥", "count": 1, "users": ["adam"], "me": False}],
    }
    deleted = next_event(channel)
    assert (deleted["event"], deleted["payload"]["deleted"], deleted["payload"]["body"]) == (
        "chat.message_deleted",
        True,
        "",
    )
