"""Incoming chat webhooks: tokens managed by project admins, `POST /api/v1/webhooks/<token>`."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from django.test import Client

from chat.models import MESSAGE_MAX_LENGTH, Message
from notifications.models import Notification
from tests.web.conftest import page_client
from webhooks.models import ChatWebhook

HOOKS = "/api/v1/projects/blog/chat-webhooks"


def make_webhook(personas, name: str = "CI") -> dict:
    response = personas.client("admin").post(HOOKS, {"name": name}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def post(url: str, body: object) -> object:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return Client().post(urlsplit(url).path, data=data, content_type="application/json")


def test_chat_webhooks_role_matrix(personas):
    assert personas.matrix("post", HOOKS, {"name": "CI"}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 403,
        "admin": 201,
        "owner": 201,
    }
    assert personas.matrix("get", HOOKS) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 403,
        "admin": 200,
        "owner": 200,
    }


def test_token_is_shown_once_and_stored_hashed(personas, settings):
    settings.SITE_URL = "https://punt.example.com"
    created = make_webhook(personas, "Deploy bot")
    token = created["token"]
    assert created["url"] == f"https://punt.example.com/api/v1/webhooks/{token}"
    assert created["token_prefix"] == token[:10]
    webhook = ChatWebhook.objects.get()
    assert token not in (webhook.token_hash, webhook.token_prefix)
    listed = personas.client("admin").get(HOOKS).json()
    assert [w["name"] for w in listed] == ["Deploy bot"]
    assert "token" not in listed[0] and "url" not in listed[0]


def test_blank_name_is_400(personas):
    response = personas.client("admin").post(HOOKS, {"name": "  "}, format="json")
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "name"


def test_post_puts_a_message_in_the_project_chat(personas):
    webhook = make_webhook(personas)
    response = post(webhook["url"], {"text": "Deployment to staging succeeded 🚀", "username": "CI"})
    assert response.status_code == 201, response.content
    message = Message.objects.get(pk=response.json()["message_id"])
    assert message.project == personas.project
    assert message.body == "Deployment to staging succeeded 🚀"
    # From the webhook (its name), not from the admin who created it.
    assert (message.author, message.author_name) == (None, "CI")
    assert personas.client("admin").get(HOOKS).json()[0]["last_used_at"] is not None
    history = personas.client("viewer").get("/api/v1/projects/blog/chat/messages").json()
    assert [item["id"] for item in history["results"]] == [message.pk]


def test_sender_defaults_to_the_webhook_name_and_cannot_inject_markdown(personas):
    webhook = make_webhook(personas, "Deploy bot")
    assert post(webhook["url"], {"text": "done"}).status_code == 201
    assert post(webhook["url"], {"text": "done", "username": "**@olivia** [x](y)"}).status_code == 201
    assert post(webhook["url"], {"text": "done", "username": "deploy BOT"}).status_code == 201
    messages = Message.objects.order_by("id")
    assert [message.body for message in messages] == ["done", "**olivia xy**: done", "done"]
    assert {message.author_name for message in messages} == {"Deploy bot"}


def test_webhook_of_a_creator_who_left_stops_posting(personas):
    webhook = make_webhook(personas)
    personas.project.memberships.filter(user=personas.admin).delete()
    response = post(webhook["url"], {"text": "hi"})
    assert response.status_code == 409
    assert "create a new one" in response.json()["error"]
    assert not Message.objects.exists()


def test_posts_are_counted_in_the_metrics(personas, counted):
    webhook = make_webhook(personas)
    assert post(webhook["url"], {"text": "hi"}).status_code == 201
    personas.project.memberships.filter(user=personas.admin).delete()
    assert post(webhook["url"], {"text": "hi"}).status_code == 409
    assert counted == [("chat", "posted"), ("chat", "orphaned")]


def test_unknown_and_revoked_tokens_are_404(personas):
    webhook = make_webhook(personas)
    assert post("/api/v1/webhooks/pcw_nope", {"text": "hi"}).status_code == 404
    assert personas.client("member").delete(f"{HOOKS}/{webhook['id']}").status_code == 403
    assert personas.client("admin").delete(f"{HOOKS}/{webhook['id']}").status_code == 204
    assert post(webhook["url"], {"text": "hi"}).status_code == 404
    assert not Message.objects.exists()


def test_bad_bodies(personas, settings):
    settings.PUNT_CHAT_WEBHOOK_MAX_BYTES = 1024
    webhook = make_webhook(personas)
    assert post(webhook["url"], {"text": "x" * 2000}).status_code == 413
    not_json = post(webhook["url"], b"not json")
    assert not_json.status_code == 400
    assert not_json.json() == {"error": "The body is not valid JSON."}
    assert post(webhook["url"], b"").status_code == 400
    assert not Message.objects.exists()


def test_json_nested_too_deep_is_400_and_nul_is_dropped(personas):
    webhook = make_webhook(personas)
    assert post(webhook["url"], b"[" * 30_000 + b"]" * 30_000).status_code == 400
    assert post(webhook["url"], {"text": "a\u0000b"}).status_code == 201
    assert Message.objects.get().body == "ab"


def test_rate_limit_per_token(personas, settings):
    settings.PUNT_CHAT_WEBHOOK_RATE_PER_MINUTE = 2
    first, second = make_webhook(personas, "one"), make_webhook(personas, "two")
    assert post(first["url"], {"text": "1"}).status_code == 201
    assert post(first["url"], {"text": "2"}).status_code == 201
    limited = post(first["url"], {"text": "3"})
    assert limited.status_code == 429
    assert limited.has_header("Retry-After")
    # Another token has its own budget.
    assert post(second["url"], {"text": "4"}).status_code == 201


# --------------------------------------------------------------------------- any JSON (seed 004)


def test_any_json_object_becomes_a_readable_message(personas):
    webhook = make_webhook(personas, "Deploy bot")
    payload = {
        "event": "deployment",
        "status": "succeeded",
        "environment": "staging",
        "build": 4242,
        "ok": True,
        "commit": {"sha": "6113728", "message": "BLOG-1 ship it"},
        "tags": ["web", "api"],
        "note": "two\nlines",
        "missing": None,
    }
    response = post(webhook["url"], payload)
    assert response.status_code == 201, response.content
    message = Message.objects.get(pk=response.json()["message_id"])
    assert message.body == "\n".join(
        [
            "**deployment · succeeded**",
            "",
            "- environment: staging",
            "- build: 4242",
            "- ok: true",
            '- commit: {"sha":"6113728","message":"BLOG-1 ship it"}',
            '- tags: ["web","api"]',
            "- note: two lines",
            "- missing: null",
        ]
    )
    assert message.body_html.startswith("<p><strong>deployment · succeeded</strong></p>\n<ul>")
    assert "<li>environment: staging</li>" in message.body_html
    assert (message.author, message.author_name) == (None, "Deploy bot")


@pytest.mark.parametrize(
    ("payload", "body"),
    [
        ({"action": "opened", "title": "Nightly build", "repo": "blog"}, "**opened · Nightly build**\n\n- repo: blog"),
        ({"username": "CI", "status": "failed"}, "**CI**: **failed**"),
        ({"text": "", "username": "Deploy bot", "stage": "lint"}, "- stage: lint"),
        ({"text": 12}, "- text: 12"),
        ({}, "(empty JSON payload)"),
        (["build started", {"step": 1}, 2], '- build started\n- {"step":1}\n- 2'),
        ([], "(empty JSON payload)"),
        ("just a string", "just a string"),
        (42, "42"),
        (True, "true"),
        (None, "null"),
    ],
)
def test_objects_without_text_arrays_and_scalars_become_messages(personas, payload, body):
    webhook = make_webhook(personas, "Deploy bot")
    response = post(webhook["url"], json.dumps(payload))
    assert response.status_code == 201, response.content
    assert Message.objects.get().body == body


def test_a_summary_is_bounded(personas):
    webhook = make_webhook(personas)
    payload = {f"field{n}": "v" * 1000 for n in range(60)}
    response = post(webhook["url"], payload)
    assert response.status_code == 201, response.content
    body = Message.objects.get().body
    assert len(body) <= MESSAGE_MAX_LENGTH
    assert body.splitlines()[0] == "- field0: " + "v" * 299 + "…"
    assert body.splitlines()[-1].startswith("- … and ") and body.endswith("more fields")


def test_a_written_text_over_the_limit_is_400_naming_it(personas):
    webhook = make_webhook(personas)
    response = post(webhook["url"], {"text": "x" * (MESSAGE_MAX_LENGTH + 1)})
    assert response.status_code == 400
    assert response.json()["details"] == [
        {"field": "text", "message": f"Ensure this field has no more than {MESSAGE_MAX_LENGTH} characters."}
    ]
    # At the limit, a lead naming another sender still fits: the text is cut to make room.
    assert post(webhook["url"], {"text": "y" * MESSAGE_MAX_LENGTH, "username": "Nightly"}).status_code == 201
    body = Message.objects.get().body
    assert body.startswith("**Nightly**: yyy") and body.endswith("…") and len(body) == MESSAGE_MAX_LENGTH


def test_scripts_are_sanitized_like_any_message(personas):
    webhook = make_webhook(personas, "<b>Evil</b> bot")
    script = "<script>alert(1)</script>"
    assert post(webhook["url"], {"text": f"hi {script}"}).status_code == 201
    assert (
        post(webhook["url"], {"event": script, f"key{script}": f"<img src=x onerror=alert(1)>{script}"}).status_code
        == 201
    )
    for message in Message.objects.all():
        assert "<script" not in message.body_html
        assert "alert(1)" not in message.body_html
        assert "onerror" not in message.body_html
    page = page_client(personas, "viewer").get("/projects/olivia/blog/chat").content.decode()
    assert "<script>alert(1)" not in page
    assert "onerror=alert" not in page
    # The webhook's name is text, escaped wherever it is shown.
    assert "&lt;b&gt;Evil&lt;/b&gt; bot" in page
    assert "<b>Evil</b> bot" not in page


def test_every_read_shape_shows_the_webhook_as_the_sender(personas, published):
    webhook = make_webhook(personas, "Deploy bot")
    message_id = post(webhook["url"], {"text": "Deployed @mary", "username": "CI"}).json()["message_id"]

    history = personas.client("member").get("/api/v1/projects/blog/chat/messages").json()["results"]
    assert len(history) == 1
    item = history[0]
    assert (item["id"], item["author"], item["author_name"], item["bot"]) == (message_id, None, "Deploy bot", True)
    assert item["body"] == "**CI**: Deployed @mary"

    events = [payload for name, payload, _project in published if name == "chat.message"]
    assert [(e["id"], e["author"], e["author_name"], e["bot"]) for e in events] == [
        (message_id, None, "Deploy bot", True)
    ]

    page = page_client(personas, "member").get("/projects/olivia/blog/chat").content.decode()
    assert '<strong>Deploy bot</strong> <span class="pill" data-bot>bot</span>' in page
    # Not shown as the admin who created the webhook.
    assert "Adam" not in page.split(f'id="message-{message_id}"')[1].split("</li>")[0]

    # A person's message keeps its author.
    personas.client("member").post("/api/v1/projects/blog/chat/messages", {"body": "thanks"}, format="json")
    newest = personas.client("member").get("/api/v1/projects/blog/chat/messages").json()["results"][0]
    assert (newest["author"]["username"], newest["author_name"], newest["bot"]) == ("mary", "Mary", False)


def test_mentions_from_a_webhook_notify_with_its_name(personas):
    webhook = make_webhook(personas, "Deploy bot")
    assert post(webhook["url"], {"text": "Deployed, @mary please check"}).status_code == 201
    notification = Notification.objects.get(recipient=personas.member)
    assert notification.actor is None
    assert notification.text == "Deploy bot mentioned you in BLOG chat"


def test_a_webhooks_message_is_moderated_like_any_other(personas):
    webhook = make_webhook(personas)
    message_id = post(webhook["url"], {"text": "hi"}).json()["message_id"]
    url = f"/api/v1/projects/blog/chat/messages/{message_id}"
    # Nobody wrote it, so nobody edits it; members cannot delete it, admins can.
    assert personas.client("admin").put(url, {"body": "edited"}, format="json").status_code == 403
    assert personas.client("member").delete(url).status_code == 403
    assert personas.client("admin").delete(url).status_code == 204
    assert Message.objects.get().is_deleted


def test_a_webhooks_messages_are_unread_for_everyone(personas):
    webhook = make_webhook(personas)
    post(webhook["url"], {"text": "one"})
    post(webhook["url"], {"status": "two"})
    unread = personas.client("admin").get("/api/v1/chat/unread").json()
    assert unread["projects"]["blog"] == 2
