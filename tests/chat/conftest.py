from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers, get_channel_layer

from accounts.models import ApiKey, hash_api_key
from chat.models import Message
from chat.rendering import render_markdown

CHAT = "/api/v1/projects/blog/chat/messages"


def chat_url(message_id: int | None = None, suffix: str = "") -> str:
    return CHAT if message_id is None else f"{CHAT}/{message_id}{suffix}"


def make_messages(author: Any, count: int, *, project: Any = None, conversation: Any = None) -> list[Message]:
    """Rows for history tests (the behaviour under test is reading them, through HTTP)."""
    return [
        Message.objects.create(
            project=project,
            conversation=conversation,
            author=author,
            body=f"message {i}",
            body_html=render_markdown(f"message {i}"),
        )
        for i in range(count)
    ]


def api_key(user: Any, scopes: list[str]) -> str:
    raw = f"punt_chat_test_{user.username}_{'_'.join(scopes) or 'all'}"
    ApiKey.objects.create(user=user, name="test", prefix=raw[:12], hashed_key=hash_api_key(raw), scopes=scopes)
    return raw


def next_event(channel: str, wanted: str | None = None, timeout: float = 3) -> dict:
    """The next bus message on `channel` (of type `wanted`, skipping others); fails after `timeout`."""
    layer = get_channel_layer()

    async def receive() -> dict:
        while True:
            message = await asyncio.wait_for(layer.receive(channel), timeout=timeout)
            if wanted is None or message["event"] == wanted:
                return message

    return async_to_sync(receive)()


def listen(group: str) -> str:
    """A fresh channel subscribed to `group` ("project.<id>" or "user.<id>")."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    return channel


@pytest.fixture
def fresh_layer():
    """A new in-memory channel layer per test: its queues belong to one event loop."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()
