"""The inbox: the top bar's bell and Messages badge, the notifications page, the live fragments."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import services as chat_services
from notifications.models import Notification
from notifications.services import notify
from tests.conftest import Personas
from tests.factories import UserFactory
from tests.web.conftest import page_client, page_matrix
from tickets import services as ticket_services

pytestmark = pytest.mark.django_db

BASE = "/projects/olivia/blog"


def badge(html: str, name: str) -> str | None:
    """The number a top-bar badge shows, or None when it is hidden."""
    match = re.search(rf'<span class="inbox-badge" data-inbox-count="{name}"( hidden)?>(\d+)</span>', html)
    assert match, f"no {name} badge"
    return None if match.group(1) else match.group(2)


def tell(personas: Personas, text: str, *, who=None) -> Notification:
    [notification] = notify(
        recipients=[who or personas.member], kind="mention", actor=personas.owner, text=text, url=f"{BASE}/tickets/1"
    )
    return notification


def inbox_queries(ctx: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in ctx.captured_queries
        if "notifications_notification" in q["sql"] or "chat_conversationmember" in q["sql"]
    ]


# --------------------------------------------------------------------------- the top bar


def test_bell_and_messages_badge_show_unread_counts(personas: Personas):
    client = page_client(personas, "member")
    html = client.get("/projects/").content.decode()
    assert badge(html, "notifications") is None and badge(html, "messages") is None
    assert 'href="/notifications/"' in html

    tell(personas, "one")
    tell(personas, "two")
    conversation, _ = chat_services.conversation_open(user=personas.owner, usernames=["mary"])
    chat_services.conversation_message_post(user=personas.owner, conversation=conversation, body="hi")
    chat_services.conversation_message_post(user=personas.owner, conversation=conversation, body="again")
    html = client.get("/projects/").content.decode()
    # Two notifications plus one per direct message; one conversation with unread messages.
    assert badge(html, "notifications") == "4"
    assert badge(html, "messages") == "1"
    assert 'aria-label="Notifications, 4 unread"' in html

    # Reading the conversation clears the badge and its messages' notifications; the sender's
    # own messages never count.
    client.get(f"/messages/{conversation.pk}")
    html = client.get("/projects/").content.decode()
    assert badge(html, "messages") is None
    assert badge(html, "notifications") == "2"
    assert badge(page_client(personas, "owner").get("/projects/").content.decode(), "messages") is None


def test_top_bar_costs_two_queries_whatever_the_counts(personas: Personas):
    client = page_client(personas, "member")
    client.get("/projects/")

    def measure() -> CaptureQueriesContext:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/projects/").status_code == 200
        return ctx

    few = measure()
    for i in range(15):
        tell(personas, f"note {i}")
        other = UserFactory(username=f"friend{i}")
        conversation, _ = chat_services.conversation_open(user=other, usernames=["mary"])
        chat_services.conversation_message_post(user=other, conversation=conversation, body="hello")
    many = measure()
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(inbox_queries(many)) == 2
    assert badge(client.get("/projects/").content.decode(), "messages") == "15"


def test_fragments_and_signed_out_pages_cost_no_inbox_query(personas: Personas):
    client = page_client(personas, "member")
    with CaptureQueriesContext(connection) as ctx:
        client.get(f"{BASE}/chat", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="chat-log")
    assert inbox_queries(ctx) == []
    with CaptureQueriesContext(connection) as ctx:
        html = page_client(personas, "anonymous").get("/login/").content.decode()
    assert inbox_queries(ctx) == [] and "inbox-badge" not in html


def test_counts_endpoint(personas: Personas):
    tell(personas, "x")
    response = page_client(personas, "member").get("/inbox/counts")
    assert response.json() == {"notifications": 1, "messages": 0}
    assert response["Cache-Control"] == "no-store"
    assert page_client(personas, "anonymous").get("/inbox/counts").status_code == 302


# --------------------------------------------------------------------------- the notifications page


def test_notifications_page_role_matrix(personas: Personas):
    # Everyone signed in has an inbox of their own; signed out goes to the sign-in page.
    assert page_matrix(personas, "GET", "/notifications/") == {
        "anonymous": 302,
        "outsider": 200,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_mark_read_only_the_recipient(personas: Personas):
    notification = tell(personas, "for mary")
    url = f"/notifications/{notification.pk}/read"
    assert page_matrix(personas, "POST", url) == {
        "anonymous": 302,
        "outsider": 404,
        "viewer": 404,
        "admin": 404,
        "owner": 404,
        "member": 302,
    }
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_page_shows_only_mine_rendered_and_filters_unread(personas: Personas):
    read = tell(personas, "an **old** one")
    tell(personas, "olivia mentioned you in BLOG-1: can you **look** at `this`?")
    tell(personas, "not for mary", who=personas.admin)
    client = page_client(personas, "member")
    client.post(f"/notifications/{read.pk}/read")

    html = client.get("/notifications/").content.decode()
    assert "can you <strong>look</strong> at <code>this</code>?" in html
    assert "an <strong>old</strong> one" in html
    assert "not for mary" not in html
    assert "**" not in html

    unread = client.get("/notifications/?show=unread").content.decode()
    assert "<strong>look</strong>" in unread and "old" not in unread

    # Each item jumps to its place and marks it read.
    newest = Notification.objects.filter(recipient=personas.member).order_by("-id").first()
    assert f'href="/notifications/{newest.pk}"' in html
    response = client.get(f"/notifications/{newest.pk}")
    assert response.status_code == 302 and response["Location"] == f"{BASE}/tickets/1"
    newest.refresh_from_db()
    assert newest.read_at is not None


def test_notification_text_is_never_html(personas: Personas):
    tell(personas, 'x <script>alert(1)</script> <img src=x onerror="alert(2)"> [y](javascript:alert(3)) **ok**')
    client = page_client(personas, "member")
    for url in ("/notifications/", "/"):
        html = client.get(url).content.decode()
        assert "<strong>ok</strong>" in html
        assert "alert(1)" not in html and "onerror" not in html and "javascript:" not in html
        assert "<img src=x" not in html


def test_mark_read_over_htmx_returns_the_list(personas: Personas):
    notification = tell(personas, "one")
    tell(personas, "two")
    client = page_client(personas, "member")
    response = client.post(f"/notifications/{notification.pk}/read?show=unread", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.startswith('<div id="notification-list"')
    assert "two" in html and ">one<" not in html


def test_mark_all_read_goes_back_where_it_was(personas: Personas):
    tell(personas, "one")
    client = page_client(personas, "member")
    response = client.post("/notifications/read-all", {"next": "/notifications/?show=unread"})
    assert response["Location"] == "/notifications/?show=unread"
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    assert client.post("/notifications/read-all", {"next": "https://evil.example/"})["Location"] == "/"


def test_notifications_page_query_count_does_not_grow(personas: Personas):
    client = page_client(personas, "member")
    tell(personas, "first")
    client.get("/notifications/")
    with CaptureQueriesContext(connection) as few:
        client.get("/notifications/")
    for i in range(30):
        actor = UserFactory(username=f"actor{i}")
        notify(recipients=[personas.member], kind="mention", actor=actor, text=f"**n{i}**")
    with CaptureQueriesContext(connection) as many:
        html = client.get("/notifications/").content.decode()
    assert "<strong>n29</strong>" in html
    assert len(many.captured_queries) == len(few.captured_queries)


def test_older_notifications_page_back(personas: Personas, monkeypatch):
    monkeypatch.setattr("web.views.inbox.PAGE", 2)
    created = [tell(personas, f"note{i}") for i in range(3)]
    client = page_client(personas, "member")
    html = client.get("/notifications/").content.decode()
    assert "note2" in html and "note1" in html and "note0" not in html
    assert f"before={created[1].pk}" in html
    older = client.get(f"/notifications/?before={created[1].pk}").content.decode()
    assert "note0" in older and "note2" not in older


# --------------------------------------------------------------------------- live fragments


def test_live_fragments(personas: Personas):
    tell(personas, "**live**")
    client = page_client(personas, "member")
    home = client.get("/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="notifications").content.decode()
    assert home.startswith('<section class="card-box" id="notifications"')
    assert "<strong>live</strong>" in home and "Assigned to me" not in home

    page = client.get("/notifications/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="notification-list")
    assert page.content.decode().startswith('<div id="notification-list"')

    conversation, _ = chat_services.conversation_open(user=personas.owner, usernames=["mary"])
    chat_services.conversation_message_post(user=personas.owner, conversation=conversation, body="ping")
    listed = client.get("/messages/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="conversation-list").content.decode()
    assert listed.lstrip().startswith("{#") is False and 'id="conversation-list"' in listed
    assert "1 new" in listed and "<h1>" not in listed
    # From the conversation's own page the list comes back with it read.
    here = client.get(
        f"/messages/{conversation.pk}", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="conversation-list"
    ).content.decode()
    assert "new" not in here and 'aria-current="page"' in here


def test_topics_fragment_is_live_and_private(personas: Personas):
    chat_services.topic_create(user=personas.owner, project=personas.project, title="Release plan")
    member = page_client(personas, "member")
    html = member.get(f"{BASE}/chat", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="topics").content.decode()
    assert html.lstrip().startswith("{#") is False and 'id="topics"' in html and "Release plan" in html
    assert "chat-log" not in html
    outsider = page_client(personas, "outsider")
    assert outsider.get(f"{BASE}/chat", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="topics").status_code == 404


def test_topics_fragment_query_count_does_not_grow(personas: Personas):
    client = page_client(personas, "member")
    chat_services.topic_create(user=personas.owner, project=personas.project, title="T0")

    def measure() -> int:
        with CaptureQueriesContext(connection) as ctx:
            client.get(f"{BASE}/chat", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="topics")
        return len(ctx.captured_queries)

    few = measure()
    for i in range(10):
        topic = chat_services.topic_create(user=personas.owner, project=personas.project, title=f"T{i + 1}")
        chat_services.topic_reply(user=personas.admin, topic=topic, body="reply")
    assert measure() == few


def test_one_comment_one_notification_on_the_page(personas: Personas):
    ticket = ticket_services.ticket_create(project=personas.project, by=personas.member, title="Flaky")
    ticket_services.comment_create(ticket=ticket, by=personas.owner, body="@mary please **check**")
    html = page_client(personas, "member").get("/notifications/").content.decode()
    assert html.count('class="inbox-item unread"') == 1
    assert "please <strong>check</strong>" in html
