"""Incoming chat webhooks: tokens managed by project admins, `POST /api/v1/webhooks/<token>`."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from django.test import Client

from chat.models import Message
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
    assert message.body == "**CI**: Deployment to staging succeeded 🚀"
    # Posted through chat's own service, as the admin who created the webhook (as Mattermost does).
    assert message.author == personas.admin
    assert "<strong>CI</strong>" in message.body_html
    assert personas.client("admin").get(HOOKS).json()[0]["last_used_at"] is not None
    history = personas.client("viewer").get("/api/v1/projects/blog/chat/messages").json()
    assert [item["id"] for item in history["results"]] == [message.pk]


def test_sender_defaults_to_the_webhook_name_and_cannot_inject_markdown(personas):
    webhook = make_webhook(personas, "Deploy bot")
    assert post(webhook["url"], {"text": "done"}).status_code == 201
    assert post(webhook["url"], {"text": "done", "username": "**@olivia** [x](y)"}).status_code == 201
    assert list(Message.objects.order_by("id").values_list("body", flat=True)) == [
        "**Deploy bot**: done",
        "**olivia xy**: done",
    ]


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
    assert post(webhook["url"], b"not json").status_code == 400
    assert post(webhook["url"], ["a list"]).status_code == 400
    missing = post(webhook["url"], {"username": "CI"})
    assert missing.status_code == 400
    assert missing.json()["details"][0]["field"] == "text"
    assert not Message.objects.exists()


def test_json_nested_too_deep_is_400_and_nul_is_dropped(personas):
    webhook = make_webhook(personas)
    assert post(webhook["url"], b"[" * 30_000 + b"]" * 30_000).status_code == 400
    assert post(webhook["url"], {"text": "a\u0000b"}).status_code == 201
    assert Message.objects.get().body == "**CI**: ab"


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
