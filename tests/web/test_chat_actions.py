"""Chat pages: edit, delete and react to messages, and page back through history."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import services as chat_services
from chat.models import Message, Reaction
from projects.models import Membership
from tests.conftest import Personas
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.web.conftest import page_client

pytestmark = pytest.mark.django_db

BASE = "/projects/olivia/blog"


def _post(personas: Personas, role: str = "member", body: str = "hello") -> Message:
    return chat_services.message_post(user=personas.user(role), project=personas.project, body=body)


def _row(personas: Personas, message_id: int, data: dict, fresh) -> dict[str, int]:
    """One request per role against a fresh message each time; the whole row of status codes."""
    row = {}
    for role in ("anonymous", "outsider", "viewer", "member", "admin", "owner"):
        message = fresh()
        response = page_client(personas, role).post(f"{BASE}/chat/messages/{message.pk}", data)
        row[role] = response.status_code
    return row


def test_author_edits_own_message_and_the_page_shows_it(personas: Personas):
    message = _post(personas, body="Helo")
    client = page_client(personas, "member")
    html = client.get(f"{BASE}/chat").content.decode()
    assert f'action="{BASE}/chat/messages/{message.pk}"' in html and ">Edit</summary>" in html

    response = client.post(f"{BASE}/chat/messages/{message.pk}", {"action": "edit", "body": "Hello **all**"})
    assert response.status_code == 302
    assert response["Location"] == f"{BASE}/chat#message-{message.pk}"
    message.refresh_from_db()
    assert message.body == "Hello **all**" and message.edited_at is not None
    html = client.get(f"{BASE}/chat").content.decode()
    assert "<strong>all</strong>" in html and "· edited" in html


def test_edit_role_matrix_only_the_author_may(personas: Personas):
    row = _row(personas, 0, {"action": "edit", "body": "changed"}, lambda: _post(personas, "member"))
    # The admin may moderate (delete) but not put words in someone's mouth.
    assert row == {"anonymous": 302, "outsider": 404, "viewer": 403, "member": 302, "admin": 302, "owner": 302}
    assert Message.objects.filter(body="changed").count() == 1
    assert Message.objects.filter(body="changed").get().author == personas.member


def test_others_see_no_edit_control(personas: Personas):
    _post(personas, body="mine")
    html = page_client(personas, "admin").get(f"{BASE}/chat").content.decode()
    assert ">Edit</summary>" not in html
    assert ">Delete</button>" in html  # admins moderate
    html = page_client(personas, "owner").get(f"{BASE}/chat").content.decode()
    assert ">Delete</button>" in html
    viewer_html = page_client(personas, "viewer").get(f"{BASE}/chat").content.decode()
    assert ">Delete</button>" not in viewer_html and "React 👍" not in viewer_html


def test_refused_edit_shows_a_message_and_leaves_the_text(personas: Personas):
    message = _post(personas, body="original")
    client = page_client(personas, "admin")
    response = client.post(f"{BASE}/chat/messages/{message.pk}", {"action": "edit", "body": "hijack"}, follow=True)
    assert "You can only edit your own messages." in response.content.decode()
    message.refresh_from_db()
    assert message.body == "original"
    # Over htmx the refusal is a JSON error the page shows as a toast.
    response = client.post(
        f"{BASE}/chat/messages/{message.pk}", {"action": "edit", "body": "x"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 403 and response.json() == {"error": "You can only edit your own messages."}


def test_edit_with_empty_body_is_a_400_not_a_500(personas: Personas):
    message = _post(personas, body="original")
    client = page_client(personas, "member")
    response = client.post(
        f"{BASE}/chat/messages/{message.pk}", {"action": "edit", "body": "  "}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400 and "error" in response.json()
    response = client.post(f"{BASE}/chat/messages/{message.pk}", {"action": "nonsense"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    message.refresh_from_db()
    assert message.body == "original"


def test_delete_role_matrix_author_and_moderators(personas: Personas):
    row = _row(personas, 0, {"action": "delete"}, lambda: _post(personas, "member"))
    assert row == {"anonymous": 302, "outsider": 404, "viewer": 403, "member": 302, "admin": 302, "owner": 302}
    # member deleted their own; admin and owner moderated: three tombstones, three live messages.
    assert Message.objects.filter(deleted_at__isnull=False).count() == 3
    assert Message.objects.filter(deleted_at__isnull=True).count() == 3


def test_member_cannot_delete_someone_elses_message(personas: Personas):
    message = _post(personas, "owner", body="keep me")
    response = page_client(personas, "member").post(
        f"{BASE}/chat/messages/{message.pk}", {"action": "delete"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 403
    message.refresh_from_db()
    assert message.deleted_at is None


def test_delete_over_htmx_returns_the_log_with_a_tombstone(personas: Personas):
    message = _post(personas, body="oops")
    response = page_client(personas, "member").post(
        f"{BASE}/chat/messages/{message.pk}", {"action": "delete"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="chat-log"
    )
    html = response.content.decode()
    assert html.startswith('<ul class="chat-log" id="chat-log"')
    assert "Message deleted." in html and "oops" not in html


def test_react_toggles_and_only_offered_emoji(personas: Personas):
    message = _post(personas, "owner", body="ship it")
    client = page_client(personas, "member")
    url = f"{BASE}/chat/messages/{message.pk}"
    client.post(url, {"action": "react", "emoji": "🎉"})
    assert list(Reaction.objects.values_list("emoji", "user__username")) == [("🎉", "mary")]
    html = client.get(f"{BASE}/chat").content.decode()
    assert "🎉 1" in html
    client.post(url, {"action": "react", "emoji": "🎉"})
    assert not Reaction.objects.exists()
    response = client.post(url, {"action": "react", "emoji": "not an emoji"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert page_client(personas, "viewer").post(url, {"action": "react", "emoji": "🎉"}).status_code == 403
    assert not Reaction.objects.exists()


def test_message_of_another_project_is_404(personas: Personas):
    other = ProjectFactory(owner_user=personas.member, key="MINE", name="Mine")
    message = chat_services.message_post(user=personas.member, project=other, body="elsewhere")
    response = page_client(personas, "member").post(f"{BASE}/chat/messages/{message.pk}", {"action": "delete"})
    assert response.status_code == 404
    assert (
        page_client(personas, "member").post(f"{BASE}/chat/messages/99999999", {"action": "delete"}).status_code == 404
    )
    message.refresh_from_db()
    assert message.deleted_at is None


def test_load_older_messages(personas: Personas):
    from web.views.chat import HISTORY

    posted = [_post(personas, body=f"message number {i}") for i in range(HISTORY + 5)]
    client = page_client(personas, "member")
    html = client.get(f"{BASE}/chat").content.decode()
    oldest_shown = posted[5]
    assert "message number 4<" not in html and f"message number {HISTORY + 4}<" in html
    assert f'href="?before={oldest_shown.pk}"' in html and "Load older messages" in html

    # htmx asks for just the older page, to put on top of the list.
    older = client.get(f"{BASE}/chat?before={oldest_shown.pk}", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in older and "<ul" not in older
    assert [f"message number {i}<" in older for i in range(5)] == [True] * 5
    assert "message number 5<" not in older and "Load older messages" not in older

    # Without JavaScript the link opens a page of history with a way back to the latest.
    page = client.get(f"{BASE}/chat?before={oldest_shown.pk}").content.decode()
    assert "message number 0<" in page and "Jump to the latest messages" in page and "data-paged-back" in page


def test_odd_before_values_show_the_latest(personas: Personas):
    _post(personas, body="latest one")
    client = page_client(personas, "member")
    for value in ("abc", "-1", "9" * 40, ""):
        response = client.get(f"{BASE}/chat", {"before": value})
        assert response.status_code == 200 and "latest one" in response.content.decode()


def test_chat_page_query_count_does_not_grow_with_messages(personas: Personas):
    for i in range(3):
        message = _post(personas, body=f"m{i}")
        chat_services.reaction_toggle(user=personas.owner, message=message, emoji="👍")
    client = page_client(personas, "member")
    client.get(f"{BASE}/chat")  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        client.get(f"{BASE}/chat")
    for i in range(20):
        author = MembershipFactory(
            project=personas.project, user=UserFactory(username=f"poster{i}"), role=Membership.Role.MEMBER
        ).user
        message = chat_services.message_post(user=author, project=personas.project, body=f"n{i}")
        chat_services.reaction_toggle(user=personas.admin, message=message, emoji="🎉")
    with CaptureQueriesContext(connection) as many:
        client.get(f"{BASE}/chat")
    assert len(many.captured_queries) == len(few.captured_queries)


def test_conversation_message_actions(personas: Personas):
    client = page_client(personas, "member")
    url = client.post("/messages/", {"usernames": "olivia"})["Location"]
    client.post(url, {"body": "Hi Olivai"})
    message = Message.objects.get(body="Hi Olivai")
    action_url = f"{url}/messages/{message.pk}"
    assert f'action="{action_url}"' in client.get(url).content.decode()
    response = client.post(action_url, {"action": "edit", "body": "Hi Olivia"})
    assert response.status_code == 302 and response["Location"] == f"{url}#message-{message.pk}"
    owner = page_client(personas, "owner")
    assert owner.post(action_url, {"action": "react", "emoji": "👍"}).status_code == 302
    # The other person may react but neither edit nor delete it; outsiders cannot tell it exists.
    assert owner.post(action_url, {"action": "delete"}, HTTP_HX_REQUEST="true").status_code == 403
    assert page_client(personas, "outsider").post(action_url, {"action": "delete"}).status_code == 404
    message.refresh_from_db()
    assert message.body == "Hi Olivia" and message.deleted_at is None and message.reactions.count() == 1
    assert client.post(action_url, {"action": "delete"}).status_code == 302
    message.refresh_from_db()
    assert message.deleted_at is not None


def test_since_keeps_loaded_history_on_redraws(personas: Personas):
    from web.views.chat import HISTORY

    posted = [_post(personas, body=f"line {i}") for i in range(HISTORY + 10)]
    client = page_client(personas, "member")
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "chat-log"}
    # The page had loaded back to line 3: a live redraw keeps lines 3.. and says more lie before.
    html = client.get(f"{BASE}/chat", {"since": posted[3].pk}, **headers).content.decode()
    assert "line 3<" in html and "line 2<" not in html and f"line {HISTORY + 9}<" in html
    assert f'href="?before={posted[3].pk}"' in html and "data-expanded" in html
    # An action posted with ?since answers the same way.
    response = client.post(f"{BASE}/chat/messages/{posted[5].pk}?since={posted[3].pk}", {"action": "delete"}, **headers)
    html = response.content.decode()
    assert "line 3<" in html and "line 5<" not in html and "Message deleted." in html
    # From the very first message there is nothing older to offer.
    html = client.get(f"{BASE}/chat", {"since": posted[0].pk}, **headers).content.decode()
    assert "line 0<" in html and "Load older messages" not in html


def test_since_past_the_cap_falls_back_to_the_latest_page(personas: Personas, monkeypatch):
    import web.views.chat

    monkeypatch.setattr(web.views.chat, "KEEP_LOADED", 5)
    posted = [_post(personas, body=f"line {i}") for i in range(12)]
    html = (
        page_client(personas, "member")
        .get(f"{BASE}/chat", {"since": posted[0].pk}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="chat-log")
        .content.decode()
    )
    assert "line 0<" in html and "line 11<" in html and "data-expanded" not in html
