"""A project socket's first frame is its presence.state; joins and leaves follow it, each once.

A socket joins its project's group before it reads who is present (so no change falls in
between), and another socket's announcement can arrive in that window. These tests put one
there on purpose: another user connects while the socket reads the presence state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from accounts.serializers import user_brief
from punt.events import MESSAGE_TYPE, project_group, send_to_groups
from punt.realtime.presence import presence
from tests.realtime.conftest import TIMEOUT, jwt_for, nothing_more, ws_connect, ws_project

pytestmark = pytest.mark.django_db(transaction=True)


def during_the_state_read(monkeypatch, hook: Callable[[], Awaitable[None]], *, before: bool) -> None:
    """Run `hook` once, inside the next socket's reading of the presence state (before or after it reads)."""
    real_user_ids = presence.user_ids
    fired = False

    async def user_ids(project_id: int) -> set[int]:
        nonlocal fired
        if fired:
            return await real_user_ids(project_id)
        fired = True
        if before:
            await hook()
            return await real_user_ids(project_id)
        ids = await real_user_ids(project_id)
        await hook()
        return ids

    monkeypatch.setattr(presence, "user_ids", user_ids)


async def wait_for_join(observer: Any, user: Any) -> None:
    """Until `observer` got `user`'s join: then the fan-out has handed it to the project's sockets."""
    message = await observer.receive_json_from(timeout=TIMEOUT)
    assert message == {"type": "presence.join", "payload": {"user_id": user.pk, "user": user_brief(user)}}
    await asyncio.sleep(0.1)


async def test_a_join_arriving_while_the_socket_reads_the_state_comes_after_the_state(personas, monkeypatch):
    observer = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.owner)}")
    late: list[Any] = []

    async def adam_connects() -> None:
        late.append(await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.admin)}"))
        await wait_for_join(observer, personas.admin)

    during_the_state_read(monkeypatch, adam_connects, before=False)
    mary = await ws_connect(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")

    state = await mary.receive_json_from(timeout=TIMEOUT)
    assert state["type"] == "presence.state", state
    assert [user["username"] for user in state["payload"]["users"]] == ["mary", "olivia"]
    assert await mary.receive_json_from(timeout=TIMEOUT) == {
        "type": "presence.join",
        "payload": {"user_id": personas.admin.pk, "user": user_brief(personas.admin)},
    }
    await nothing_more(mary)
    for socket in (observer, mary, *late):
        await socket.disconnect()


async def test_a_join_the_state_already_counts_is_not_sent_again(personas, monkeypatch):
    observer = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.owner)}")
    late: list[Any] = []

    async def adam_connects() -> None:
        late.append(await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.admin)}"))
        await wait_for_join(observer, personas.admin)

    during_the_state_read(monkeypatch, adam_connects, before=True)
    mary = await ws_connect(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")

    state = await mary.receive_json_from(timeout=TIMEOUT)
    assert state["type"] == "presence.state", state
    assert [user["username"] for user in state["payload"]["users"]] == ["adam", "mary", "olivia"]
    await nothing_more(mary)
    for socket in (observer, mary, *late):
        await socket.disconnect()


async def announce(personas, event: str, user: Any) -> None:
    """A join or leave as another process announces it (it may arrive late through Redis)."""
    message = {
        "type": MESSAGE_TYPE,
        "event": event,
        "payload": {"user_id": user.pk, "user": user_brief(user)},
        "project_id": personas.project.pk,
        "tab_id": None,
        "actor_id": user.pk,
        "origin": "specific.elsewhere!abc",
    }
    await send_to_groups([project_group(personas.project.pk)], message)


async def test_joins_and_leaves_change_what_the_client_knows_or_are_not_sent(personas):
    mary = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")

    await announce(personas, "presence.join", personas.member)  # mary is in her own state
    await announce(personas, "presence.leave", personas.admin)  # adam was never here
    await nothing_more(mary)

    await announce(personas, "presence.join", personas.admin)
    await announce(personas, "presence.join", personas.admin)
    await announce(personas, "presence.leave", personas.admin)
    await announce(personas, "presence.leave", personas.admin)
    assert [(await mary.receive_json_from(timeout=TIMEOUT))["type"] for _ in range(2)] == [
        "presence.join",
        "presence.leave",
    ]
    await nothing_more(mary)
    await mary.disconnect()
