"""A message an incoming chat webhook posts reaches the project socket as from the webhook."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from tests.realtime.conftest import TIMEOUT, jwt_for, ws_project
from webhooks import services

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_webhook_message_reaches_the_socket_with_the_webhooks_name(personas):
    _webhook, token = await database_sync_to_async(services.chat_webhook_create)(
        project=personas.project, name="Deploy bot", by=personas.admin
    )
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")

    def post() -> int:
        body = json.dumps({"status": "deployed", "environment": "staging"})
        return Client().post(f"/api/v1/webhooks/{token}", data=body, content_type="application/json").status_code

    assert await database_sync_to_async(post)() == 201
    event = await socket.receive_json_from(timeout=TIMEOUT)
    assert event["type"] == "chat.message"
    payload = event["payload"]
    assert (payload["author"], payload["author_name"], payload["bot"]) == (None, "Deploy bot", True)
    assert payload["body"] == "**deployed**\n\n- environment: staging"
    await socket.disconnect()
